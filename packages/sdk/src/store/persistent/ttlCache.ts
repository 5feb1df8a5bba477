/**
 * A TTL map that keeps expired entries: the caching wrapper serves an expired value when the database
 * fails (spec §7.3), so expiry only marks an entry as due for a refresh.
 */
export interface CacheEntry<T> {
  value: T;
  /** Clock time (ms) after which the value must be re-read; Infinity never expires. */
  expiresAt: number;
}

export class TtlCache<T> {
  private readonly entries = new Map<string, CacheEntry<T>>();

  /**
   * @param ttlMs lifetime of an entry; Infinity caches forever, 0 makes every entry stale at once.
   * @param now clock in milliseconds, injectable for tests.
   */
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The entry, fresh or stale. */
  entry(key: string): CacheEntry<T> | undefined {
    return this.entries.get(key);
  }

  /** The value if it has not expired. */
  fresh(key: string): CacheEntry<T> | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && this.isFresh(entry) ? entry : undefined;
  }

  isFresh(entry: CacheEntry<T>): boolean {
    return entry.expiresAt === Number.POSITIVE_INFINITY || this.now() < entry.expiresAt;
  }

  set(key: string, value: T): void {
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  values(): IterableIterator<CacheEntry<T>> {
    return this.entries.values();
  }

  /** Drops the expired entries that `disposable` accepts. */
  sweep(disposable: (value: T) => boolean): void {
    for (const [key, entry] of this.entries) {
      if (!this.isFresh(entry) && disposable(entry.value)) this.entries.delete(key);
    }
  }
}
