import type { Flag } from '@flagstaff/eval';
import type { FullDataSet } from '../api/dataSource.js';
import type { LDFeatureStoreDataStorage } from '../api/store.js';

/**
 * Orders a data set for writing (spec §4.5): segments before flags, and each flag after its
 * prerequisites, so that a reader of a persistent store that is being rewritten never sees a flag
 * whose prerequisites are missing.
 */
export function sortedForStore(data: FullDataSet): LDFeatureStoreDataStorage {
  const flags = data.flags ?? {};
  const ordered: Record<string, Flag> = {};
  const visiting = new Set<string>();
  const visit = (key: string) => {
    if (Object.hasOwn(ordered, key) || visiting.has(key) || !Object.hasOwn(flags, key)) return;
    visiting.add(key);
    const flag = flags[key]!;
    for (const p of flag.prerequisites ?? []) visit(p.key);
    visiting.delete(key);
    ordered[key] = flag;
  };
  for (const key of Object.keys(flags)) visit(key);
  return {
    segments: { ...(data.segments ?? {}) } as unknown as LDFeatureStoreDataStorage[string],
    features: ordered as unknown as LDFeatureStoreDataStorage[string],
  };
}
