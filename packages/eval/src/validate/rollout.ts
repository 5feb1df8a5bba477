import { quote } from './describe.js';
import { type ObjectReader, readObject } from './reader.js';
import { checkAttributeReference, checkContextKind } from './references.js';

/** Weights are in units of 1/100000 (spec §1.2). */
export const FULL_WEIGHT = 100_000;

/** Checks, in strict mode, that a variation index read at `path` exists in the flag. */
export type VariationIndexCheck = (path: string, index: number | undefined) => void;

/** The properties a fallthrough or flag rule uses to pick its variation. */
export function readVariationOrRollout(owner: ObjectReader, checkIndex: VariationIndexCheck): void {
  checkIndex(owner.at('variation'), owner.integer('variation'));
  owner.object('rollout', 'optional', 'a rollout', (rollout) => readRollout(rollout, checkIndex));
  if (!owner.c.strict) return;
  const hasVariation = owner.has('variation');
  if (hasVariation === owner.has('rollout')) {
    const found = hasVariation ? 'found both' : 'found neither';
    owner.c.fail(owner.path, `expected exactly one of "variation" or "rollout", but ${found}`);
  }
}

function readRollout(rollout: ObjectReader, checkIndex: VariationIndexCheck): void {
  const { c } = rollout;
  const kind = rollout.string('kind');
  const contextKind = rollout.string('contextKind');
  const bucketBy = rollout.string('bucketBy');
  rollout.integer('seed');
  let total = 0;
  let weightsKnown = true;
  const variations = rollout.array('variations', 'required', (value, path) =>
    readObject(c, path, value, 'a weighted variation', (weighted) => {
      checkIndex(weighted.at('variation'), weighted.integer('variation', 'required'));
      const weight = weighted.integer('weight', 'required');
      weighted.boolean('untracked');
      if (weight === undefined) {
        weightsKnown = false;
        return;
      }
      total += weight;
      if (c.strict && (weight < 0 || weight > FULL_WEIGHT)) {
        c.fail(weighted.at('weight'), `weight ${weight} is out of range: expected 0 to ${FULL_WEIGHT}`);
      }
    }),
  );
  if (!c.strict) return;

  if (kind !== undefined && kind !== 'rollout' && kind !== 'experiment') {
    c.fail(rollout.at('kind'), `unknown rollout kind ${quote(kind)}: expected "rollout" or "experiment"`);
  }
  if (contextKind !== undefined) checkContextKind(c, rollout.at('contextKind'), contextKind);
  if (bucketBy !== undefined) {
    checkAttributeReference(c, rollout.at('bucketBy'), bucketBy, rollout.has('contextKind'));
  }
  if (variations === undefined) return;
  const path = rollout.at('variations');
  if (variations.length === 0) {
    c.fail(path, 'a rollout must have at least one weighted variation');
  } else if (weightsKnown && total !== FULL_WEIGHT) {
    c.fail(path, `rollout weights sum to ${total}: expected exactly ${FULL_WEIGHT} (100%)`);
  }
}
