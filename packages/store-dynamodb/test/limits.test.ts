import {
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { FEATURES, SEGMENTS } from '@flagstaff/node-server-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoDBStoreTuning } from '../src/dynamoDBStore.js';
import { DynamoDBPersistentDataStore, type DynamoDBStoreOptions } from '../src/index.js';
import { estimateItemSize } from '../src/itemSize.js';
import { type LocalDynamoDB, startDynalite } from './support/dynalite.js';
import {
  dataSet,
  flagJson,
  recordingLogger,
  segmentJson,
  serialized,
  silentLogger,
} from './support/fixtures.js';

let db: LocalDynamoDB;
let table: string;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  table = await db.createTable();
  return async () => {
    for (const fn of cleanup.splice(0)) await fn();
  };
});

/** The shape of an AWS SDK v3 "initialize" step middleware, as far as these tests use it. */
type Handler = (args: { input: unknown }) => Promise<{ output: unknown; response: unknown }>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;

/** A real client whose requests pass through `middleware` first (before the SDK's own retries). */
function clientWith(middleware: Middleware): DynamoDBClient {
  // maxAttempts 1: the SDK's retry strategy would otherwise hide the store's own retries.
  const client = new DynamoDBClient({ ...db.clientConfig, maxAttempts: 1 });
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'testHook' });
  cleanup.push(() => client.destroy());
  return client;
}

/** Counts requests per command name. */
function counting(counts: Map<string, number>): Middleware {
  return (next, context) => async (args) => {
    counts.set(context.commandName as string, (counts.get(context.commandName as string) ?? 0) + 1);
    return next(args);
  };
}

function makeStore(options: DynamoDBStoreOptions = {}, tuning: DynamoDBStoreTuning = {}) {
  const store = new DynamoDBPersistentDataStore(
    table,
    { dynamoDBClient: db.admin, logger: silentLogger, ...options },
    { retry: { baseDelayMs: 1, maxDelayMs: 4 }, ...tuning },
  );
  cleanup.push(() => store.close());
  return store;
}

/** A flag whose serialized item makes the estimated DynamoDB item exactly `size` bytes. */
function flagOfEstimatedSize(key: string, version: number, size: number, namespace = 'features') {
  const base = flagJson(key, version, true, { description: '' });
  const record = {
    namespace: { S: namespace },
    key: { S: key },
    version: { N: String(version) },
    item: { S: JSON.stringify(base) },
  };
  const padding = size - estimateItemSize(record);
  return flagJson(key, version, true, { description: 'x'.repeat(padding) });
}

