import type { ObjectReader } from './reader.js';
import type { UniqueValues } from './unique.js';

/** Rule ids appear in RULE_MATCH reasons and events, so in strict mode each must name exactly one rule. */
export function readRuleId(rule: ObjectReader, ids: UniqueValues): void {
  const id = rule.string('id');
  if (!rule.c.strict || id === undefined) return;
  if (id === '') rule.c.fail(rule.at('id'), 'a rule id must not be empty');
  else ids.add(rule.at('id'), id);
}
