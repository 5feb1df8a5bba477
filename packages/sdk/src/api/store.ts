/*
 * The feature store contract of LaunchDarkly's Node SDKs (callback style), kept as it is so that a
 * store written for either SDK plugs into the other.
 */

/** Which collection an item belongs to: `features` (flags) or `segments`. */
export interface DataKind {
  namespace: string;
}

export interface LDFeatureStoreItem {
  deleted?: boolean;
  version: number;
  [attribute: string]: unknown;
}

export interface LDKeyedFeatureStoreItem extends LDFeatureStoreItem {
  key: string;
}

export interface LDFeatureStoreKindData {
  [key: string]: LDFeatureStoreItem;
}

/** A full data set keyed by namespace: `{ features: {...}, segments: {...} }`. */
export interface LDFeatureStoreDataStorage {
  [namespace: string]: LDFeatureStoreKindData;
}

export interface LDFeatureStore {
  /** The item, or null when absent or deleted. */
  get(kind: DataKind, key: string, callback: (item: LDFeatureStoreItem | null) => void): void;
  /** Every item of a kind except tombstones. */
  all(kind: DataKind, callback: (items: LDFeatureStoreKindData) => void): void;
  /** Replaces all data. */
  init(allData: LDFeatureStoreDataStorage, callback: (err?: Error) => void): void;
  /** Stores a tombstone when `version` is newer than the current item. */
  delete(kind: DataKind, key: string, version: number, callback: () => void): void;
  /** Stores the item when its version is newer than the current one. */
  upsert(kind: DataKind, item: LDKeyedFeatureStoreItem, callback: (err?: Error) => void): void;
  /** Whether the store has ever received a full data set. */
  initialized(callback: (isInitialized: boolean) => void): void;
  close(): void;
  getDescription?(): string;
}