describe('item size limit (400 KB)', () => {
  it('estimates 100 + attribute name lengths + UTF-8 byte lengths of values', () => {
    expect(estimateItemSize({ namespace: { S: 'features' }, key: { S: 'k' } })).toBe(100 + 9 + 8 + 3 + 1);
    expect(estimateItemSize({ version: { N: '123' }, item: { S: '€' } })).toBe(100 + 7 + 3 + 4 + 3);
  });

  it('drops an oversized flag in init with an error naming it, and still writes every other item', async () => {
    const logger = recordingLogger();
    const store = makeStore({ logger });
    const huge = flagJson('huge', 1, true, { description: 'y'.repeat(400_000) });
    const normal = Array.from({ length: 30 }, (_, i) => flagJson(`normal-${i}`, 1));
    await store.init(dataSet([...normal.slice(0, 15), huge, ...normal.slice(15)], [segmentJson('s', 1)]));

    expect((await store.getAll(FEATURES)).map((i) => i.key).sort()).toEqual(normal.map((f) => f.key).sort());
    expect((await store.getAll(SEGMENTS)).map((i) => i.key)).toEqual(['s']);
    expect(await store.initialized()).toBe(true);
    expect(logger.errors()).toEqual([
      'The item "huge" in "features" was too large to store in DynamoDB and was dropped',
    ]);
  });

  it('counts bytes, not characters, and names the prefixed namespace', async () => {
    const logger = recordingLogger();
    const store = makeStore({ logger, prefix: 'Prod' });
    // 150,000 characters but 450,000 bytes of UTF-8.
    const wide = segmentJson('wide', 1, ['€'.repeat(150_000)]);
    await store.init(dataSet([flagJson('f', 1)], [wide]));
    expect(await store.getAll(SEGMENTS)).toEqual([]);
    expect(logger.errors()).toEqual([
      'The item "wide" in "Prod:segments" was too large to store in DynamoDB and was dropped',
    ]);
  });

  it('accepts an item of exactly 400000 estimated bytes and drops one of 400001', async () => {
    const logger = recordingLogger();
    const store = makeStore({ logger });
    await store.init(
      dataSet([flagOfEstimatedSize('at-limit', 1, 400_000), flagOfEstimatedSize('over-limit', 1, 400_001)]),
    );
    expect((await store.getAll(FEATURES)).map((i) => i.key)).toEqual(['at-limit']);
    expect(logger.errors()).toEqual([
      'The item "over-limit" in "features" was too large to store in DynamoDB and was dropped',
    ]);
  });

  it('a re-init that drops an oversized item deletes its old copy rather than serving it stale', async () => {
    const store = makeStore();
    await store.init(dataSet([flagJson('grows', 1)]));
    await store.init(dataSet([flagJson('grows', 2, true, { description: 'z'.repeat(400_000) })]));
    expect(await store.get(FEATURES, 'grows')).toBeUndefined();
  });

  it('does not write an oversized upsert and answers with the item kept', async () => {
    const logger = recordingLogger();
    const store = makeStore({ logger });
    await store.init(dataSet([flagJson('f', 1)]));
    const result = await store.upsert(
      FEATURES,
      'f',
      serialized(flagJson('f', 2, true, { description: 'q'.repeat(400_000) })),
    );
    expect(result).toEqual({ updated: false, current: serialized(flagJson('f', 1)) });
    expect(
      await store.upsert(FEATURES, 'new', serialized(flagJson('new', 1, true, { d: 'q'.repeat(400_000) }))),
    ).toEqual({
      updated: false,
    });
    expect(logger.errors()).toEqual([
      'The item "f" in "features" was too large to store in DynamoDB and was dropped',
      'The item "new" in "features" was too large to store in DynamoDB and was dropped',
    ]);
  });

  it('drops items whose key DynamoDB cannot store without failing their batch', async () => {
    const logger = recordingLogger();
    const store = makeStore({ logger });
    await store.init(dataSet([flagJson('', 1), flagJson('k'.repeat(1025), 1), flagJson('fine', 1)]));
    expect((await store.getAll(FEATURES)).map((i) => i.key)).toEqual(['fine']);
    expect(logger.errors()).toHaveLength(2);
  });
});

describe('pagination', () => {
  it('getAll follows Query pages of 1 MB across large items', async () => {
    const counts = new Map<string, number>();
    const store = makeStore({ dynamoDBClient: clientWith(counting(counts)) });
    // 30 items of about 100 KB: about 3 MB, so DynamoDB answers in several pages.
    const flags = Array.from({ length: 30 }, (_, i) =>
      flagJson(`big-${String(i).padStart(2, '0')}`, i + 1, true, { description: 'b'.repeat(100_000) }),
    );
    await store.init(dataSet(flags));
    counts.clear();
    const all = await store.getAll(FEATURES);
    expect(counts.get('QueryCommand')).toBeGreaterThanOrEqual(3);
    expect(all.map((i) => [i.key, i.item.version])).toEqual(flags.map((f) => [f.key, f.version]));
    expect(all.every((i, n) => i.item.serializedItem === JSON.stringify(flags[n]))).toBe(true);
  });

  it('follows pages when reading all items and when init reads existing keys', async () => {
    const counts = new Map<string, number>();
    const store = makeStore({ dynamoDBClient: clientWith(counting(counts)) }, { queryPageSize: 4 });
    const flags = Array.from({ length: 17 }, (_, i) => flagJson(`f${i}`, 1));
    await store.init(dataSet(flags));
    counts.clear();
    expect((await store.getAll(FEATURES)).length).toBe(17);
    // 17 items in pages of 4: 5 pages (the last, of 1 item, says nothing is left... or one empty page).
    expect(counts.get('QueryCommand')).toBeGreaterThanOrEqual(5);

    // Every old key beyond the first page must still be found and deleted.
    await store.init(dataSet([flagJson('only', 1)]));
    expect((await store.getAll(FEATURES)).map((i) => i.key)).toEqual(['only']);
  });
});

