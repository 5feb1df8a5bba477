// The webhook-driven sync function (spec §9.1): a webhook (or an hourly schedule) triggers it, it reads
// the environment's full data set from the flag service or a relay and writes it into the DynamoDB table
// that application functions read in daemon mode.
import {
  basicLogger,
  FEATURES,
  type KindItems,
  type LDFeatureStoreDataStorage,
  type LDFeatureStoreItem,
  type LDLogger,
  SEGMENTS,
  type SerializedItem,
  toKindItems,
  tombstoneJson,
} from '@flagstaff/node-server-sdk';
import { DynamoDBPersistentDataStore, type DynamoDBStoreOptions } from '@flagstaff/store-dynamodb';
import { hasValidSignature, isScheduledEvent, methodOf, rawBody, type SyncEvent } from './event.js';

export type { SyncEvent } from './event.js';

export interface SyncHandlerOptions {
  /** The DynamoDB table (partition key `namespace`, sort key `key`); required. */
  tableName?: string;
  /** Namespace prefix, the same as the readers' `DynamoDBFeatureStore` prefix. */
  prefix?: string;
  /** The environment's SDK key; default `FLAGSTAFF_SDK_KEY`. */
  sdkKey?: string;
  /** The flag service or relay, e.g. `https://flags.example.com`; default `FLAGSTAFF_BASE_URI`. */
  baseUri?: string;
  /** The webhook's signing secret; default `FLAGSTAFF_WEBHOOK_SECRET`. Without it HTTP calls get 401. */
  webhookSecret?: string;
  /** How the store reaches DynamoDB, as `DynamoDBPersistentDataStore` takes it. */
  dynamoDB?: Pick<DynamoDBStoreOptions, 'clientOptions' | 'dynamoDBClient' | 'useAwsSdk'>;
  /** Milliseconds allowed for fetching the data set; default 10000. */
  fetchTimeoutMs?: number;
  logger?: LDLogger;
}

export interface SyncResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}

/** The Lambda handler; `close()` releases the store's connections (tests, or a process about to exit). */
export type SyncHandler = ((event: SyncEvent) => Promise<SyncResponse>) & { close(): Promise<void> };

