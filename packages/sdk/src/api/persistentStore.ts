import type { DataKind } from './store.js';

/**
 * An item as a persistent store keeps it: the JSON text as received plus the version, so a store
 * never parses flags (only the caching wrapper above it does). A deleted item is a tombstone whose
 * `serializedItem` is the tombstone JSON `{"key":...,"version":N,"deleted":true}`.
 */
export interface SerializedItem {
  version: number;
  deleted: boolean;
  serializedItem: string;
}

export interface KeyedSerializedItem {
  key: string;
  item: SerializedItem;
}

/** One kind's items for `init`, in write order (segments before flags, flags prerequisites first). */
export interface KindItems {
  kind: DataKind;
  items: KeyedSerializedItem[];
}

/**
 * The contract of a database-backed store (DynamoDB, Redis) under the SDK's caching wrapper
 * (spec §7). Methods reject on database errors; the wrapper decides what the client sees.
 */
export interface PersistentDataStore {
  /** Replaces all data: writes every item, deletes items no longer present, then the `$inited` marker. */
  init(allData: KindItems[]): Promise<void>;
  /** The item (tombstones included), or undefined. */
  get(kind: DataKind, key: string): Promise<SerializedItem | undefined>;
  /** Every item of a kind, tombstones included. */
  getAll(kind: DataKind): Promise<KeyedSerializedItem[]>;
  /**
   * Writes the item only if no item exists or the existing version is lower. Resolves with whether it
   * was written and, when not, the item that is kept.
   */
  upsert(
    kind: DataKind,
    key: string,
    item: SerializedItem,
  ): Promise<{ updated: boolean; current?: SerializedItem }>;
  /** Whether the `$inited` marker exists. */
  initialized(): Promise<boolean>;
  close(): Promise<void>;
  /** Reported in diagnostics as the data store type, e.g. `DynamoDB`, `Redis`. */
  readonly description: string;
}

/** Cache lifetime option of store factories, in seconds: 0 disables, a negative number or Infinity caches forever. */
export type CacheTTL = number;
