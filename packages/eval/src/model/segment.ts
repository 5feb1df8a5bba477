import type { Clause } from './flag.js';

/** A segment in LaunchDarkly's JSON shape (spec §1.3). */
export interface Segment {
  key: string;
  version: number;
  included?: string[];
  excluded?: string[];
  includedContexts?: SegmentTarget[];
  excludedContexts?: SegmentTarget[];
  rules?: SegmentRule[];
  salt?: string;
  unbounded?: boolean;
  unboundedContextKind?: string;
  generation?: number | null;
  deleted?: boolean;
}

export interface SegmentTarget {
  contextKind: string;
  values: string[];
}

export interface SegmentRule {
  id?: string;
  /** Absent matches every context (unlike a flag rule, where absent matches none). */
  clauses?: Clause[];
  /** In units of 1/100000; absent means every context matching the clauses is in the segment. */
  weight?: number | null;
  bucketBy?: string;
  rolloutContextKind?: string;
}
