import { AttributeReference } from '../context/attributeReference.js';
import type { Clause, Flag, Rollout } from '../model/flag.js';
import type { Reason } from '../model/reason.js';
import type { Segment, SegmentRule } from '../model/segment.js';
import { validateFlag } from '../validate/flag.js';
import { validateSegment } from '../validate/segment.js';
import { compileOperator, type ValueMatcher } from './operators.js';
import { ruleMatchReason } from './reasons.js';

/*
 * Derived data the evaluator computes once per flag or segment object and then reuses: parsed
 * attribute references, compiled operators, key sets for long target lists and rule reasons. It is
 * held in WeakMaps keyed by the data objects, so it disappears with them. This relies on flag and
 * segment objects not being mutated after their first evaluation; stores replace objects on update.
 */

export interface PreparedClause {
  /** Kind to read the attribute from (`user` when the clause names none). */
  kind: string;
  ref: AttributeReference;
  matcher: ValueMatcher;
}

const clauses = new WeakMap<Clause, PreparedClause>();

export function preparedClause(clause: Clause): PreparedClause {
  let prepared = clauses.get(clause);
  if (prepared === undefined) {
    const contextKind = clause.contextKind;
    const attribute = clause.attribute ?? '';
    prepared = {
      kind: contextKind || 'user',
      // Without a context kind the attribute is a literal name (pre-context data), never a path.
      ref: contextKind ? AttributeReference.parse(attribute) : AttributeReference.literal(attribute),
      matcher: compileOperator(clause.op, Array.isArray(clause.values) ? clause.values : []),
    };
    clauses.set(clause, prepared);
  }
  return prepared;
}

const KEY_REF = AttributeReference.parse('key');
const bucketByRefs = new WeakMap<Rollout | SegmentRule, AttributeReference>();

/**
 * The attribute a rollout or segment rule buckets by: a reference when a context kind is named, a
 * literal name otherwise, `key` by default.
 */
export function bucketByRef(owner: Rollout | SegmentRule, kind: string | undefined): AttributeReference {
  let ref = bucketByRefs.get(owner);
  if (ref === undefined) {
    const bucketBy = owner.bucketBy;
    if (bucketBy === undefined || bucketBy === null) ref = KEY_REF;
    else ref = kind ? AttributeReference.parse(bucketBy) : AttributeReference.literal(bucketBy);
    bucketByRefs.set(owner, ref);
  }
  return ref;
}

export { KEY_REF };

// Below this length a linear scan beats building and probing a Set.
const SET_THRESHOLD = 16;
const keySets = new WeakMap<readonly string[], Set<string>>();

/** Whether a target or segment key list holds `key`, with a cached Set for long lists. */
export function listHasKey(values: readonly string[] | undefined | null, key: string): boolean {
  if (values === undefined || values === null) return false;
  if (values.length < SET_THRESHOLD) return values.includes(key);
  let set = keySets.get(values);
  if (set === undefined) {
    set = new Set(values);
    keySets.set(values, set);
  }
  return set.has(key);
}

const ruleReasons = new WeakMap<Flag, (Reason | undefined)[]>();

/** The frozen RULE_MATCH reason for a flag's rule at `index`, built once. */
export function ruleReason(flag: Flag, index: number): Reason {
  let reasons = ruleReasons.get(flag);
  if (reasons === undefined) {
    reasons = [];
    ruleReasons.set(flag, reasons);
  }
  let reason = reasons[index];
  if (reason === undefined) {
    reason = ruleMatchReason(index, flag.rules?.[index]?.id, false);
    reasons[index] = reason;
  }
  return reason;
}

const wellFormed = new WeakMap<object, boolean>();

/**
 * Whether a flag has the JSON shape the evaluator relies on (schema validation, checked once per
 * object). Data from the SDK's own sources is validated on arrival; this guards direct callers, so
 * that junk such as `rules: "x"` is MALFORMED_FLAG instead of being walked as if it were a list.
 */
export function isWellFormedFlag(flag: Flag): boolean {
  let ok = wellFormed.get(flag);
  if (ok === undefined) {
    ok = validateFlag(flag).ok;
    wellFormed.set(flag, ok);
  }
  return ok;
}

export function isWellFormedSegment(segment: Segment): boolean {
  let ok = wellFormed.get(segment);
  if (ok === undefined) {
    ok = validateSegment(segment).ok;
    wellFormed.set(segment, ok);
  }
  return ok;
}
