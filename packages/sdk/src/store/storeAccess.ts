import type { Clause, EvaluationData, Flag, Segment } from '@flagstaff/eval';
import type {
  DataKind,
  LDFeatureStore,
  LDFeatureStoreDataStorage,
  LDKeyedFeatureStoreItem,
} from '../api/store.js';
import { FEATURES, SEGMENTS } from './dataKinds.js';
import { isSyncFeatureStore, type SyncFeatureStore } from './inMemoryFeatureStore.js';

/**
 * The client's view of its feature store. Callback stores (any LaunchDarkly-compatible store) are
 * wrapped in promises; a store that can answer synchronously (the in-memory store) is also exposed as
 * `EvaluationData` so that evaluation never waits on a callback.
 */
export class StoreAccess {
  /** Present when the store answers synchronously. */
  readonly syncData: EvaluationData | undefined;
  private readonly syncStore: SyncFeatureStore | undefined;

  constructor(readonly store: LDFeatureStore) {
    if (isSyncFeatureStore(store)) {
      this.syncStore = store;
      const flags = store.items(FEATURES);
      const segments = store.items(SEGMENTS);
      this.syncData = {
        getFlag: (key) => live(flags.get(key)) as Flag | undefined,
        getSegment: (key) => live(segments.get(key)) as Segment | undefined,
      };
    }
  }

  initializedSync(): boolean | undefined {
    return this.syncStore?.initializedSync();
  }

  get<T>(kind: DataKind, key: string): Promise<T | undefined> {
    return new Promise((resolve) =>
      this.store.get(kind, key, (item) => resolve(item && !item.deleted ? (item as T) : undefined)),
    );
  }

  all<T>(kind: DataKind): Promise<Record<string, T>> {
    return new Promise((resolve) =>
      this.store.all(kind, (items) => resolve((items ?? {}) as Record<string, T>)),
    );
  }

  initialized(): Promise<boolean> {
    return new Promise((resolve) => this.store.initialized((inited) => resolve(inited === true)));
  }

  init(data: LDFeatureStoreDataStorage): Promise<void> {
    return new Promise((resolve, reject) => this.store.init(data, (err) => (err ? reject(err) : resolve())));
  }

  upsert(kind: DataKind, item: LDKeyedFeatureStoreItem): Promise<void> {
    return new Promise((resolve, reject) =>
      this.store.upsert(kind, item, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * Loads a flag and everything its evaluation can reach (prerequisites, segments, nested segments)
   * from an asynchronous store, one round of parallel reads per level, into synchronous lookups.
   */
  async loadForEvaluation(flagKey: string): Promise<{ flag: Flag | undefined; data: EvaluationData }> {
    const flags = new Map<string, Flag | undefined>();
    const segments = new Map<string, Segment | undefined>();
    const data: EvaluationData = { getFlag: (k) => flags.get(k), getSegment: (k) => segments.get(k) };
    const root = await this.get<Flag>(FEATURES, flagKey);
    flags.set(flagKey, root);
    if (!root) return { flag: undefined, data };

    let pendingFlags: Flag[] = [root];
    let pendingSegments: Segment[] = [];
    while (pendingFlags.length > 0 || pendingSegments.length > 0) {
      const wantFlags = new Set<string>();
      const wantSegments = new Set<string>();
      for (const flag of pendingFlags) {
        for (const p of flag.prerequisites ?? []) if (!flags.has(p.key)) wantFlags.add(p.key);
        for (const rule of flag.rules ?? []) collectSegmentKeys(rule.clauses, segments, wantSegments);
      }
      for (const segment of pendingSegments) {
        for (const rule of segment.rules ?? []) collectSegmentKeys(rule.clauses, segments, wantSegments);
      }
      const [loadedFlags, loadedSegments] = await Promise.all([
        Promise.all([...wantFlags].map((k) => this.get<Flag>(FEATURES, k))),
        Promise.all([...wantSegments].map((k) => this.get<Segment>(SEGMENTS, k))),
      ]);
      pendingFlags = [];
      pendingSegments = [];
      [...wantFlags].forEach((k, i) => {
        const f = loadedFlags[i];
        flags.set(k, f);
        if (f) pendingFlags.push(f);
      });
      [...wantSegments].forEach((k, i) => {
        const s = loadedSegments[i];
        segments.set(k, s);
        if (s) pendingSegments.push(s);
      });
    }
    return { flag: root, data };
  }
}

function collectSegmentKeys(
  clauses: readonly Clause[] | undefined,
  known: Map<string, unknown>,
  out: Set<string>,
): void {
  for (const clause of clauses ?? []) {
    if (clause.op !== 'segmentMatch') continue;
    for (const v of clause.values) if (typeof v === 'string' && !known.has(v)) out.add(v);
  }
}

function live<T extends { deleted?: boolean }>(item: T | undefined): T | undefined {
  return item === undefined || item.deleted ? undefined : item;
}