/** What one sync did: items in the fetched data (tombstones excluded) and items written. */
export interface SyncResult {
  flags: number;
  segments: number;
  updated: number;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function respond(statusCode: number, body: unknown): SyncResponse {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

class UpstreamError extends Error {}

function required(name: string, value: string | undefined, envName?: string): string {
  if (typeof value !== 'string' || value === '') {
    const hint = envName ? ` (option ${name} or ${envName})` : ` (option ${name})`;
    throw new TypeError(`createSyncHandler: missing configuration${hint}`);
  }
  return value;
}

export function createSyncHandler(options: SyncHandlerOptions = {}): SyncHandler {
  const tableName = required('tableName', options.tableName);
  const sdkKey = required('sdkKey', options.sdkKey ?? process.env.FLAGSTAFF_SDK_KEY, 'FLAGSTAFF_SDK_KEY');
  const baseUri = required(
    'baseUri',
    options.baseUri ?? process.env.FLAGSTAFF_BASE_URI,
    'FLAGSTAFF_BASE_URI',
  ).replace(/\/+$/, '');
  const webhookSecret = options.webhookSecret ?? process.env.FLAGSTAFF_WEBHOOK_SECRET;
  const logger = options.logger ?? basicLogger();
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 10_000;
  if (!webhookSecret) {
    logger.warn('Sync function has no webhook secret: HTTP calls are refused, only scheduled runs sync');
  }

  // One store per container: warm invocations reuse its kept-alive connections.
  let store: DynamoDBPersistentDataStore | undefined;
  const storeOf = () => {
    store ??= new DynamoDBPersistentDataStore(tableName, {
      prefix: options.prefix,
      ...options.dynamoDB,
      logger,
    });
    return store;
  };

  async function fetchAll(): Promise<LDFeatureStoreDataStorage> {
    let res: Response;
    try {
      res = await fetch(`${baseUri}/sdk/latest-all`, {
        headers: { authorization: sdkKey, accept: 'application/json', 'user-agent': 'FlagstaffSync/0.1' },
        signal: AbortSignal.timeout(fetchTimeoutMs),
      });
    } catch (err) {
      throw new UpstreamError(`request failed: ${(err as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new UpstreamError(`status ${res.status}`);
    }
    let data: unknown;
    try {
      data = await res.json();
    } catch (err) {
      throw new UpstreamError(`invalid JSON: ${(err as Error).message}`);
    }
    const { flags, segments } = (data ?? {}) as { flags?: unknown; segments?: unknown };
    const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isMap(flags) || (segments !== undefined && !isMap(segments))) {
      throw new UpstreamError('the answer is not a data set ({flags, segments})');
    }
    return {
      [SEGMENTS.namespace]: (segments ?? {}) as Record<string, LDFeatureStoreItem>,
      [FEATURES.namespace]: flags as Record<string, LDFeatureStoreItem>,
    };
  }

  async function sync(): Promise<SyncResult> {
    const db = storeOf();
    // The table is read BEFORE the data set is fetched. An item in this snapshot that the fetched data
    // lacks was therefore written from data older than ours, and a tombstone for it is right. Read
    // after the fetch, the snapshot could hold an item that a concurrent sync wrote from newer data,
    // and we would delete a flag that exists.
    const [storedSegments, storedFlags] = await Promise.all([db.getAll(SEGMENTS), db.getAll(FEATURES)]);
    const stored = new Map<string, Map<string, SerializedItem>>([
      [SEGMENTS.namespace, new Map(storedSegments.map(({ key, item }) => [key, item]))],
      [FEATURES.namespace, new Map(storedFlags.map(({ key, item }) => [key, item]))],
    ]);

    const data = await fetchAll();
    // Segments first, flags prerequisites first: a reader polling during the sync never meets a flag
    // whose segment or prerequisite is not there yet.
    const kinds: KindItems[] = toKindItems(data);
    const result: SyncResult = { flags: 0, segments: 0, updated: 0 };
    for (const { kind, items } of kinds) {
      const existing = stored.get(kind.namespace) ?? new Map<string, SerializedItem>();
      for (const { key, item } of items) {
        if (!item.deleted) {
          if (kind.namespace === FEATURES.namespace) result.flags++;
          else result.segments++;
        }
        const current = existing.get(key);
        existing.delete(key);
        // Known equal or newer: skip the write (the conditional put would refuse it anyway).
        if (current !== undefined && current.version >= item.version) continue;
        if ((await db.upsert(kind, key, item)).updated) result.updated++;
      }
      // What the table has and the data set does not: the flag or segment is gone (deleted, or its
      // environment's data replaced). A tombstone one version above the stored item hides it from
      // readers and, being a conditional write, loses to any newer item written meanwhile.
      for (const [key, item] of existing) {
        if (item.deleted) continue;
        const version = item.version + 1;
        const tombstone = { version, deleted: true, serializedItem: tombstoneJson(key, version) };
        if ((await db.upsert(kind, key, tombstone)).updated) result.updated++;
      }
    }
    // Last, so that readers that see the marker find the whole data set.
    await db.markInitialized();
    return result;
  }

  async function run(): Promise<SyncResponse> {
    try {
      const result = await sync();
      logger.info(
        `Synced ${result.flags} flag(s) and ${result.segments} segment(s) into "${tableName}", ${result.updated} written`,
      );
      return respond(200, result);
    } catch (err) {
      // Messages name the base URI and the table, never the SDK key or the secret.
      if (err instanceof UpstreamError) {
        logger.error(`Sync failed: fetching ${baseUri}/sdk/latest-all: ${err.message}`);
        return respond(502, { error: 'could not fetch the flag data' });
      }
      logger.error(`Sync failed: writing to DynamoDB table "${tableName}": ${(err as Error).message}`);
      return respond(500, { error: 'could not write the flag data' });
    }
  }

  const handler = async (event: SyncEvent): Promise<SyncResponse> => {
    const request = (event ?? {}) as SyncEvent;
    if (isScheduledEvent(request)) return run();
    const method = methodOf(request);
    if (method !== undefined && method !== 'POST') return respond(405, { error: 'method not allowed' });
    // The payload is only a trigger (spec §9.1), but it must come from the webhook: an unsigned call
    // could make the function hammer the flag service and DynamoDB.
    if (!webhookSecret || !hasValidSignature(request, webhookSecret, rawBody(request))) {
      logger.warn('Sync request refused: missing or invalid signature');
      return respond(401, { error: 'invalid signature' });
    }
    return run();
  };
  return Object.assign(handler, {
    async close() {
      const current = store;
      store = undefined;
      await current?.close();
    },
  });
}
