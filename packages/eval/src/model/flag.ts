import type { JsonValue } from './json.js';

/**
 * A feature flag in LaunchDarkly's JSON shape (spec §1.1). This is what the flag service streams, the
 * relay persists and every SDK evaluates; optional fields may be absent in data from older writers.
 */
export interface Flag {
  key: string;
  version: number;
  on: boolean;
  variations: JsonValue[];
  prerequisites?: Prerequisite[];
  targets?: Target[];
  contextTargets?: Target[];
  rules?: FlagRule[];
  fallthrough: VariationOrRollout;
  offVariation?: number | null;
  salt?: string;
  trackEvents?: boolean;
  trackEventsFallthrough?: boolean;
  debugEventsUntilDate?: number | null;
  clientSide?: boolean;
  clientSideAvailability?: ClientSideAvailability;
  deleted?: boolean;
  excludeFromSummaries?: boolean;
  samplingRatio?: number;
  migration?: { checkRatio?: number };
}

export interface ClientSideAvailability {
  usingMobileKey: boolean;
  usingEnvironmentId: boolean;
}

export interface Prerequisite {
  key: string;
  variation: number;
}

/** An individual-targeting entry. In `targets` the kind is always `user`; in `contextTargets` it is named. */
export interface Target {
  contextKind?: string;
  values: string[];
  variation: number;
}

export interface VariationOrRollout {
  variation?: number | null;
  rollout?: Rollout | null;
}

export interface FlagRule extends VariationOrRollout {
  id?: string;
  clauses?: Clause[];
  trackEvents?: boolean;
}

/** Every clause operator the evaluator knows (spec §3.6); the validator and tests use this list too. */
export const OPERATORS = [
  'in',
  'startsWith',
  'endsWith',
  'contains',
  'matches',
  'lessThan',
  'lessThanOrEqual',
  'greaterThan',
  'greaterThanOrEqual',
  'before',
  'after',
  'semVerEqual',
  'semVerLessThan',
  'semVerGreaterThan',
  'segmentMatch',
] as const;

export type Operator = (typeof OPERATORS)[number];

export interface Clause {
  /** Kind of context to read from. Absent means `user`, and `attribute` is then a literal name. */
  contextKind?: string;
  attribute?: string;
  /** Kept as `string`: data from newer writers may carry operators we do not know (they never match). */
  op: Operator | (string & {});
  values: JsonValue[];
  negate?: boolean;
}

export type RolloutKind = 'rollout' | 'experiment';

export interface Rollout {
  kind?: RolloutKind | (string & {});
  contextKind?: string;
  bucketBy?: string;
  variations: WeightedVariation[];
  seed?: number | null;
}

export interface WeightedVariation {
  variation: number;
  /** In units of 1/100000: 100000 is 100%. */
  weight: number;
  untracked?: boolean;
}
