import type { Flag, Segment } from '@flagstaff/eval';
import type { DataKindName, DataSourceUpdates, FullDataSet, VersionedItem } from '../api/dataSource.js';
import type { LDKeyedFeatureStoreItem } from '../api/store.js';
import { FEATURES, SEGMENTS } from './dataKinds.js';
import { DependencyTracker, flagRef, segmentRef } from './dependencyTracker.js';
import { sortedForStore } from './sortDataSet.js';
import type { StoreAccess } from './storeAccess.js';

/**
 * Applies data-source writes to the store in arrival order and works out which flags changed, for the
 * client's `update` events. Diffing costs a read of the old data, so it happens only while someone
 * listens for updates.
 */
export class StoreUpdates implements DataSourceUpdates {
  private readonly dependencies = new DependencyTracker();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StoreAccess,
    private readonly wantsChanges: () => boolean,
    private readonly onChange: (flagKeys: Set<string>) => void,
  ) {}

  init(data: FullDataSet): Promise<void> {
    return this.serially(async () => {
      const diff = this.wantsChanges();
      const before = diff
        ? { flags: await this.store.all<Flag>(FEATURES), segments: await this.store.all<Segment>(SEGMENTS) }
        : undefined;
      await this.store.init(sortedForStore(data));
      this.dependencies.reset();
      for (const [key, flag] of Object.entries(data.flags ?? {})) this.dependencies.track(flagRef(key), flag);
      for (const [key, seg] of Object.entries(data.segments ?? {}))
        this.dependencies.track(segmentRef(key), seg);
      if (before) {
        const changed = [
          ...changedKeys(before.flags, data.flags ?? {}).map(flagRef),
          ...changedKeys(before.segments, data.segments ?? {}).map(segmentRef),
        ];
        this.notify(changed);
      }
    });
  }

  upsert(kind: DataKindName, item: VersionedItem): Promise<void> {
    return this.serially(async () => {
      const dataKind = kind === 'flags' ? FEATURES : SEGMENTS;
      const ref = kind === 'flags' ? flagRef(item.key) : segmentRef(item.key);
      const diff = this.wantsChanges();
      // Reading the old version is free for the in-memory store; for others only worth it when diffing.
      const old =
        diff || this.store.syncData
          ? await this.store.get<{ version: number }>(dataKind, item.key)
          : undefined;
      await this.store.upsert(dataKind, item as unknown as LDKeyedFeatureStoreItem);
      if (old !== undefined && old.version >= item.version) return;
      this.dependencies.track(ref, item);
      if (diff) this.notify([ref]);
    });
  }

  private notify(refs: string[]): void {
    if (refs.length === 0) return;
    const keys = this.dependencies.affectedFlags(refs);
    if (keys.size > 0) this.onChange(keys);
  }

  /** Runs writes one after another even if a data source does not await them. */
  private serially(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => {});
    return run;
  }
}

function changedKeys(
  before: Record<string, { version: number }>,
  after: Record<string, { version: number }>,
) {
  const keys: string[] = [];
  for (const [key, item] of Object.entries(after)) if (before[key]?.version !== item.version) keys.push(key);
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) keys.push(key);
  return keys;
}
