import type { Flag, Segment } from '@flagstaff/eval';
import {
  buildConfig,
  type DataKind,
  type DataKindName,
  type DataSource,
  type DataSourceUpdates,
  FEATURES,
  type FullDataSet,
  type LDFeatureStore,
  type LDFeatureStoreItem,
  type LDFeatureStoreKindData,
  type LDLogger,
  type PersistentDataStore,
  SEGMENTS,
  type StreamingInternals,
  serializeItem,
  streamingDataSource,
  toKindItems,
  type VersionedItem,
} from '@flagstaff/node-server-sdk';
import { DynamoDBPersistentDataStore } from '@flagstaff/store-dynamodb';
import { RedisFeatureStore } from '@flagstaff/store-redis';
import { maskKey, maskUrl, type StoreConfig } from './config.js';
import type { RelayEnvironmentConfig } from './environment.js';
import type { EnvironmentData } from './environmentData.js';

// Flags and segments are feature-store items (an object with key and version); the SDK's types are looser.
function asStorage(data: FullDataSet): {
  features: LDFeatureStoreKindData;
  segments: LDFeatureStoreKindData;
} {
  return {
    features: data.flags as unknown as LDFeatureStoreKindData,
    segments: data.segments as unknown as LDFeatureStoreKindData,
  };
}

const KINDS: Record<DataKindName, DataKind> = { flags: FEATURES, segments: SEGMENTS };

/** How long after a failed store write the relay rewrites everything it holds to the store. */
const STORE_RETRY_MS = 5_000;

/**
 * A persistent store as the relay uses it: whole data sets and single items in LaunchDarkly JSON,
 * written in the layout LaunchDarkly's SDKs and Relay read (spec §7, §8.5).
 */
export interface RelayStore {
  readonly database: 'dynamodb' | 'redis';
  /** Shown in /status `dataStoreStatus` (no credentials). */
  readonly info: { dbServer?: string; dbPrefix?: string; dbTable?: string };
  init(data: FullDataSet): Promise<void>;
  /** Version-guarded; a tombstone for `{ deleted: true }` items. */
  upsert(kind: DataKindName, item: VersionedItem): Promise<void>;
  /** What the store holds (tombstones excluded), or undefined when it was never initialized. */
  load(): Promise<FullDataSet | undefined>;
  close(): Promise<void>;
}

/** Over a PersistentDataStore core (DynamoDB): no cache, every write goes to the database. */
export class PersistentRelayStore implements RelayStore {
  constructor(
    readonly database: 'dynamodb' | 'redis',
    readonly info: RelayStore['info'],
    private readonly core: PersistentDataStore,
  ) {}

  init(data: FullDataSet): Promise<void> {
    return this.core.init(toKindItems(asStorage(data)));
  }

  async upsert(kind: DataKindName, item: VersionedItem): Promise<void> {
    await this.core.upsert(KINDS[kind], item.key, serializeItem(item.key, item as LDFeatureStoreItem));
  }

  async load(): Promise<FullDataSet | undefined> {
    if (!(await this.core.initialized())) return undefined;
    const read = async <T>(kind: DataKind) => {
      const out: Record<string, T> = {};
      for (const { key, item } of await this.core.getAll(kind)) {
        if (item.deleted) continue;
        const parsed = JSON.parse(item.serializedItem) as { deleted?: boolean };
        if (parsed.deleted !== true) out[key] = parsed as T;
      }
      return out;
    };
    return { flags: await read<Flag>(FEATURES), segments: await read<Segment>(SEGMENTS) };
  }

  close(): Promise<void> {
    return this.core.close();
  }
}

/**
 * Over an SDK feature store (Redis, whose core the package does not export), with its cache disabled
 * so that reads and version checks see the database, not a possibly stale copy.
 */
export class FeatureStoreRelayStore implements RelayStore {
  constructor(
    readonly database: 'dynamodb' | 'redis',
    readonly info: RelayStore['info'],
    private readonly store: LDFeatureStore,
  ) {}

  init(data: FullDataSet): Promise<void> {
    return new Promise((resolve, reject) =>
      this.store.init(asStorage(data), (err) => (err ? reject(err) : resolve())),
    );
  }

