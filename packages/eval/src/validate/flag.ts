import type { Flag } from '../model/flag.js';
import { readClause } from './clause.js';
import { plural, quote } from './describe.js';
import { type ObjectReader, readObject } from './reader.js';
import { checkContextKind, checkItemKey } from './references.js';
import type { ValidationOptions, ValidationResult } from './result.js';
import { readVariationOrRollout, type VariationIndexCheck } from './rollout.js';
import { readRuleId } from './ruleId.js';
import { runValidation } from './run.js';
import { UniqueValues } from './unique.js';

/**
 * Validates untrusted flag JSON (spec §1.1, §1.2). On success the value is a copy of the input without
 * its null optional properties; opaque JSON (variations, clause values, unknown properties) is shared
 * with the input. A tombstone (`deleted: true`) needs only `key` and `version`, so its value may lack
 * the other required `Flag` properties.
 */
export function validateFlag(input: unknown, options?: ValidationOptions): ValidationResult<Flag> {
  return runValidation<Flag>(input, options, 'a flag', readFlag);
}

function readFlag(flag: ObjectReader): void {
  const { c } = flag;
  const key = flag.string('key', 'always');
  flag.integer('version', 'always', 0);
  const tombstone = flag.boolean('deleted') === true;
  const presence = tombstone ? 'optional' : 'required';
  if (c.strict && key !== undefined) checkItemKey(c, flag.at('key'), key, 'flag');

  flag.boolean('on', presence);
  const variationCount = flag.jsonArray('variations', presence)?.length;
  const checkIndex: VariationIndexCheck = (path, index) => {
    if (!c.strict || index === undefined || variationCount === undefined) return;
    if (index < 0 || index >= variationCount) {
      c.fail(
        path,
        `variation index ${index} is out of range: the flag has ${plural(variationCount, 'variation')}`,
      );
    }
  };

  readPrerequisites(flag, key);
  const readTarget = (value: unknown, path: string) =>
    readObject(c, path, value, 'a target', (target) => {
      const kind = target.string('contextKind');
      if (c.strict && kind !== undefined) checkContextKind(c, target.at('contextKind'), kind);
      target.stringArray('values', 'required');
      checkIndex(target.at('variation'), target.integer('variation', 'required'));
    });
  flag.array('targets', 'optional', readTarget);
  flag.array('contextTargets', 'optional', readTarget);
  readRules(flag, checkIndex);
  flag.object('fallthrough', presence, 'a variation or rollout', (fallthrough) =>
    readVariationOrRollout(fallthrough, checkIndex),
  );
  checkIndex(flag.at('offVariation'), flag.integer('offVariation'));

  flag.string('salt');
  flag.boolean('trackEvents');
  flag.boolean('trackEventsFallthrough');
  flag.number('debugEventsUntilDate');
  flag.boolean('clientSide');
  flag.object('clientSideAvailability', 'optional', 'a client-side availability', (availability) => {
    availability.boolean('usingMobileKey', 'required');
    availability.boolean('usingEnvironmentId', 'required');
  });
  flag.boolean('excludeFromSummaries');
  flag.integer('samplingRatio');
  flag.object('migration', 'optional', 'migration settings', (migration) => migration.integer('checkRatio'));
}

function readPrerequisites(flag: ObjectReader, flagKey: string | undefined): void {
  const { c } = flag;
  const keys = new UniqueValues(c, 'prerequisite key');
  flag.array('prerequisites', 'optional', (value, path) =>
    readObject(c, path, value, 'a prerequisite', (prerequisite) => {
      const key = prerequisite.string('key', 'always');
      const variation = prerequisite.integer('variation', 'required');
      if (!c.strict) return;
      if (key !== undefined) {
        if (key === flagKey) {
          c.fail(prerequisite.at('key'), `flag ${quote(key)} cannot be its own prerequisite`);
        }
        keys.add(prerequisite.at('key'), key);
      }
      // The index belongs to the prerequisite flag, so only its sign can be checked here.
      if (variation !== undefined && variation < 0) {
        c.fail(
          prerequisite.at('variation'),
          `variation index ${variation} is out of range: it must not be negative`,
        );
      }
    }),
  );
}

function readRules(flag: ObjectReader, checkIndex: VariationIndexCheck): void {
  const { c } = flag;
  const ids = new UniqueValues(c, 'rule id');
  flag.array('rules', 'optional', (value, path) =>
    readObject(c, path, value, 'a rule', (rule) => {
      readRuleId(rule, ids);
      // v9 never matches a rule without clauses while Go matches every context, so strict refuses it.
      rule.array('clauses', 'required', (clause, clausePath) => readClause(c, clausePath, clause));
      readVariationOrRollout(rule, checkIndex);
      rule.boolean('trackEvents');
    }),
  );
}
