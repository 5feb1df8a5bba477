import type {
  DataKind,
  KeyedSerializedItem,
  KindItems,
  PersistentDataStore,
  SerializedItem,
} from '../../src/index.js';

/**
 * A PersistentDataStore in memory that counts calls, can be made to fail, and can hold reads at a gate
 * so that tests control when the "database" answers.
 */
export class FakePersistentStore implements PersistentDataStore {
  readonly description = 'Fake';
  readonly data = new Map<string, Map<string, SerializedItem>>();
  inited = false;
  failing = false;
  readonly calls = { init: 0, get: 0, getAll: 0, upsert: 0, initialized: 0, close: 0 };
  readonly inits: KindItems[][] = [];
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  /** Holds every read until `release()`. */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  /** Writes as another process would (no cache involved). */
  put(namespace: string, key: string, item: Record<string, unknown> & { version: number }): void {
    this.ns(namespace).set(key, {
      version: item.version,
      deleted: item.deleted === true,
      serializedItem: JSON.stringify(item),
    });
  }

  private ns(namespace: string): Map<string, SerializedItem> {
    let map = this.data.get(namespace);
    if (map === undefined) {
      map = new Map();
      this.data.set(namespace, map);
    }
    return map;
  }

  private async ready(): Promise<void> {
    await this.gate;
    if (this.failing) throw new Error('database down');
  }

  async init(allData: KindItems[]): Promise<void> {
    this.calls.init++;
    await this.ready();
    this.inits.push(allData);
    for (const { kind, items } of allData) {
      const map = this.ns(kind.namespace);
      map.clear();
      for (const { key, item } of items) map.set(key, item);
    }
    this.inited = true;
  }

  async get(kind: DataKind, key: string): Promise<SerializedItem | undefined> {
    this.calls.get++;
    await this.ready();
    return this.data.get(kind.namespace)?.get(key);
  }

  async getAll(kind: DataKind): Promise<KeyedSerializedItem[]> {
    this.calls.getAll++;
    await this.ready();
    return [...(this.data.get(kind.namespace) ?? [])].map(([key, item]) => ({ key, item }));
  }

  async upsert(kind: DataKind, key: string, item: SerializedItem) {
    this.calls.upsert++;
    await this.ready();
    const map = this.ns(kind.namespace);
    const old = map.get(key);
    if (old !== undefined && old.version >= item.version) return { updated: false, current: old };
    map.set(key, item);
    return { updated: true };
  }

  async initialized(): Promise<boolean> {
    this.calls.initialized++;
    await this.ready();
    return this.inited;
  }

  async close(): Promise<void> {
    this.calls.close++;
  }
}
