import type { EvaluationData, Flag, Segment } from '@flagstaff/eval';
import type {
  DataKind,
  LDFeatureStore,
  LDFeatureStoreDataStorage,
  LDKeyedFeatureStoreItem,
} from '../api/store.js';
import { FEATURES, SEGMENTS } from './dataKinds.js';
import { type LoadedForEvaluation, type LoaderSource, loadForEvaluation } from './evaluationLoader.js';
import { isSyncFeatureStore, type SyncFeatureStore } from './inMemoryFeatureStore.js';
import { isPromiseFeatureStore, type PromiseFeatureStore } from './promiseFeatureStore.js';

/**
 * The client's view of its feature store. Callback stores (any LaunchDarkly-compatible store) are
 * wrapped in promises; a store that can answer synchronously (the in-memory store) is also exposed as
 * `EvaluationData` so that evaluation never waits on a callback.
 */
export class StoreAccess {
  /** Present when the store answers synchronously. */
  readonly syncData: EvaluationData | undefined;
  private readonly syncStore: SyncFeatureStore | undefined;
  private readonly promiseStore: PromiseFeatureStore | undefined;

  constructor(readonly store: LDFeatureStore) {
    if (isPromiseFeatureStore(store)) this.promiseStore = store;
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

  /** The live item, or undefined when absent, deleted or unreadable (a store error counts as absent). */
  get<T>(kind: DataKind, key: string): Promise<T | undefined> {
    return new Promise((resolve) =>
      this.store.get(kind, key, (item) => resolve(item && !item.deleted ? (item as T) : undefined)),
    );
  }

  /** Like `get`, but rejects when the store reports an error (only stores with a promise API can). */
  getStrict<T>(kind: DataKind, key: string): Promise<T | undefined> {
    if (this.promiseStore === undefined) return this.get(kind, key);
    return this.promiseStore.getAsync(kind, key).then((item) => (item ?? undefined) as T | undefined);
  }

  /** Every live item; a store error gives an empty set. */
  all<T>(kind: DataKind): Promise<Record<string, T>> {
    return new Promise((resolve) =>
      this.store.all(kind, (items) => resolve((items ?? {}) as Record<string, T>)),
    );
  }

  /** Like `all`, but rejects when the store reports an error (only stores with a promise API can). */
  allStrict<T>(kind: DataKind): Promise<Record<string, T>> {
    if (this.promiseStore === undefined) return this.all(kind);
    return this.promiseStore.allAsync(kind) as Promise<Record<string, T>>;
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
   * A flag and everything its evaluation can reach, as synchronous lookups: synchronously when the
   * store has it all in memory, else after reading the rest (rejecting when the store fails).
   */
  loadForEvaluation(flagKey: string): LoadedForEvaluation | Promise<LoadedForEvaluation> {
    return loadForEvaluation(this.loaderSource, flagKey);
  }

  private readonly loaderSource: LoaderSource = {
    cached: (kind, key) => this.promiseStore?.getCached?.(kind, key),
    fetch: (kind, key) => this.getStrict(kind, key),
  };
}

function live<T extends { deleted?: boolean }>(item: T | undefined): T | undefined {
  return item === undefined || item.deleted ? undefined : item;
}
