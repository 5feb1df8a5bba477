import type { Flag, Segment } from '@flagstaff/eval';
import type { FlagDefinition, SegmentDoc, Targeting } from './types.js';

/**
 * The SDK payload of a flag in one environment, in LaunchDarkly's JSON with every field the Go
 * marshaller writes (spec §1.1), so both current and older SDKs read it. An archived flag is a
 * tombstone: SDKs drop it.
 */
export function composeFlag(def: FlagDefinition, t: Targeting): Flag {
  if (def.archived) return { key: def.key, version: t.version, deleted: true } as unknown as Flag;
  const flag: Flag = {
    key: def.key,
    version: t.version,
    on: t.on,
    prerequisites: t.prerequisites,
    targets: t.targets,
    contextTargets: t.contextTargets,
    rules: t.rules,
    fallthrough: t.fallthrough,
    offVariation: t.offVariation ?? null,
    variations: def.variations.map((v) => v.value),
    clientSide: def.clientSideAvailability.usingEnvironmentId,
    clientSideAvailability: def.clientSideAvailability,
    salt: t.salt,
    trackEvents: t.trackEvents,
    trackEventsFallthrough: t.trackEventsFallthrough,
    debugEventsUntilDate: t.debugEventsUntilDate ?? null,
    deleted: false,
  };
  return flag;
}

export function composeSegment(s: SegmentDoc): Segment {
  if (s.archived) return { key: s.key, version: s.version, deleted: true } as unknown as Segment;
  return {
    key: s.key,
    version: s.version,
    included: s.included,
    excluded: s.excluded,
    includedContexts: s.includedContexts,
    excludedContexts: s.excludedContexts,
    rules: s.rules,
    salt: s.salt,
    deleted: false,
  };
}
