import type { Context } from '../context/context.js';
import type { Flag } from '../model/flag.js';
import type { JsonValue } from '../model/json.js';
import type { Reason } from '../model/reason.js';
import type { Segment } from '../model/segment.js';
import { evaluate } from './evaluator.js';
import { isExperiment } from './experiment.js';
import type { EvaluationData } from './types.js';

/*
 * Client-side evaluation (spec §5): the flag service and the relay evaluate on behalf of JavaScript
 * and mobile SDKs, which receive results instead of rules. Pure, so both serve identical answers.
 */

/**
 * Which flags a caller may see: JavaScript clients (client-side ID) only flags made available to
 * them, mobile SDKs only those for mobile keys, and SDK-key callers (the relay's `/sdk/evalx`) all.
 */
export type ClientAudience = 'clientSideId' | 'mobileKey' | 'sdkKey';

/** One flag's result as client-side and mobile SDKs poll it (spec §5.1). */
export interface EvaluatedFlag {
  value: JsonValue;
  variation: number | null;
  version: number;
  trackEvents?: true;
  trackReason?: true;
  reason?: Reason;
  debugEventsUntilDate?: number;
  prerequisites?: string[];
}

export function availableTo(flag: Flag, audience: ClientAudience): boolean {
  const availability = flag.clientSideAvailability;
  switch (audience) {
    case 'clientSideId':
      return availability?.usingEnvironmentId ?? flag.clientSide === true;
    case 'mobileKey':
      // Flags from before the availability object existed were always visible to mobile SDKs.
      return availability?.usingMobileKey ?? true;
    default:
      return true;
  }
}

/** Lookups over own properties only: a prerequisite named `constructor` must not find a prototype's. */
export function evaluationData(
  flags: Readonly<Record<string, Flag>>,
  segments: Readonly<Record<string, Segment>>,
): EvaluationData {
  return {
    getFlag: (key) => (Object.hasOwn(flags, key) ? flags[key] : undefined),
    getSegment: (key) => (Object.hasOwn(segments, key) ? segments[key] : undefined),
  };
}

/**
 * Every flag the audience may see, evaluated for one context. Prerequisites are evaluated against all
 * flags, visible or not, exactly as a server-side SDK would.
 */
export function evaluateAll(
  flags: Readonly<Record<string, Flag>>,
  segments: Readonly<Record<string, Segment>>,
  context: Context,
  audience: ClientAudience,
  withReasons: boolean,
): Record<string, EvaluatedFlag> {
  const lookup = evaluationData(flags, segments);
  const results: Record<string, EvaluatedFlag> = {};
  for (const [key, flag] of Object.entries(flags)) {
    if (flag.deleted || !availableTo(flag, audience)) continue;
    const { detail, prerequisites } = evaluate(flag, context, lookup);
    const experiment = isExperiment(flag, detail.reason);
    const result: EvaluatedFlag = {
      value: detail.value,
      variation: detail.variationIndex,
      version: flag.version,
    };
    if (flag.trackEvents === true || experiment) result.trackEvents = true;
    if (experiment) result.trackReason = true;
    if (withReasons || experiment) result.reason = detail.reason;
    if (typeof flag.debugEventsUntilDate === 'number' && flag.debugEventsUntilDate !== 0) {
      result.debugEventsUntilDate = flag.debugEventsUntilDate;
    }
    if (prerequisites?.length) result.prerequisites = prerequisites;
    results[key] = result;
  }
  return results;
}
