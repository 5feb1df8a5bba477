import { AttributeReference } from '../context/attributeReference.js';
import type { Clause, Flag, Rollout } from '../model/flag.js';
import type { Reason } from '../model/reason.js';
import type { Segment, SegmentRule } from '../model/segment.js';
import { validateFlag } from '../validate/flag.js';
import { validateSegment } from '../validate/segment.js';
import { compileOperator, type ValueMatcher } from './operators.js';
import { ruleMatchReason } from './reasons.js';

/*
 * Derived data the evaluator computes once per flag or segment object and then reuses: the shape
 * check, parsed attribute references, compiled operators, rule reasons, and key sets for long target
 * lists. One record per flag or segment, held in a WeakMap keyed by the data object, so evaluating a
 * flag costs one map lookup however many clauses it has, and the record disappears with the object.
 * This relies on flag and segment objects not being mutated after their first evaluation; stores
 * replace objects on update.
 */

export interface PreparedClause {
  readonly clause: Clause;
  readonly segmentMatch: boolean;
  readonly negate: boolean;
  /** Kind to read the attribute from (`user` when the clause names none). */
  readonly kind: string;
  readonly ref: AttributeReference;
  readonly matcher: ValueMatcher;
}

export interface PreparedRule {
  /** Undefined when the rule has no clause list. */
  readonly clauses: readonly PreparedClause[] | undefined;
}

export interface PreparedFlag {
  /** Whether the flag has the JSON shape the evaluator relies on (schema validation). */
  readonly wellFormed: boolean;
  readonly rules: readonly PreparedRule[];
  /** RULE_MATCH reasons by rule index, built on first use. */
  readonly ruleReasons: (Reason | undefined)[];
}

export interface PreparedSegment {
  readonly wellFormed: boolean;
  readonly rules: readonly PreparedRule[];
}

const NO_REF = AttributeReference.literal('');

// Attribute references are immutable, and thousands of clauses name the same few attributes (`key`,
// `email`, `country`...), so one object per distinct reference is shared by all of them.
const pathRefs = new Map<string, AttributeReference>();
const literalRefs = new Map<string, AttributeReference>();
const REF_CACHE_LIMIT = 10_000;

function sharedRef(attribute: string, asPath: boolean): AttributeReference {
  const cache = asPath ? pathRefs : literalRefs;
  let ref = cache.get(attribute);
  if (ref === undefined) {
    ref = asPath ? AttributeReference.parse(attribute) : AttributeReference.literal(attribute);
    if (cache.size < REF_CACHE_LIMIT) cache.set(attribute, ref);
  }
  return ref;
}

function prepareClause(clause: Clause): PreparedClause {
  const contextKind = clause.contextKind;
  const segmentMatch = clause.op === 'segmentMatch';
  const attribute = clause.attribute ?? '';
  return {
    clause,
    segmentMatch,
    negate: !!clause.negate,
    kind: contextKind || 'user',
    // Without a context kind the attribute is a literal name (pre-context data), never a path.
    ref: segmentMatch ? NO_REF : sharedRef(attribute, !!contextKind),
    matcher: compileOperator(clause.op, Array.isArray(clause.values) ? clause.values : []),
  };
}

function prepareRules(rules: readonly { clauses?: Clause[] }[] | undefined): PreparedRule[] {
  return (rules ?? []).map((rule) => ({ clauses: rule.clauses?.map(prepareClause) }));
}

const flags = new WeakMap<Flag, PreparedFlag>();
const segments = new WeakMap<Segment, PreparedSegment>();

export function preparedFlag(flag: Flag): PreparedFlag {
  let prepared = flags.get(flag);
  if (prepared === undefined) {
    // Data from the SDK's own sources is validated on arrival; this guards direct callers, so that
    // junk such as `rules: "x"` is MALFORMED_FLAG instead of being walked as if it were a list.
    const wellFormed = validateFlag(flag).ok;
    prepared = { wellFormed, rules: wellFormed ? prepareRules(flag.rules) : [], ruleReasons: [] };
    flags.set(flag, prepared);
  }
  return prepared;
}

export function preparedSegment(segment: Segment): PreparedSegment {
  let prepared = segments.get(segment);
  if (prepared === undefined) {
    const wellFormed = validateSegment(segment).ok;
    prepared = { wellFormed, rules: wellFormed ? prepareRules(segment.rules) : [] };
    segments.set(segment, prepared);
  }
  return prepared;
}

/** The frozen RULE_MATCH reason for a flag's rule at `index`, built once. */
export function ruleReason(flag: Flag, prepared: PreparedFlag, index: number): Reason {
  let reason = prepared.ruleReasons[index];
  if (reason === undefined) {
    reason = ruleMatchReason(index, flag.rules?.[index]?.id, false);
    prepared.ruleReasons[index] = reason;
  }
  return reason;
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
