import type { Flag } from '../model/flag.js';
import type { Reason } from '../model/reason.js';

/**
 * Whether an evaluation is an experiment exposure (spec §6.2): it then produces a full feature event
 * with its reason even when the flag does not track events.
 */
export function isExperiment(flag: Flag, reason: Reason): boolean {
  switch (reason.kind) {
    case 'FALLTHROUGH':
      return reason.inExperiment === true || flag.trackEventsFallthrough === true;
    case 'RULE_MATCH':
      return reason.inExperiment === true || flag.rules?.[reason.ruleIndex]?.trackEvents === true;
    default:
      return false;
  }
}
