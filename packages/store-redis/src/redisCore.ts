import type {
  DataKind,
  KeyedSerializedItem,
  KindItems,
  LDLogger,
  PersistentDataStore,
  SerializedItem,
} from '@flagstaff/node-server-sdk';
import type { ChainableCommander } from 'ioredis';
import type { RedisConnection } from './connection.js';

/** Fields per HSET inside the init transaction, so no single command grows with the data set. */
const HSET_CHUNK = 500;
/** Attempts of an upsert whose watched hash keeps changing before it gives up. */
const MAX_UPSERT_ATTEMPTS = 20;

/**
 * LaunchDarkly's Redis layout (spec §7.2): hashes `<prefix>:features` and `<prefix>:segments` holding
 * item JSON by key, and the string key `<prefix>:$inited`. Shared with Relay Proxy and every SDK.
 */
export class RedisCore implements PersistentDataStore {
  readonly description = 'Redis';
  /**
   * Writes run one at a time: WATCH belongs to the connection, so a concurrent EXEC (of another upsert
   * or of init) on the same connection would silently drop an upsert's version check.
   */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
    private readonly logger: LDLogger,
  ) {}

  private get client() {
    return this.connection.client;
  }

  private hashKey(kind: DataKind): string {
    return `${this.prefix}:${kind.namespace}`;
  }

  private get initedKey(): string {
    return `${this.prefix}:$inited`;
  }

  init(allData: KindItems[]): Promise<void> {
    return this.serially(async () => {
      await this.connection.connected();
      const multi = this.client.multi();
      for (const { kind, items } of allData) {
        const hash = this.hashKey(kind);
        multi.del(hash);
        for (let i = 0; i < items.length; i += HSET_CHUNK) {
          const fields: string[] = [];
          for (const { key, item } of items.slice(i, i + HSET_CHUNK)) fields.push(key, item.serializedItem);
          multi.hset(hash, ...fields);
        }
      }
      multi.set(this.initedKey, '');
      await execOrThrow(multi);
    });
  }

  async get(kind: DataKind, key: string): Promise<SerializedItem | undefined> {
    await this.connection.connected();
    const json = await this.client.hget(this.hashKey(kind), key);
    return json === null ? undefined : this.describe(json);
  }

  async getAll(kind: DataKind): Promise<KeyedSerializedItem[]> {
    await this.connection.connected();
    const hash = await this.client.hgetall(this.hashKey(kind));
    return Object.entries(hash).map(([key, json]) => ({ key, item: this.describe(json) }));
  }

  upsert(
    kind: DataKind,
    key: string,
    item: SerializedItem,
  ): Promise<{ updated: boolean; current?: SerializedItem }> {
    return this.serially(async () => {
      await this.connection.connected();
      const hash = this.hashKey(kind);
      for (let attempt = 1; attempt <= MAX_UPSERT_ATTEMPTS; attempt++) {
        await this.client.watch(hash);
        let oldJson: string | null;
        try {
          oldJson = await this.client.hget(hash, key);
        } catch (error) {
          await this.client.unwatch().catch(() => {});
          throw error;
        }
        const old = oldJson === null ? undefined : this.describe(oldJson);
        if (old !== undefined && old.version >= item.version) {
          await this.client.unwatch().catch(() => {});
          return { updated: false, current: old };
        }
        // EXEC answers null when the watched hash changed after WATCH: read again and re-decide.
        if ((await execOrThrow(this.client.multi().hset(hash, key, item.serializedItem))) !== null) {
          return { updated: true };
        }
        this.logger.debug(`Redis upsert of "${key}" in ${hash} raced another writer; retrying`);
      }
      throw new Error(`Redis upsert of "${key}" in ${hash} kept conflicting with other writers`);
    });
  }

  async initialized(): Promise<boolean> {
    await this.connection.connected();
    return (await this.client.exists(this.initedKey)) === 1;
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /**
   * Version and deletion come from the JSON (Redis stores nothing else). Unparseable JSON is passed on
   * with version -1, so an upsert may replace it and the SDK's reader reports it.
   */
  private describe(json: string): SerializedItem {
    try {
      const parsed = JSON.parse(json) as { version?: unknown; deleted?: unknown } | null;
      const version = typeof parsed?.version === 'number' ? parsed.version : -1;
      return { version, deleted: parsed?.deleted === true, serializedItem: json };
    } catch {
      return { version: -1, deleted: false, serializedItem: json };
    }
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writes.then(task);
    this.writes = run.catch(() => {});
    return run;
  }
}

/** EXEC, turning a failed queued command into a rejection; null when a watched key changed. */
async function execOrThrow(multi: ChainableCommander): Promise<unknown[] | null> {
  const results = await multi.exec();
  if (results === null) return null;
  for (const [error] of results) if (error) throw error;
  return results.map(([, value]) => value);
}
