import { Context, type EvaluationDetail, evaluate, type Flag, type Segment } from '@flagstaff/eval';

/*
 * The preview panel's evaluation, with @flagstaff/eval (the engine the SDKs and the service use), so
 * the value and reason shown are exactly what an SDK would compute for the same data. Pure.
 */

export type ContextParse = { ok: true; context: Context } | { ok: false; message: string };

/** Reads a context typed as JSON: a single-kind or multi-kind context, or a legacy user. */
export function parseContext(text: string): ContextParse {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `Not valid JSON: ${(err as Error).message}` };
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, message: 'A context is a JSON object, e.g. {"kind": "user", "key": "user-1"}' };
  }
  const context = Context.from(input);
  if (!(context instanceof Context)) return { ok: false, message: `Not a valid context: ${context.message}` };
  return { ok: true, context };
}

export function evaluateFor(
  flag: Flag,
  context: Context,
  flags: ReadonlyMap<string, Flag>,
  segments: ReadonlyMap<string, Segment>,
): EvaluationDetail {
  return evaluate(flag, context, {
    getFlag: (key) => (key === flag.key ? flag : flags.get(key)),
    getSegment: (key) => segments.get(key),
  }).detail;
}

/** A reason in words, with the rule or prerequisite it names. */
export function describeReason(detail: EvaluationDetail, ruleLabel: (index: number) => string): string {
  const r = detail.reason;
  switch (r.kind) {
    case 'OFF':
      return 'The flag is off: it serves its off variation.';
    case 'FALLTHROUGH':
      return 'No target or rule matched: the default rule applies.';
    case 'TARGET_MATCH':
      return 'The context is individually targeted.';
    case 'RULE_MATCH':
      return `Matched ${ruleLabel(r.ruleIndex)}.`;
    case 'PREREQUISITE_FAILED':
      return `The prerequisite “${r.prerequisiteKey}” did not serve the required variation: the off variation applies.`;
    case 'ERROR':
      return `Evaluation error: ${r.errorKind}.`;
    default:
      return JSON.stringify(r);
  }
}
