import type { AttributeReference } from '../context/attributeReference.js';
import type { Context } from '../context/context.js';
import { type BucketHasher, sha1BucketHasher } from '../hash/bucketHash.js';
import type { Flag, Prerequisite, VariationOrRollout } from '../model/flag.js';
import type { BigSegmentsStatus, EvaluationDetail, Reason } from '../model/reason.js';
import type { Segment } from '../model/segment.js';
import {
  bucketByRef,
  KEY_REF,
  listHasKey,
  type PreparedClause,
  preparedFlag,
  preparedSegment,
  ruleReason,
} from './prepared.js';
import {
  errorDetail,
  prerequisiteFailedReason,
  REASON_FALLTHROUGH,
  REASON_FALLTHROUGH_EXPERIMENT,
  REASON_OFF,
  REASON_TARGET_MATCH,
  ruleMatchReason,
} from './reasons.js';
import type { BigSegmentMembership, EvalResult, EvaluationData, PrerequisiteEvaluation } from './types.js';

export interface EvaluateOptions {
  /** Replaces the pure-TypeScript SHA-1 bucketing hash (spec §3.8); it must compute the same function. */
  hasher?: BucketHasher;
}

/** State of one top-level evaluation, shared by its prerequisite and segment evaluations. */
interface State {
  readonly data: EvaluationData;
  readonly context: Context;
  readonly hasher: BucketHasher;
  prerequisiteEvaluations: PrerequisiteEvaluation[] | undefined;
  prerequisites: string[] | undefined;
  /** Segment keys on the path from the current rule down to the segment being matched. */
  segmentChain: string[] | undefined;
  bigSegmentsStatus: BigSegmentsStatus | undefined;
  bigSegmentLookups: Map<string, BigSegmentMembership | undefined> | undefined;
}

// Clause and segment matching report one of three outcomes; an error aborts the flag's evaluation.
const NO_MATCH = 0;
const MATCH = 1;
const MALFORMED = 2;
type MatchResult = typeof NO_MATCH | typeof MATCH | typeof MALFORMED;

/**
 * Evaluates `flag` for `context` (spec §3). Never throws: malformed data yields an ERROR reason.
 * Flag and segment objects are treated as immutable (derived data is cached per object).
 */
export function evaluate(
  flag: Flag,
  context: Context,
  data: EvaluationData,
  options?: EvaluateOptions,
): EvalResult {
  const state: State = {
    data,
    context,
    hasher: options?.hasher ?? sha1BucketHasher,
    prerequisiteEvaluations: undefined,
    prerequisites: undefined,
    segmentChain: undefined,
    bigSegmentsStatus: undefined,
    bigSegmentLookups: undefined,
  };
  let detail: EvaluationDetail;
  try {
    detail = evaluateFlag(flag, state, undefined);
  } catch {
    // Only data that bypassed validation can get here (say, a clause list that is not an array).
    detail = errorDetail('EXCEPTION');
  }
  if (state.bigSegmentsStatus !== undefined) {
    detail = { ...detail, reason: { ...detail.reason, bigSegmentsStatus: state.bigSegmentsStatus } };
  }
  return {
    detail,
    prerequisiteEvaluations: state.prerequisiteEvaluations,
    prerequisites: state.prerequisites,
  };
}

