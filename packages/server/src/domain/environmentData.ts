import type { Flag, Segment } from '@flagstaff/eval';
import type { StorageReader } from '../storage/types.js';
import { composeFlag, composeSegment } from './compose.js';
import { environmentId, flagId, segmentId, targetingId } from './ids.js';
import type {
  CredentialKind,
  CredentialRef,
  Environment,
  FlagDefinition,
  SegmentDoc,
  Targeting,
} from './types.js';

export interface EnvironmentData {
  flags: Record<string, Flag>;
  segments: Record<string, Segment>;
}

/** Everything an SDK of this environment receives (stream `put`, poll body); archived items left out. */
export async function loadEnvironmentData(
  storage: StorageReader,
  projectKey: string,
  envKey: string,
): Promise<EnvironmentData> {
  const [definitions, targetings, segmentDocs] = await Promise.all([
    storage.list<FlagDefinition>('flags', { prefix: `${projectKey}/` }),
    storage.list<Targeting>('targeting', { prefix: `${projectKey}/${envKey}/` }),
    storage.list<SegmentDoc>('segments', { prefix: `${projectKey}/${envKey}/` }),
  ]);
  const byFlag = new Map(targetings.map((t) => [t.id, t.value]));
  const flags: Record<string, Flag> = {};
  for (const { value: def } of definitions) {
    if (def.archived) continue;
    const targeting = byFlag.get(targetingId(projectKey, envKey, def.key));
    if (targeting) flags[def.key] = composeFlag(def, targeting);
  }
  const segments: Record<string, Segment> = {};
  for (const { value: seg } of segmentDocs) if (!seg.archived) segments[seg.key] = composeSegment(seg);
  return { flags, segments };
}

/** One flag's payload in an environment (a tombstone when archived), or undefined if unknown. */
export async function loadFlag(
  storage: StorageReader,
  projectKey: string,
  envKey: string,
  key: string,
): Promise<Flag | undefined> {
  const [def, targeting] = await Promise.all([
    storage.get<FlagDefinition>('flags', flagId(projectKey, key)),
    storage.get<Targeting>('targeting', targetingId(projectKey, envKey, key)),
  ]);
  return def && targeting ? composeFlag(def.value, targeting.value) : undefined;
}

export async function loadSegment(
  storage: StorageReader,
  projectKey: string,
  envKey: string,
  key: string,
): Promise<Segment | undefined> {
  const doc = await storage.get<SegmentDoc>('segments', segmentId(projectKey, envKey, key));
  return doc ? composeSegment(doc.value) : undefined;
}

/**
 * The environment a key belongs to, if the key is of the expected kind and still valid (a rotated
 * key works until its grace period ends). Archived environments have no valid keys.
 */
export async function resolveCredential(
  storage: StorageReader,
  key: string,
  kind: CredentialKind,
  now = Date.now(),
): Promise<Environment | undefined> {
  if (!key) return undefined;
  const ref = await storage.get<CredentialRef>('credentials', key);
  if (!ref || ref.value.kind !== kind) return undefined;
  if (ref.value.expiresAt !== undefined && ref.value.expiresAt <= now) return undefined;
  const env = await storage.get<Environment>(
    'environments',
    environmentId(ref.value.projectKey, ref.value.envKey),
  );
  if (!env || env.value.archived) return undefined;
  return env.value;
}