describe('throttling and unprocessed items', () => {
  const throttlingErrors = [
    () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }),
    () => new RequestLimitExceeded({ message: 'account limit', $metadata: {} }),
    () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
  ];

  for (const makeError of throttlingErrors) {
    it(`retries ${makeError().name} with backoff on every operation`, async () => {
      let failuresLeft = 0;
      const seen: string[] = [];
      const client = clientWith((next, context) => async (args) => {
        seen.push(context.commandName as string);
        if (failuresLeft > 0) {
          failuresLeft--;
          throw makeError();
        }
        return next(args);
      });
      const logger = recordingLogger();
      const store = makeStore({ dynamoDBClient: client, logger });

      failuresLeft = 2;
      await store.init(dataSet([flagJson('f', 1)]));
      failuresLeft = 2;
      expect((await store.get(FEATURES, 'f'))?.version).toBe(1);
      failuresLeft = 2;
      expect((await store.getAll(FEATURES)).length).toBe(1);
      failuresLeft = 2;
      expect(await store.upsert(FEATURES, 'f', serialized(flagJson('f', 2)))).toEqual({ updated: true });
      failuresLeft = 2;
      expect(await store.initialized()).toBe(true);
      expect(logger.lines.filter((l) => l.level === 'warn').length).toBe(10);
      expect(seen.filter((c) => c === 'PutItemCommand')).toHaveLength(3);
    });
  }

  it('gives up after the configured attempts and rejects with the throttling error', async () => {
    let calls = 0;
    const client = clientWith(() => async () => {
      calls++;
      throw new ProvisionedThroughputExceededException({ message: 'always', $metadata: {} });
    });
    const store = makeStore(
      { dynamoDBClient: client },
      { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } },
    );
    await expect(store.get(FEATURES, 'f')).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    expect(calls).toBe(3);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const client = clientWith(() => async () => {
      calls++;
      throw Object.assign(new Error('bad'), { name: 'ValidationException' });
    });
    await expect(makeStore({ dynamoDBClient: client }).get(FEATURES, 'f')).rejects.toThrow('bad');
    expect(calls).toBe(1);
  });

  it('resends what BatchWriteItem leaves unprocessed', async () => {
    let batches = 0;
    const client = clientWith((next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      batches++;
      // As DynamoDB does under load: accept part of the batch, return the rest as UnprocessedItems.
      const input = args.input as { RequestItems: Record<string, WriteRequest[]> };
      const requests = input.RequestItems[table] ?? [];
      if (requests.length < 2) return next(args);
      const kept = requests.slice(0, Math.ceil(requests.length / 2));
      const left = requests.slice(kept.length);
      const result = await next({ ...args, input: { RequestItems: { [table]: kept } } });
      const output = result.output as { UnprocessedItems?: Record<string, WriteRequest[]> };
      output.UnprocessedItems = { [table]: left };
      return result;
    });
    const store = makeStore({ dynamoDBClient: client });
    const flags = Array.from({ length: 40 }, (_, i) => flagJson(`f${i}`, 1));
    await store.init(dataSet(flags));
    expect(batches).toBeGreaterThan(2);
    expect((await store.getAll(FEATURES)).length).toBe(40);
    expect(await store.initialized()).toBe(true);
  });

  it('fails the init when writes stay unprocessed', async () => {
    const client = clientWith((next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      const input = args.input as { RequestItems: Record<string, WriteRequest[]> };
      return { output: { UnprocessedItems: input.RequestItems, $metadata: {} }, response: {} };
    });
    const store = makeStore(
      { dynamoDBClient: client },
      { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } },
    );
    await expect(store.init(dataSet([flagJson('f', 1)]))).rejects.toThrow(/unprocessed after 3 attempts/);
  });
});

describe('latency', () => {
  it('queries flags and segments concurrently: both kinds cost one round trip', async () => {
    const client = clientWith((next, context) => async (args) => {
      if (context.commandName === 'QueryCommand') await new Promise((r) => setTimeout(r, 300));
      return next(args);
    });
    const store = makeStore({ dynamoDBClient: client });
    await makeStore().init(dataSet([flagJson('f', 1)], [segmentJson('s', 1)]));
    const started = Date.now();
    const [flags, segments] = await Promise.all([store.getAll(FEATURES), store.getAll(SEGMENTS)]);
    expect(Date.now() - started).toBeLessThan(550);
    expect(flags.length + segments.length).toBe(2);

    // init reads the existing keys of both kinds at once too.
    const initStarted = Date.now();
    await store.init(dataSet([flagJson('f', 2)], [segmentJson('s', 2)]));
    expect(Date.now() - initStarted).toBeLessThan(550);
  });
});