/** `chain` holds the keys of the flags above this one; undefined for the top-level flag. */
function evaluateFlag(flag: Flag, state: State, chain: string[] | undefined): EvaluationDetail {
  const prepared = preparedFlag(flag);
  if (!prepared.wellFormed) return errorDetail('MALFORMED_FLAG');
  if (!flag.on) return offDetail(flag, REASON_OFF);

  const prerequisites = flag.prerequisites;
  if (prerequisites && prerequisites.length > 0) {
    const failure = checkPrerequisites(flag, prerequisites, state, chain);
    if (failure !== undefined) return failure;
  }

  const targetMatch = matchTargets(flag, state.context);
  if (targetMatch !== undefined) return targetMatch;

  const rules = prepared.rules;
  for (let i = 0; i < rules.length; i++) {
    const clauses = rules[i]!.clauses;
    // A rule without a clause list never matches; an empty list always does.
    if (!clauses) continue;
    const matched = matchAllClauses(clauses, state);
    if (matched === MALFORMED) return errorDetail('MALFORMED_FLAG');
    if (matched === MATCH) {
      const rule = flag.rules![i]!;
      const index = resolveVariation(rule, flag, state);
      if (index === MALFORMED_INDEX) return errorDetail('MALFORMED_FLAG');
      const reason = resolvedInExperiment ? ruleMatchReason(i, rule.id, true) : ruleReason(flag, prepared, i);
      return variationDetail(flag, index, reason);
    }
  }

  const index = resolveVariation(flag.fallthrough, flag, state);
  if (index === MALFORMED_INDEX) return errorDetail('MALFORMED_FLAG');
  return variationDetail(
    flag,
    index,
    resolvedInExperiment ? REASON_FALLTHROUGH_EXPERIMENT : REASON_FALLTHROUGH,
  );
}

/** Returns the failing result, or undefined when every prerequisite is met (spec §3.4). */
function checkPrerequisites(
  flag: Flag,
  prerequisites: Prerequisite[],
  state: State,
  chain: string[] | undefined,
): EvaluationDetail | undefined {
  const topLevel = chain === undefined;
  // The chain starts with the top-level flag itself, so a cycle back to it is caught at once.
  const visited = chain ?? [flag.key];
  for (const prerequisite of prerequisites) {
    const key = prerequisite.key;
    if (visited.includes(key)) return errorDetail('MALFORMED_FLAG');
    const prerequisiteFlag = state.data.getFlag(key);
    if (!prerequisiteFlag || prerequisiteFlag.deleted) return offDetail(flag, prerequisiteFailedReason(key));
    if (topLevel) {
      if (state.prerequisites === undefined) state.prerequisites = [];
      state.prerequisites.push(key);
    }
    visited.push(key);
    const detail = evaluateFlag(prerequisiteFlag, state, visited);
    visited.pop();
    if (state.prerequisiteEvaluations === undefined) state.prerequisiteEvaluations = [];
    state.prerequisiteEvaluations.push({ flag: prerequisiteFlag, prereqOf: flag.key, detail });
    const kind = detail.reason.kind;
    // A prerequisite's own error (a cycle further down, say) is the parent's error too.
    if (kind === 'ERROR') return detail;
    if (kind === 'OFF' || detail.variationIndex !== prerequisite.variation) {
      return offDetail(flag, prerequisiteFailedReason(key));
    }
  }
  return undefined;
}

/** Individual targets (spec §3.3). */
function matchTargets(flag: Flag, context: Context): EvaluationDetail | undefined {
  const contextTargets = flag.contextTargets;
  const userTargets = flag.targets;
  if (!contextTargets || contextTargets.length === 0) {
    if (!userTargets || userTargets.length === 0) return undefined;
    const userKey = context.key('user');
    if (userKey === undefined) return undefined;
    for (const target of userTargets) {
      if (listHasKey(target.values, userKey))
        return variationDetail(flag, target.variation, REASON_TARGET_MATCH);
    }
    return undefined;
  }
  for (const target of contextTargets) {
    const kind = target.contextKind;
    if (!kind || kind === 'user') {
      // A user entry in contextTargets only fixes the order; its keys live in `targets`.
      const userTarget = userTargets?.find((t) => t.variation === target.variation);
      const userKey = context.key('user');
      if (userTarget && userKey !== undefined && listHasKey(userTarget.values, userKey)) {
        return variationDetail(flag, target.variation, REASON_TARGET_MATCH);
      }
    } else {
      const key = context.key(kind);
      if (key !== undefined && listHasKey(target.values, key)) {
        return variationDetail(flag, target.variation, REASON_TARGET_MATCH);
      }
    }
  }
  return undefined;
}

function matchAllClauses(clauses: readonly PreparedClause[], state: State): MatchResult {
  for (let i = 0; i < clauses.length; i++) {
    const result = matchClause(clauses[i]!, state);
    if (result !== MATCH) return result;
  }
  return MATCH;
}

