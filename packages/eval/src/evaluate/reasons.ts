import type { ErrorKind, EvaluationDetail, Reason } from '../model/reason.js';

// Reasons without parameters are shared, frozen objects: evaluation allocates none for them.
export const REASON_OFF: Reason = Object.freeze({ kind: 'OFF' });
export const REASON_FALLTHROUGH: Reason = Object.freeze({ kind: 'FALLTHROUGH' });
export const REASON_FALLTHROUGH_EXPERIMENT: Reason = Object.freeze({
  kind: 'FALLTHROUGH',
  inExperiment: true,
});
export const REASON_TARGET_MATCH: Reason = Object.freeze({ kind: 'TARGET_MATCH' });

const errorReasons = new Map<ErrorKind, Reason>();

export function errorReason(errorKind: ErrorKind): Reason {
  let reason = errorReasons.get(errorKind);
  if (reason === undefined) {
    reason = Object.freeze({ kind: 'ERROR', errorKind });
    errorReasons.set(errorKind, reason);
  }
  return reason;
}

/** An evaluation that chose no variation because of an error. */
export function errorDetail(errorKind: ErrorKind): EvaluationDetail {
  return { value: null, variationIndex: null, reason: errorReason(errorKind) };
}

export function ruleMatchReason(
  ruleIndex: number,
  ruleId: string | undefined,
  inExperiment: boolean,
): Reason {
  const reason: Reason = { kind: 'RULE_MATCH', ruleIndex };
  if (ruleId !== undefined && ruleId !== null) reason.ruleId = ruleId;
  if (inExperiment) reason.inExperiment = true;
  return Object.freeze(reason);
}

export function prerequisiteFailedReason(prerequisiteKey: string): Reason {
  return { kind: 'PREREQUISITE_FAILED', prerequisiteKey };
}
