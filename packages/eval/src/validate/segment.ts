import type { Segment } from '../model/segment.js';
import { readClause } from './clause.js';
import { type ObjectReader, readObject } from './reader.js';
import { checkAttributeReference, checkContextKind, checkItemKey } from './references.js';
import type { ValidationOptions, ValidationResult } from './result.js';
import { FULL_WEIGHT } from './rollout.js';
import { readRuleId } from './ruleId.js';
import { runValidation } from './run.js';
import { UniqueValues } from './unique.js';

/**
 * Validates untrusted segment JSON (spec §1.3). On success the value is a copy of the input without its
 * null optional properties; clause values and unknown properties are shared with the input.
 */
export function validateSegment(input: unknown, options?: ValidationOptions): ValidationResult<Segment> {
  return runValidation<Segment>(input, options, 'a segment', readSegment);
}

function readSegment(segment: ObjectReader): void {
  const { c } = segment;
  const key = segment.string('key', 'always');
  segment.integer('version', 'always', 0);
  segment.boolean('deleted');
  if (c.strict && key !== undefined) checkItemKey(c, segment.at('key'), key, 'segment');

  segment.stringArray('included');
  segment.stringArray('excluded');
  const readTarget = (value: unknown, path: string) =>
    readObject(c, path, value, 'a context target', (target) => {
      const kind = target.string('contextKind', 'required');
      if (c.strict && kind !== undefined) checkContextKind(c, target.at('contextKind'), kind);
      target.stringArray('values', 'required');
    });
  segment.array('includedContexts', 'optional', readTarget);
  segment.array('excludedContexts', 'optional', readTarget);
  readRules(segment, key);

  segment.string('salt');
  segment.boolean('unbounded');
  const unboundedKind = segment.string('unboundedContextKind');
  if (c.strict && unboundedKind !== undefined) {
    checkContextKind(c, segment.at('unboundedContextKind'), unboundedKind);
  }
  segment.integer('generation');
}

function readRules(segment: ObjectReader, segmentKey: string | undefined): void {
  const { c } = segment;
  const ids = new UniqueValues(c, 'rule id');
  segment.array('rules', 'optional', (value, path) =>
    readObject(c, path, value, 'a segment rule', (rule) => {
      readRuleId(rule, ids);
      // A segment rule without clauses matches every context (the harness pins it), so only strict refuses it.
      rule.array('clauses', 'required', (clause, clausePath) =>
        readClause(c, clausePath, clause, segmentKey),
      );
      const weight = rule.integer('weight');
      const bucketBy = rule.string('bucketBy');
      const kind = rule.string('rolloutContextKind');
      if (!c.strict) return;
      if (weight !== undefined && (weight < 0 || weight > FULL_WEIGHT)) {
        c.fail(rule.at('weight'), `weight ${weight} is out of range: expected 0 to ${FULL_WEIGHT}`);
      }
      if (kind !== undefined) checkContextKind(c, rule.at('rolloutContextKind'), kind);
      if (bucketBy !== undefined) {
        checkAttributeReference(c, rule.at('bucketBy'), bucketBy, rule.has('rolloutContextKind'));
      }
    }),
  );
}
