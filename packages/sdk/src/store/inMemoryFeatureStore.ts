import type {
  DataKind,
  LDFeatureStore,
  LDFeatureStoreDataStorage,
  LDFeatureStoreItem,
  LDFeatureStoreKindData,
  LDKeyedFeatureStoreItem,
} from '../api/store.js';

/**
 * A store the client can read without callbacks. The in-memory store implements it, so the common
 * evaluation path costs two Map lookups and no promise or callback hops.
 */
export interface SyncFeatureStore {
  /**
   * The live map of one kind, tombstones included. Its identity never changes, so a reader may keep it
   * and save a lookup per read.
   */
  items(kind: DataKind): ReadonlyMap<string, LDFeatureStoreItem>;
  getSync(kind: DataKind, key: string): LDFeatureStoreItem | undefined;
  allSync(kind: DataKind): LDFeatureStoreKindData;
  initializedSync(): boolean;
}

export function isSyncFeatureStore(store: unknown): store is SyncFeatureStore & LDFeatureStore {
  return typeof (store as Partial<SyncFeatureStore>).getSync === 'function';
}

/** The default store: items in Maps, version-checked upserts, tombstones kept for ordering. */
export class InMemoryFeatureStore implements LDFeatureStore, SyncFeatureStore {
  private readonly data = new Map<string, Map<string, LDFeatureStoreItem>>();
  private initCalled = false;

  items(kind: DataKind): Map<string, LDFeatureStoreItem> {
    let items = this.data.get(kind.namespace);
    if (items === undefined) {
      items = new Map();
      this.data.set(kind.namespace, items);
    }
    return items;
  }

  getSync(kind: DataKind, key: string): LDFeatureStoreItem | undefined {
    const item = this.data.get(kind.namespace)?.get(key);
    return item === undefined || item.deleted ? undefined : item;
  }

  allSync(kind: DataKind): LDFeatureStoreKindData {
    const out: LDFeatureStoreKindData = {};
    const items = this.data.get(kind.namespace);
    if (items) for (const [key, item] of items) if (!item.deleted) out[key] = item;
    return out;
  }

  initializedSync(): boolean {
    return this.initCalled;
  }

  /** Replaces everything. */
  initSync(allData: LDFeatureStoreDataStorage): void {
    // Maps are emptied and refilled rather than replaced, keeping the identity `items()` promises.
    for (const items of this.data.values()) items.clear();
    for (const [namespace, items] of Object.entries(allData)) {
      const map = this.items({ namespace });
      for (const [key, item] of Object.entries(items)) map.set(key, item);
    }
    this.initCalled = true;
  }

  /** Stores the item if it is newer; returns whether it was stored. */
  upsertSync(kind: DataKind, item: LDKeyedFeatureStoreItem): boolean {
    const items = this.items(kind);
    const old = items.get(item.key);
    if (old !== undefined && old.version >= item.version) return false;
    items.set(item.key, item);
    return true;
  }

  get(kind: DataKind, key: string, callback: (item: LDFeatureStoreItem | null) => void): void {
    callback(this.getSync(kind, key) ?? null);
  }

  all(kind: DataKind, callback: (items: LDFeatureStoreKindData) => void): void {
    callback(this.allSync(kind));
  }

  init(allData: LDFeatureStoreDataStorage, callback: (err?: Error) => void): void {
    this.initSync(allData);
    callback();
  }

  delete(kind: DataKind, key: string, version: number, callback: () => void): void {
    this.upsertSync(kind, { key, version, deleted: true });
    callback();
  }

  upsert(kind: DataKind, item: LDKeyedFeatureStoreItem, callback: (err?: Error) => void): void {
    this.upsertSync(kind, item);
    callback();
  }

  initialized(callback: (isInitialized: boolean) => void): void {
    callback(this.initCalled);
  }

  close(): void {}

  getDescription(): string {
    return 'memory';
  }
}
