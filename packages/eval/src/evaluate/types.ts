import type { Flag } from '../model/flag.js';
import type { BigSegmentsStatus, EvaluationDetail } from '../model/reason.js';
import type { Segment } from '../model/segment.js';

/** Where the evaluator finds the other flags and segments a flag refers to. Lookups must not block. */
export interface EvaluationData {
  getFlag(key: string): Flag | undefined;
  getSegment(key: string): Segment | undefined;
  /**
   * Big-segment membership of one context key (spec §3.7), already fetched by the caller: the SDK
   * queries its big-segment store before evaluating, so evaluation itself stays synchronous. Absent
   * means big segments are not configured.
   */
  getBigSegmentMembership?(contextKey: string): BigSegmentMembership | undefined;
}

export interface BigSegmentMembership {
  /** Segment reference (`{segmentKey}.g{generation}`) to included (true) or excluded (false). */
  membership: Readonly<Record<string, boolean | null | undefined>> | undefined;
  status: BigSegmentsStatus;
}

/** One prerequisite evaluation, to be reported as a feature event with `prereqOf` (spec §3.4, §6.2). */
export interface PrerequisiteEvaluation {
  flag: Flag;
  /** Key of the flag that required this one. */
  prereqOf: string;
  detail: EvaluationDetail;
}

export interface EvalResult {
  /**
   * The evaluation. `value` is null and `variationIndex` null when no variation was chosen (off
   * without an off variation, or an error); the SDK then returns the caller's default.
   */
  detail: EvaluationDetail;
  /** Prerequisite evaluations at every depth, in the order their events must be sent. */
  prerequisiteEvaluations: PrerequisiteEvaluation[] | undefined;
  /** Keys of the flag's direct prerequisites that were evaluated (allFlagsState `prerequisites`). */
  prerequisites: string[] | undefined;
}
