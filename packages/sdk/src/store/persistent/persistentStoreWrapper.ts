import type { LDLogger } from '../../api/logger.js';
import type { PersistentDataStore } from '../../api/persistentStore.js';
import type {
  DataKind,
  LDFeatureStore,
  LDFeatureStoreDataStorage,
  LDFeatureStoreItem,
  LDFeatureStoreKindData,
  LDKeyedFeatureStoreItem,
} from '../../api/store.js';
import { basicLogger } from '../../logging/basicLogger.js';
import type { PromiseFeatureStore } from '../promiseFeatureStore.js';
import { messageOf, OutageRecovery } from './outageRecovery.js';
import { deserializeItem, serializeItem, toKindItems } from './serialization.js';
import { TtlCache } from './ttlCache.js';

export interface PersistentStoreWrapperOptions {
  /**
   * Cache lifetime in seconds (spec §7.3): 0 disables the cache, a negative number or Infinity caches
   * forever (the database is then written to but read only for what the cache has never seen).
   */
  cacheTTL: number;
  /** Where database errors and recoveries are reported. Default: `basicLogger()`. */
  logger?: LDLogger;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
  /** Cache-forever only: milliseconds between availability probes after a failed write. Default 1000. */
  recoveryInterval?: number;
}

/** Cached misses between two sweeps of the expired ones. */
const MISSES_PER_SWEEP = 1000;

/** Kind data cached by the wrapper: tombstones included, so that `get` can answer "deleted" from memory. */
type KindMap = Map<string, LDFeatureStoreItem>;

/**
 * LaunchDarkly's `LDFeatureStore` over a database-backed `PersistentDataStore`, with the SDK-side cache
 * of spec §7.3. Items, whole kinds and a negative `initialized` answer are cached for `cacheTTL`;
 * concurrent reads of one key share one database read; a read that fails is answered from the cache
 * (even an expired entry) when there is one.
 */
export class PersistentStoreWrapper implements LDFeatureStore, PromiseFeatureStore {
  private readonly ttlMs: number;
  private readonly caching: boolean;
  private readonly forever: boolean;
  private readonly logger: LDLogger;
  private readonly now: () => number;
  private readonly items: TtlCache<LDFeatureStoreItem | null>;
  private readonly kinds: TtlCache<KindMap>;
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly recovery: OutageRecovery | undefined;
  /** Once true, true for good: the marker is never removed (spec §7.3). */
  private inited = false;
  private notInitedUntil = Number.NEGATIVE_INFINITY;
  /**
   * Changes whenever a write starts or ends. A read started under an older value may have raced the
   * write, so its result is returned to its callers but not cached.
   */
  private epoch = 0;
  private available = true;
  private closed = false;
  private missesSinceSweep = 0;

