import { Context, ContextError } from '../context/context.js';
import type { Flag } from '../model/flag.js';
import type { JsonValue } from '../model/json.js';
import type { EvaluationDetail } from '../model/reason.js';
import { type EvaluateOptions, evaluate } from './evaluator.js';
import { errorReason } from './reasons.js';
import type { EvalResult, EvaluationData } from './types.js';

/** The JSON type a typed variation method expects; `any` accepts every value. */
export type VariationType = 'boolean' | 'number' | 'string' | 'any';

export interface VariationOutcome {
  /** What the caller receives: the flag's value, or the default when no variation was chosen. */
  detail: EvaluationDetail;
  /** The raw evaluation, when the flag was found and the context valid (events need it). */
  evaluation: EvalResult | undefined;
}

/**
 * The caller-facing part of a variation call (spec §3.9 steps 3-6), shared by the SDK and the relay:
 * invalid context, unknown flag, default substitution and the type check of typed variation methods.
 * Readiness and offline checks stay with the caller, which knows its own state.
 */
export function evaluateWithDefault(
  flag: Flag | undefined,
  context: Context | ContextError | unknown,
  data: EvaluationData,
  defaultValue: JsonValue,
  type: VariationType = 'any',
  options?: EvaluateOptions,
): VariationOutcome {
  const ctx = context instanceof Context || context instanceof ContextError ? context : Context.from(context);
  if (ctx instanceof ContextError) {
    return { detail: defaultDetail(defaultValue, 'USER_NOT_SPECIFIED'), evaluation: undefined };
  }
  if (!flag || flag.deleted) {
    return { detail: defaultDetail(defaultValue, 'FLAG_NOT_FOUND'), evaluation: undefined };
  }
  const evaluation = evaluate(flag, ctx, data, options);
  const detail = evaluation.detail;
  if (detail.variationIndex === null) {
    return { detail: { value: defaultValue, variationIndex: null, reason: detail.reason }, evaluation };
  }
  if (type !== 'any' && typeof detail.value !== type) {
    return { detail: defaultDetail(defaultValue, 'WRONG_TYPE'), evaluation };
  }
  return { detail, evaluation };
}

function defaultDetail(value: JsonValue, errorKind: 'USER_NOT_SPECIFIED' | 'FLAG_NOT_FOUND' | 'WRONG_TYPE') {
  return { value, variationIndex: null, reason: errorReason(errorKind) };
}
