import type { JsonValue } from './json.js';

export type ErrorKind =
  | 'CLIENT_NOT_READY'
  | 'FLAG_NOT_FOUND'
  | 'MALFORMED_FLAG'
  | 'USER_NOT_SPECIFIED'
  | 'WRONG_TYPE'
  | 'EXCEPTION';

export type BigSegmentsStatus = 'HEALTHY' | 'STALE' | 'STORE_ERROR' | 'NOT_CONFIGURED';

/** Why a flag evaluated as it did, in LaunchDarkly's JSON shape (spec §3.1). */
export type Reason =
  | { kind: 'OFF'; bigSegmentsStatus?: BigSegmentsStatus }
  | { kind: 'FALLTHROUGH'; inExperiment?: true; bigSegmentsStatus?: BigSegmentsStatus }
  | { kind: 'TARGET_MATCH'; bigSegmentsStatus?: BigSegmentsStatus }
  | {
      kind: 'RULE_MATCH';
      ruleIndex: number;
      /** Absent only when the rule itself has no id. */
      ruleId?: string;
      inExperiment?: true;
      bigSegmentsStatus?: BigSegmentsStatus;
    }
  | { kind: 'PREREQUISITE_FAILED'; prerequisiteKey: string; bigSegmentsStatus?: BigSegmentsStatus }
  | { kind: 'ERROR'; errorKind: ErrorKind; bigSegmentsStatus?: BigSegmentsStatus };

export type ReasonKind = Reason['kind'];

/** The result of one evaluation. `variationIndex` is null when no variation was chosen. */
export interface EvaluationDetail<T = JsonValue> {
  value: T;
  variationIndex: number | null;
  reason: Reason;
}