/** One clause (spec §3.5). */
function matchClause(prepared: PreparedClause, state: State): MatchResult {
  if (prepared.segmentMatch) {
    const result = matchAnySegment(prepared.clause.values, state);
    if (result === MALFORMED) return MALFORMED;
    return (result === MATCH) !== prepared.negate ? MATCH : NO_MATCH;
  }
  if (!prepared.ref.valid) return MALFORMED;
  const value = state.context.valueOf(prepared.kind, prepared.ref);
  // A missing attribute never matches, even a negated clause.
  if (value === undefined || value === null) return NO_MATCH;
  let matched = false;
  if (Array.isArray(value)) {
    const matcher = prepared.matcher;
    for (const element of value) {
      if (matcher(element)) {
        matched = true;
        break;
      }
    }
  } else {
    matched = prepared.matcher(value);
  }
  return matched !== prepared.negate ? MATCH : NO_MATCH;
}

/** `segmentMatch`: the context is in any of the listed segments (spec §3.7). */
function matchAnySegment(keys: readonly unknown[], state: State): MatchResult {
  for (const key of keys) {
    if (typeof key !== 'string') continue;
    const segment = state.data.getSegment(key);
    if (!segment || segment.deleted) continue;
    if (state.segmentChain === undefined) state.segmentChain = [];
    const chain = state.segmentChain;
    if (chain.includes(key)) return MALFORMED;
    chain.push(key);
    const result = matchSegment(segment, state);
    chain.pop();
    if (result !== NO_MATCH) return result;
  }
  return NO_MATCH;
}

function matchSegment(segment: Segment, state: State): MatchResult {
  if (!preparedSegment(segment).wellFormed) return MALFORMED;
  if (segment.unbounded) return matchBigSegment(segment, state);
  const context = state.context;
  if (inSegmentList(segment.included, segment.includedContexts, context)) return MATCH;
  if (inSegmentList(segment.excluded, segment.excludedContexts, context)) return NO_MATCH;
  return matchSegmentRules(segment, state);
}

function inSegmentList(
  userKeys: readonly string[] | undefined,
  contextLists: Segment['includedContexts'],
  context: Context,
): boolean {
  if (userKeys && userKeys.length > 0) {
    const userKey = context.key('user');
    if (userKey !== undefined && listHasKey(userKeys, userKey)) return true;
  }
  if (contextLists) {
    for (const list of contextLists) {
      const key = context.key(list.contextKind);
      if (key !== undefined && listHasKey(list.values, key)) return true;
    }
  }
  return false;
}

function matchSegmentRules(segment: Segment, state: State): MatchResult {
  const rules = segment.rules;
  if (!rules) return NO_MATCH;
  const prepared = preparedSegment(segment).rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const clauses = prepared[i]!.clauses;
    // Unlike a flag rule, a segment rule without a clause list matches (the harness pins this).
    const matched = clauses ? matchAllClauses(clauses, state) : MATCH;
    if (matched === MALFORMED) return MALFORMED;
    if (matched === NO_MATCH) continue;
    const weight = rule.weight;
    if (weight === undefined || weight === null) return MATCH;
    const kind = rule.rolloutContextKind;
    const ref = bucketByRef(rule, kind);
    if (!ref.valid) return MALFORMED;
    const bucket = computeBucket(state, segment.key, segment.salt ?? '', ref, kind || 'user', undefined);
    if (bucket < weight / 100_000) return MATCH;
  }
  return NO_MATCH;
}

const STATUS_RANK: Record<BigSegmentsStatus, number> = {
  HEALTHY: 0,
  STALE: 1,
  STORE_ERROR: 2,
  NOT_CONFIGURED: 3,
};

function noteBigSegmentsStatus(state: State, status: BigSegmentsStatus): void {
  const current = state.bigSegmentsStatus;
  if (current === undefined || STATUS_RANK[status] > STATUS_RANK[current]) state.bigSegmentsStatus = status;
}

