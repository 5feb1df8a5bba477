import type { DataKind, LDFeatureStoreItem, LDFeatureStoreKindData } from '../api/store.js';

/**
 * What a store offers beyond LaunchDarkly's callback contract so that the client can tell "absent" from
 * "the database failed" (the callback contract has no error channel for reads) and can skip promises
 * when the answer is already in memory. The persistent-store caching wrapper implements it.
 */
export interface PromiseFeatureStore {
  /** The live item, or null when absent or deleted; rejects when the store cannot answer. */
  getAsync(kind: DataKind, key: string): Promise<LDFeatureStoreItem | null>;
  /** Every live item of a kind; rejects when the store cannot answer. */
  allAsync(kind: DataKind): Promise<LDFeatureStoreKindData>;
  initializedAsync(): Promise<boolean>;
  /**
   * Answers from memory without I/O when it can: the live item, null when known to be absent or
   * deleted, undefined when only the database knows.
   */
  getCached?(kind: DataKind, key: string): LDFeatureStoreItem | null | undefined;
}

export function isPromiseFeatureStore(store: unknown): store is PromiseFeatureStore {
  return typeof (store as Partial<PromiseFeatureStore>).getAsync === 'function';
}