  constructor(
    private readonly core: PersistentDataStore,
    options: PersistentStoreWrapperOptions,
  ) {
    this.logger = options.logger ?? basicLogger();
    this.now = options.now ?? Date.now;
    const ttl = options.cacheTTL;
    if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
      this.logger.warn(`${core.description} store: cacheTTL must be a number of seconds; caching is off`);
    }
    this.forever = typeof ttl === 'number' && (ttl < 0 || ttl === Number.POSITIVE_INFINITY);
    this.ttlMs = this.forever
      ? Number.POSITIVE_INFINITY
      : typeof ttl === 'number' && ttl > 0
        ? ttl * 1000
        : 0;
    this.caching = this.ttlMs > 0;
    this.items = new TtlCache(this.ttlMs, this.now);
    this.kinds = new TtlCache(this.ttlMs, this.now);
    if (this.forever) {
      this.recovery = new OutageRecovery(
        options.recoveryInterval ?? 1000,
        () => core.initialized(),
        () => this.rewriteFromCache(),
        this.logger,
        core.description,
      );
    }
  }

  // ---- Promise API (rejects when the database fails and nothing is cached) ----

  getCached(kind: DataKind, key: string): LDFeatureStoreItem | null | undefined {
    if (!this.caching) return undefined;
    const item = this.fromMemory(kind, key, itemId(kind, key));
    return item === undefined ? undefined : live(item);
  }

  getAsync(kind: DataKind, key: string): Promise<LDFeatureStoreItem | null> {
    const id = itemId(kind, key);
    if (this.caching) {
      const item = this.fromMemory(kind, key, id);
      if (item !== undefined) return Promise.resolve(live(item));
    }
    return this.coalesce(id, () => this.readItem(kind, key, id)).then(live);
  }

  /**
   * A fresh item entry, or else a fresh list of the whole kind (which also knows what is absent: after
   * an init with cache forever, nothing outside it needs a database read).
   */
  private fromMemory(kind: DataKind, key: string, id: string): LDFeatureStoreItem | null | undefined {
    const entry = this.items.fresh(id);
    if (entry !== undefined) return entry.value;
    const all = this.kinds.fresh(kind.namespace);
    return all === undefined ? undefined : (all.value.get(key) ?? null);
  }

  allAsync(kind: DataKind): Promise<LDFeatureStoreKindData> {
    if (this.caching) {
      const entry = this.kinds.fresh(kind.namespace);
      if (entry !== undefined) return Promise.resolve(liveObject(entry.value));
    }
    return this.coalesce(`$all:${kind.namespace}`, () => this.readAll(kind)).then(liveObject);
  }

  initializedAsync(): Promise<boolean> {
    if (this.inited) return Promise.resolve(true);
    if (this.caching && this.now() < this.notInitedUntil) return Promise.resolve(false);
    return this.coalesce('$inited', async () => {
      const epoch = this.epoch;
      const inited = await this.attempt(() => this.core.initialized());
      if (inited) this.inited = true;
      else if (this.caching && epoch === this.epoch) this.notInitedUntil = this.now() + this.ttlMs;
      return inited;
    });
  }

  async initAsync(allData: LDFeatureStoreDataStorage): Promise<void> {
    const kinds = toKindItems(allData);
    this.beginWrite();
    let failure: unknown;
    try {
      await this.attempt(() => this.core.init(kinds));
    } catch (error) {
      failure = error;
    }
    this.endWrite();
    // Cache forever keeps the new data even when the database refused it: memory is the source of
    // truth in that mode, and the database is rewritten from it once it answers again.
    if (failure === undefined || this.forever) {
      this.items.clear();
      this.kinds.clear();
      for (const { kind } of kinds) {
        const map: KindMap = new Map();
        for (const [key, item] of Object.entries(allData[kind.namespace] ?? {})) {
          const cached = item.deleted ? { key, version: item.version, deleted: true } : item;
          map.set(key, cached);
          if (this.caching) this.items.set(itemId(kind, key), cached);
        }
        if (this.caching) this.kinds.set(kind.namespace, map);
      }
      this.inited = true;
    }
    if (failure !== undefined) {
      if (this.forever) this.recovery?.start();
      throw failure;
    }
  }

  async upsertAsync(kind: DataKind, item: LDKeyedFeatureStoreItem): Promise<void> {
    const key = item.key;
    const id = itemId(kind, key);
    this.beginWrite();
    let result: Awaited<ReturnType<PersistentDataStore['upsert']>>;
    try {
      result = await this.attempt(() => this.core.upsert(kind, key, serializeItem(key, item)));
    } catch (error) {
      this.endWrite();
      if (this.forever) {
        const cached = this.items.entry(id)?.value;
        if (cached === undefined || cached === null || cached.version < item.version) {
          this.cacheItem(kind, key, normalized(key, item));
        }
        this.recovery?.start();
      }
      throw error;
    }
    this.endWrite();
    if (!this.caching) return;
    let stored: LDFeatureStoreItem | undefined;
    if (result.updated) stored = normalized(key, item);
    else if (result.current !== undefined) {
      try {
        stored = deserializeItem(key, result.current);
      } catch {
        stored = undefined;
      }
    }
    if (stored === undefined) {
      this.items.delete(id);
      this.kinds.delete(kind.namespace);
    } else {
      this.cacheItem(kind, key, stored);
    }
  }

  // ---- LaunchDarkly's callback contract ----

  get(kind: DataKind, key: string, callback: (item: LDFeatureStoreItem | null) => void): void {
    const cached = this.getCached(kind, key);
    if (cached !== undefined) {
      this.deliver(callback, cached);
      return;
    }
    this.getAsync(kind, key).then(
      (item) => this.deliver(callback, item),
      () => this.deliver(callback, null),
    );
  }

  all(kind: DataKind, callback: (items: LDFeatureStoreKindData) => void): void {
    this.allAsync(kind).then(
      (items) => this.deliver(callback, items),
      () => this.deliver(callback, {}),
    );
  }

  init(allData: LDFeatureStoreDataStorage, callback: (err?: Error) => void): void {
    this.initAsync(allData).then(
      () => this.deliver(callback, undefined),
      (error) => this.deliver(callback, asError(error)),
    );
  }

  upsert(kind: DataKind, item: LDKeyedFeatureStoreItem, callback: (err?: Error) => void): void {
    this.upsertAsync(kind, item).then(
      () => this.deliver(callback, undefined),
      (error) => this.deliver(callback, asError(error)),
    );
  }

  delete(kind: DataKind, key: string, version: number, callback: () => void): void {
    this.upsertAsync(kind, { key, version, deleted: true }).then(
      () => this.deliver(callback, undefined),
      () => this.deliver(callback, undefined),
    );
  }

  initialized(callback: (isInitialized: boolean) => void): void {
    if (this.inited) {
      this.deliver(callback, true);
      return;
    }
    this.initializedAsync().then(
      (inited) => this.deliver(callback, inited),
      () => this.deliver(callback, false),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.recovery?.stop();
    this.core.close().catch((error: unknown) => {
      this.logger.warn(`${this.core.description} store: error while closing: ${messageOf(error)}`);
    });
  }

  getDescription(): string {
    return this.core.description;
  }

  // ---- internals ----

  private async readItem(kind: DataKind, key: string, id: string): Promise<LDFeatureStoreItem | null> {
    const epoch = this.epoch;
    try {
      const serialized = await this.attempt(() => this.core.get(kind, key));
      const item = serialized === undefined ? null : deserializeItem(key, serialized);
      if (this.caching && epoch === this.epoch) {
        this.items.set(id, item);
        if (item === null) this.noteMiss();
      }
      return item;
    } catch (error) {
      const stale = this.items.entry(id) ?? this.staleFromKind(kind, key);
      if (stale !== undefined) return stale.value;
      throw error;
    }
  }

  private async readAll(kind: DataKind): Promise<KindMap> {
    const epoch = this.epoch;
    try {
      const list = await this.attempt(() => this.core.getAll(kind));
      const map: KindMap = new Map();
      for (const { key, item } of list) {
        try {
          map.set(key, deserializeItem(key, item));
        } catch (error) {
          // One unreadable item must not hide every other flag.
          this.logger.error(`${this.core.description} store: skipping "${key}": ${messageOf(error)}`);
        }
      }
      if (this.caching && epoch === this.epoch) {
        this.kinds.set(kind.namespace, map);
        for (const [key, item] of map) this.items.set(itemId(kind, key), item);
      }
      return map;
    } catch (error) {
      const stale = this.kinds.entry(kind.namespace);
      if (stale !== undefined) return stale.value;
      throw error;
    }
  }

  /**
   * Expired entries stay as a fallback for outages, but a cached miss is worth little there, and
   * lookups of ever new unknown keys would otherwise grow the cache without bound.
   */
  private noteMiss(): void {
    if (++this.missesSinceSweep < MISSES_PER_SWEEP) return;
    this.missesSinceSweep = 0;
    this.items.sweep((value) => value === null);
  }

  /** An item known only through a cached whole-kind read (absent there = absent). */
  private staleFromKind(kind: DataKind, key: string): { value: LDFeatureStoreItem | null } | undefined {
    const entry = this.kinds.entry(kind.namespace);
    return entry === undefined ? undefined : { value: entry.value.get(key) ?? null };
  }

  private cacheItem(kind: DataKind, key: string, item: LDFeatureStoreItem): void {
    this.items.set(itemId(kind, key), item);
    const all = this.kinds.entry(kind.namespace);
    // A forever-cached kind never expires, so it is kept current instead of being dropped (and it is
    // what the database is rewritten from after an outage).
    if (this.forever && all !== undefined) all.value.set(key, item);
    else this.kinds.delete(kind.namespace);
  }

  /** Shares one database read among concurrent callers of the same key. */
  private coalesce<T>(id: string, read: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(id);
    if (pending !== undefined) return pending as Promise<T>;
    const promise = read();
    this.inFlight.set(id, promise);
    const forget = () => {
      if (this.inFlight.get(id) === promise) this.inFlight.delete(id);
    };
    promise.then(forget, forget);
    return promise;
  }

  private beginWrite(): void {
    this.epoch++;
    // Readers arriving from now on must not join a read that may miss this write.
    this.inFlight.clear();
  }

  private endWrite(): void {
    this.epoch++;
    this.inFlight.clear();
    if (!this.caching) return;
    // A negative `initialized` answer may be out of date once anything was written.
    this.notInitedUntil = Number.NEGATIVE_INFINITY;
  }

  /** Runs a database call, logging the first failure of an outage and the recovery after it. */
  private async attempt<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      if (!this.available) {
        this.available = true;
        this.logger.warn(`${this.core.description} store is available again`);
      }
      return result;
    } catch (error) {
      if (this.available) {
        this.available = false;
        this.logger.error(
          `${this.core.description} store error: ${messageOf(error)}; serving cached data where there is any`,
        );
      } else {
        this.logger.debug(`${this.core.description} store error: ${messageOf(error)}`);
      }
      throw error;
    }
  }

  private async rewriteFromCache(): Promise<void> {
    const data: LDFeatureStoreDataStorage = {};
    for (const namespace of ['segments', 'features']) {
      const entry = this.kinds.entry(namespace);
      if (entry !== undefined) data[namespace] = Object.fromEntries(entry.value);
    }
    if (Object.keys(data).length === 0) return;
    await this.attempt(() => this.core.init(toKindItems(data)));
  }

  /** Calls back without letting a throwing callback turn into an unhandled rejection. */
  private deliver<T>(callback: (value: T) => void, value: T): void {
    try {
      callback(value);
    } catch (error) {
      this.logger.error(`feature store callback threw: ${messageOf(error)}`);
    }
  }
}

function itemId(kind: DataKind, key: string): string {
  return `${kind.namespace}:${key}`;
}

function live(item: LDFeatureStoreItem | null): LDFeatureStoreItem | null {
  return item === null || item.deleted ? null : item;
}

function liveObject(items: KindMap): LDFeatureStoreKindData {
  const out: LDFeatureStoreKindData = {};
  for (const [key, item] of items) if (!item.deleted) out[key] = item;
  return out;
}

function normalized(key: string, item: LDFeatureStoreItem): LDFeatureStoreItem {
  return item.deleted ? { key, version: item.version, deleted: true } : item;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
