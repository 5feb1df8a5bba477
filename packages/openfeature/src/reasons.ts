// Flagstaff (LaunchDarkly) evaluation details -> OpenFeature resolution details.
import type { LDEvaluationDetail } from '@flagstaff/node-server-sdk';
import {
  ErrorCode,
  type FlagMetadata,
  type ResolutionDetails,
  type ResolutionReason,
  StandardResolutionReasons,
} from '@openfeature/server-sdk';

type Reason = LDEvaluationDetail['reason'];

/** What the client's typed `*VariationDetail` methods resolve to (the JSON one with an `unknown` value). */
export interface EvaluationOutcome {
  value: unknown;
  variationIndex: number | null;
  reason: Reason;
}
type ErrorKind = Extract<Reason, { kind: 'ERROR' }>['errorKind'];

/**
 * The OpenFeature reason for each non-error reason kind. LaunchDarkly's own provider reports the kind itself
 * (`"FALLTHROUGH"`, `"PREREQUISITE_FAILED"`, ...) as a non-standard reason string; we report the standard
 * reasons so that OpenFeature tooling understands them, and keep the kind in `flagMetadata.reasonKind`.
 */
export const REASONS: Readonly<Record<Exclude<Reason['kind'], 'ERROR'>, ResolutionReason>> = {
  OFF: StandardResolutionReasons.DISABLED,
  TARGET_MATCH: StandardResolutionReasons.TARGETING_MATCH,
  RULE_MATCH: StandardResolutionReasons.TARGETING_MATCH,
  FALLTHROUGH: StandardResolutionReasons.DEFAULT,
  // A failed prerequisite serves the off variation although the flag is on: it is neither DISABLED (the
  // flag is not off) nor a match, so it gets the catch-all DEFAULT; `prerequisiteKey` says which one failed.
  PREREQUISITE_FAILED: StandardResolutionReasons.DEFAULT,
};

/** The OpenFeature error code for each error kind (USER_NOT_SPECIFIED is refined by {@link errorCodeFor}). */
export const ERROR_CODES: Readonly<Record<ErrorKind, ErrorCode>> = {
  CLIENT_NOT_READY: ErrorCode.PROVIDER_NOT_READY,
  FLAG_NOT_FOUND: ErrorCode.FLAG_NOT_FOUND,
  MALFORMED_FLAG: ErrorCode.PARSE_ERROR,
  USER_NOT_SPECIFIED: ErrorCode.INVALID_CONTEXT,
  WRONG_TYPE: ErrorCode.TYPE_MISMATCH,
  EXCEPTION: ErrorCode.GENERAL,
};

/**
 * The client reports every unusable context as USER_NOT_SPECIFIED; the provider knows whether the cause
 * was a missing key (TARGETING_KEY_MISSING) or something else, such as an invalid kind (INVALID_CONTEXT).
 */
export function errorCodeFor(errorKind: ErrorKind, keyMissing: boolean): ErrorCode {
  if (errorKind === 'USER_NOT_SPECIFIED' && keyMissing) return ErrorCode.TARGETING_KEY_MISSING;
  return ERROR_CODES[errorKind] ?? ErrorCode.GENERAL;
}

function errorMessage(errorKind: ErrorKind, flagKey: string, keyMissing: boolean): string {
  switch (errorKind) {
    case 'CLIENT_NOT_READY':
      return 'the Flagstaff client has no flag data yet (not initialized, or offline)';
    case 'FLAG_NOT_FOUND':
      return `flag "${flagKey}" not found`;
    case 'MALFORMED_FLAG':
      return `flag "${flagKey}" is malformed (for example, a variation index out of range)`;
    case 'USER_NOT_SPECIFIED':
      return keyMissing
        ? 'the evaluation context has no targeting key (set "targetingKey")'
        : 'the evaluation context is not a valid LaunchDarkly context (see the warning logged for it)';
    case 'WRONG_TYPE':
      return `flag "${flagKey}" has a value of a different type than the one requested`;
    default:
      return `evaluating flag "${flagKey}" failed unexpectedly`;
  }
}

/** What the reason carries beyond its kind, for hooks and telemetry (`FlagMetadata` allows only primitives). */
function metadataFor(reason: Reason): FlagMetadata {
  const meta: FlagMetadata = { reasonKind: reason.kind };
  switch (reason.kind) {
    case 'RULE_MATCH':
      meta.ruleIndex = reason.ruleIndex;
      if (reason.ruleId !== undefined) meta.ruleId = reason.ruleId;
      if (reason.inExperiment) meta.inExperiment = true;
      break;
    case 'FALLTHROUGH':
      if (reason.inExperiment) meta.inExperiment = true;
      break;
    case 'PREREQUISITE_FAILED':
      meta.prerequisiteKey = reason.prerequisiteKey;
      break;
    case 'ERROR':
      meta.errorKind = reason.errorKind;
      break;
  }
  if (reason.bigSegmentsStatus !== undefined) meta.bigSegmentsStatus = reason.bigSegmentsStatus;
  return meta;
}

/**
 * Translates one evaluation. Errors come back as details (reason ERROR, an error code and the default value),
 * not as thrown errors: the OpenFeature SDK treats both alike (it runs the error hooks and returns the
 * default), and details also keep `flagMetadata`.
 */
export function toResolution<T>(
  detail: EvaluationOutcome,
  flagKey: string,
  defaultValue: T,
  keyMissing = false,
): ResolutionDetails<T> {
  const { reason } = detail;
  const flagMetadata = metadataFor(reason);
  if (reason.kind === 'ERROR') {
    return {
      value: defaultValue,
      reason: StandardResolutionReasons.ERROR,
      errorCode: errorCodeFor(reason.errorKind, keyMissing),
      errorMessage: errorMessage(reason.errorKind, flagKey, keyMissing),
      flagMetadata,
    };
  }
  const resolution: ResolutionDetails<T> = {
    // The client returns the default itself when no variation was chosen (an off flag without an off
    // variation), and a value of the requested type otherwise.
    value: detail.value as T,
    reason: REASONS[reason.kind] ?? StandardResolutionReasons.UNKNOWN,
    flagMetadata,
  };
  if (detail.variationIndex !== null) resolution.variant = String(detail.variationIndex);
  return resolution;
}

/** An error that happened outside the evaluation proper (a store failure, a bug): GENERAL, default value. */
export function generalError<T>(defaultValue: T, flagKey: string, error: unknown): ResolutionDetails<T> {
  const message = error instanceof Error ? error.message : String(error);
  return {
    value: defaultValue,
    reason: StandardResolutionReasons.ERROR,
    errorCode: ErrorCode.GENERAL,
    errorMessage: `evaluating flag "${flagKey}" failed: ${message}`,
  };
}

/** A value of the wrong JSON type for an object evaluation (the client's JSON method accepts any type). */
export function typeMismatch<T>(defaultValue: T, flagKey: string, actual: unknown): ResolutionDetails<T> {
  const type = actual === null ? 'null' : Array.isArray(actual) ? 'array' : typeof actual;
  return {
    value: defaultValue,
    reason: StandardResolutionReasons.ERROR,
    errorCode: ErrorCode.TYPE_MISMATCH,
    errorMessage: `flag "${flagKey}" has a ${type} value; an object or array was requested`,
    flagMetadata: { reasonKind: 'ERROR', errorKind: 'WRONG_TYPE' },
  };
}