  upsert(kind: DataKindName, item: VersionedItem): Promise<void> {
    return new Promise((resolve, reject) =>
      this.store.upsert(KINDS[kind], item as LDFeatureStoreItem & { key: string }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  async load(): Promise<FullDataSet | undefined> {
    const inited = await new Promise<boolean>((resolve) => this.store.initialized(resolve));
    if (!inited) return undefined;
    const all = (kind: DataKind) =>
      new Promise<Record<string, unknown>>((resolve) => this.store.all(kind, (items) => resolve(items)));
    return {
      flags: (await all(FEATURES)) as Record<string, Flag>,
      segments: (await all(SEGMENTS)) as Record<string, Segment>,
    };
  }

  async close(): Promise<void> {
    this.store.close();
  }
}

/** The store one environment writes to, from the relay's store settings and the environment's own. */
export function createRelayStore(
  store: StoreConfig,
  env: RelayEnvironmentConfig,
  logger: LDLogger,
): RelayStore {
  if (store.kind === 'dynamodb') {
    // The config check guarantees one of the two names.
    const table = env.tableName ?? store.tableName ?? '';
    const core = new DynamoDBPersistentDataStore(table, {
      prefix: env.prefix,
      logger,
      // Region and credentials come from the standard AWS chain; only the endpoint is ours to set.
      ...(store.endpoint !== undefined ? { clientOptions: { endpoint: store.endpoint } } : {}),
    });
    const info: RelayStore['info'] = { dbTable: table };
    if (env.prefix !== undefined) info.dbPrefix = env.prefix;
    if (store.endpoint !== undefined) info.dbServer = store.endpoint;
    return new PersistentRelayStore('dynamodb', info, core);
  }
  const prefix = env.prefix ?? 'launchdarkly';
  const featureStore = RedisFeatureStore({ redisOpts: store.url, prefix, cacheTTL: 0, logger })({
    sdkKey: env.sdkKey,
    logger,
  });
  return new FeatureStoreRelayStore(
    'redis',
    { dbServer: maskUrl(store.url), dbPrefix: prefix },
    featureStore,
  );
}

/** Go SDK data source states, as /status reports them (spec §8.3). */
export type ConnectionState = 'INITIALIZING' | 'VALID' | 'INTERRUPTED' | 'OFF';
export type ErrorKind = 'UNKNOWN' | 'NETWORK_ERROR' | 'ERROR_RESPONSE' | 'INVALID_DATA' | 'STORE_ERROR';

export interface ConnectionStatus {
  state: ConnectionState;
  stateSince: number;
  lastError?: { kind: ErrorKind; time: number; message: string };
  /** True once the upstream (not the store) delivered a full data set. */
  everConnected: boolean;
}

export interface DataStoreStatus {
  state: 'VALID' | 'INTERRUPTED';
  stateSince: number;
}

export interface UpstreamOptions {
  streamUri: string;
  baseUri: string;
  logger: LDLogger;
  store?: RelayStore;
  /** Test hooks of the SDK's stream (read timeout, jitter). */
  streamInternals?: StreamingInternals;
  /** Initial reconnect delay in seconds; default the SDK's (1 s). */
  reconnectDelaySeconds?: number;
  now?: () => number;
}

/**
 * One environment's upstream: the SDK's streaming data source (protocol, backoff with jitter) writing
 * into the relay's EnvironmentData and, when configured, the persistent store (spec §8.4, §8.5).
 */
export class Upstream {
  private source: DataSource | undefined;
  private readonly now: () => number;
  private connection: ConnectionStatus;
  private storeStatus: DataStoreStatus;
  private storeRetry: NodeJS.Timeout | undefined;
  private stopped = false;
  private firstPut: Promise<void>;
  private resolveFirstPut!: () => void;

  constructor(
    readonly data: EnvironmentData,
    private readonly options: UpstreamOptions,
  ) {
    this.now = options.now ?? Date.now;
    const now = this.now();
    this.connection = { state: 'INITIALIZING', stateSince: now, everConnected: false };
    this.storeStatus = { state: 'VALID', stateSince: now };
    this.firstPut = new Promise((resolve) => {
      this.resolveFirstPut = resolve;
    });
  }

  get store(): RelayStore | undefined {
    return this.options.store;
  }

  connectionStatus(): ConnectionStatus {
    return { ...this.connection };
  }

  dataStoreStatus(): DataStoreStatus {
    return { ...this.storeStatus };
  }

  /**
   * Loads what the persistent store holds (so the relay can serve while the upstream is unreachable),
   * then opens the stream, which keeps retrying until stopped.
   */
  async start(): Promise<void> {
    const { store, logger } = this.options;
    const name = this.data.config.name;
    if (store !== undefined) {
      try {
        const held = await store.load();
        if (held !== undefined && !this.data.status().initialized) {
          this.data.applyPut(held.flags, held.segments, this.now());
          logger.info(
            `Environment ${name}: loaded ${Object.keys(held.flags).length} flags from ${store.database} while connecting`,
          );
        }
      } catch (err) {
        this.storeFailed(err);
      }
    }
    if (this.stopped) return;
    const config = buildConfig(this.data.config.sdkKey, {
      streamUri: this.options.streamUri,
      baseUri: this.options.baseUri,
      // Never used (events are off here); set so the SDK does not warn about a partial URI set.
      eventsUri: this.options.baseUri,
      logger,
      sendEvents: false,
      diagnosticOptOut: true,
      ...(this.options.reconnectDelaySeconds !== undefined
        ? { streamInitialReconnectDelay: this.options.reconnectDelaySeconds }
        : {}),
    });
    this.source = streamingDataSource(
      {
        config,
        logger,
        updates: this.updates(),
        status: {
          ready: () => {},
          interrupted: (error) => this.setState('INTERRUPTED', error),
          failed: (error) => this.setState('OFF', error),
        },
      },
      this.options.streamInternals,
    );
    logger.info(
      `Environment ${name}: connecting to ${this.options.streamUri} with ${maskKey(config.sdkKey)}`,
    );
    this.source.start();
  }

  /** Resolves true once the upstream sent its first put, false when `timeoutMs` passes first. */
  async waitForFirstPut(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.firstPut.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.source?.stop();
    clearTimeout(this.storeRetry);
    this.data.setConnected(false);
    this.connection = { ...this.connection, state: 'OFF', stateSince: this.now() };
  }

  private updates(): DataSourceUpdates {
    return {
      init: async (all) => {
        // Store first, then memory: downstream clients told of a put can rely on the store having it.
        await this.writeStore((store) => store.init(all));
        this.data.applyPut(all.flags, all.segments, this.now());
        this.data.setConnected(true);
        this.connection = { ...this.connection, state: 'VALID', stateSince: this.now(), everConnected: true };
        this.resolveFirstPut();
      },
      upsert: async (kind, item) => {
        await this.writeStore((store) => store.upsert(kind, item));
        if ((item as { deleted?: boolean }).deleted === true) {
          this.data.applyDelete(kind, item.key, item.version, this.now());
        } else {
          this.data.applyPatch(kind, item as Flag | Segment, this.now());
        }
      },
    };
  }

  // A store outage must not stop the relay from taking upstream changes into memory: the failure is
  // reported in /status and, once the store answers again, everything is rewritten to it.
  private async writeStore(write: (store: RelayStore) => Promise<void>): Promise<void> {
    const { store } = this.options;
    if (store === undefined) return;
    if (this.storeStatus.state !== 'VALID') return; // The pending full rewrite will carry this change.
    try {
      await write(store);
    } catch (err) {
      this.storeFailed(err);
    }
  }

  private storeFailed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.options.logger.error(`Environment ${this.data.config.name}: persistent store error: ${message}`);
    if (this.storeStatus.state === 'VALID')
      this.storeStatus = { state: 'INTERRUPTED', stateSince: this.now() };
    this.connection = { ...this.connection, lastError: { kind: 'STORE_ERROR', time: this.now(), message } };
    this.scheduleStoreRewrite();
  }

  private scheduleStoreRewrite(): void {
    if (this.stopped || this.storeRetry !== undefined) return;
    this.storeRetry = setTimeout(async () => {
      this.storeRetry = undefined;
      const store = this.options.store;
      if (store === undefined || this.stopped) return;
      try {
        // Only data that came from somewhere is written: an empty init would wipe what the store holds.
        if (this.data.status().initialized) {
          await store.init({ flags: { ...this.data.flags() }, segments: { ...this.data.segments() } });
        } else {
          await store.load();
        }
        this.storeStatus = { state: 'VALID', stateSince: this.now() };
        this.options.logger.info(`Environment ${this.data.config.name}: persistent store available again`);
      } catch {
        this.scheduleStoreRewrite();
      }
    }, STORE_RETRY_MS);
    this.storeRetry.unref();
  }

  private setState(state: ConnectionState, error: Error): void {
    const now = this.now();
    // As in the Go SDK: a source that never became valid stays INITIALIZING while it retries.
    const next = state === 'INTERRUPTED' && this.connection.state === 'INITIALIZING' ? 'INITIALIZING' : state;
    this.connection = {
      ...this.connection,
      state: next,
      stateSince: next === this.connection.state ? this.connection.stateSince : now,
      lastError: { kind: errorKind(error), time: now, message: error.message },
    };
    this.data.setConnected(false, error.message);
    this.options.logger.warn(`Environment ${this.data.config.name}: upstream ${next}: ${error.message}`);
  }
}

function errorKind(error: Error): ErrorKind {
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number') return 'ERROR_RESPONSE';
  if (error.name === 'InvalidDataError') return 'INVALID_DATA';
  if (
    (error as { code?: unknown }).code !== undefined ||
    /ECONN|socket|network|timeout|no data/i.test(error.message)
  ) {
    return 'NETWORK_ERROR';
  }
  return 'UNKNOWN';
}