/** Unbounded ("big") segments: membership from the caller's store, then the rules (spec §3.7). */
function matchBigSegment(segment: Segment, state: State): MatchResult {
  const key = state.context.key(segment.unboundedContextKind || 'user');
  if (key === undefined) return NO_MATCH;
  if (segment.generation === undefined || segment.generation === null) {
    noteBigSegmentsStatus(state, 'NOT_CONFIGURED');
    return NO_MATCH;
  }
  if (state.bigSegmentLookups === undefined) state.bigSegmentLookups = new Map();
  const lookups = state.bigSegmentLookups;
  let lookup: BigSegmentMembership | undefined;
  if (lookups.has(key)) {
    lookup = lookups.get(key);
  } else {
    lookup = state.data.getBigSegmentMembership?.(key);
    lookups.set(key, lookup);
  }
  noteBigSegmentsStatus(state, lookup === undefined ? 'NOT_CONFIGURED' : lookup.status);
  const included = lookup?.membership?.[`${segment.key}.g${segment.generation}`];
  if (included === true) return MATCH;
  if (included === false) return NO_MATCH;
  return matchSegmentRules(segment, state);
}

const MALFORMED_INDEX = -1;
/**
 * Set by resolveVariation alongside its return value: whether the chosen variation counts as an
 * experiment exposure. A module variable rather than a returned pair keeps the hot path free of
 * allocations; evaluation is synchronous, so nothing can interleave.
 */
let resolvedInExperiment = false;
let bucketHadContext = false;

/** The variation index of a fixed variation or rollout, or MALFORMED_INDEX (spec §3.8). */
function resolveVariation(vr: VariationOrRollout | undefined, flag: Flag, state: State): number {
  resolvedInExperiment = false;
  if (!vr) return MALFORMED_INDEX;
  const variation = vr.variation;
  if (variation !== undefined && variation !== null) return variation;
  const rollout = vr.rollout;
  const weighted = rollout?.variations;
  if (!rollout || !weighted || weighted.length === 0) return MALFORMED_INDEX;
  const experiment = rollout.kind === 'experiment';
  const contextKind = rollout.contextKind;
  // Experiments always bucket by key so that exposures stay comparable.
  const ref = experiment ? KEY_REF : bucketByRef(rollout, contextKind);
  if (!ref.valid) return MALFORMED_INDEX;
  const bucket = computeBucket(state, flag.key, flag.salt ?? '', ref, contextKind || 'user', rollout.seed);
  let sum = 0;
  let chosen = weighted[weighted.length - 1]!;
  for (const wv of weighted) {
    sum += wv.weight / 100_000;
    if (bucket < sum) {
      chosen = wv;
      break;
    }
  }
  resolvedInExperiment = experiment && bucketHadContext && !chosen.untracked;
  return chosen.variation;
}

/** Bucket in [0, 1] for a context (spec §3.8); sets bucketHadContext. */
function computeBucket(
  state: State,
  hashKey: string,
  salt: string,
  ref: AttributeReference,
  kind: string,
  seed: number | null | undefined,
): number {
  const value = state.context.valueOf(kind, ref);
  let id: string;
  if (typeof value === 'string') {
    id = value;
  } else if (typeof value === 'number' && Number.isInteger(value)) {
    id = String(value);
  } else {
    bucketHadContext = state.context.attributes(kind) !== undefined;
    return 0;
  }
  bucketHadContext = true;
  const prefix = seed !== undefined && seed !== null ? String(seed) : `${hashKey}.${salt}`;
  return state.hasher(`${prefix}.${id}`);
}

function variationDetail(flag: Flag, index: number, reason: Reason): EvaluationDetail {
  const variations = flag.variations;
  if (!Number.isInteger(index) || index < 0 || !variations || index >= variations.length) {
    return errorDetail('MALFORMED_FLAG');
  }
  return { value: variations[index]!, variationIndex: index, reason };
}

/** The result when the flag is off or a prerequisite failed: the off variation, or no variation. */
function offDetail(flag: Flag, reason: Reason): EvaluationDetail {
  const off = flag.offVariation;
  if (off === undefined || off === null) return { value: null, variationIndex: null, reason };
  return variationDetail(flag, off, reason);
}
