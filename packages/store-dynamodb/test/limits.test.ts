import { BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { FEATURES, SEGMENTS } from '@flagstaff/node-server-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoDBStoreTuning } from '../src/dynamoDBStore.js';
import { DynamoDBPersistentDataStore, type DynamoDBStoreOptions } from '../src/index.js';
import { estimateItemSize } from '../src/itemSize.js';
import {
  errorAnswer,
  type InterceptedAnswer,
  type LocalDynamoDB,
  startDynalite,
} from './support/dynalite.js';
import {
  dataSet,
  flagJson,
  recordingLogger,
  segmentJson,
  serialized,
  silentLogger,
} from './support/fixtures.js';
import { TRANSPORTS } from './support/transports.js';

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
  db.clearRequests();
  return async () => {
    db.intercept(undefined);
    for (const fn of cleanup.splice(0)) await fn();
  };
});

/** How many requests of each operation the server received since the last `db.clearRequests()`. */
function count(operation: string): number {
  return db.requests.filter((r) => r.operation === operation).length;
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

for (const transport of TRANSPORTS) {
  describe(`over ${transport.name}`, () => {
    function makeStore(options: DynamoDBStoreOptions = {}, tuning: DynamoDBStoreTuning = {}) {
      const store = new DynamoDBPersistentDataStore(
        table,
        {
          // One try per request: the AWS SDK's own retries would otherwise hide the store's.
          clientOptions: { ...db.clientConfig, maxAttempts: 1 },
          useAwsSdk: transport.useAwsSdk,
          logger: silentLogger,
          ...options,
        },
        { retry: { baseDelayMs: 1, maxDelayMs: 4 }, ...tuning },
      );
      cleanup.push(() => store.close());
      return store;
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

        expect((await store.getAll(FEATURES)).map((i) => i.key).sort()).toEqual(
          normal.map((f) => f.key).sort(),
        );
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
          dataSet([
            flagOfEstimatedSize('at-limit', 1, 400_000),
            flagOfEstimatedSize('over-limit', 1, 400_001),
          ]),
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
          await store.upsert(
            FEATURES,
            'new',
            serialized(flagJson('new', 1, true, { d: 'q'.repeat(400_000) })),
          ),
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
        const store = makeStore();
        // 30 items of about 100 KB: about 3 MB, so DynamoDB answers in several pages.
        const flags = Array.from({ length: 30 }, (_, i) =>
          flagJson(`big-${String(i).padStart(2, '0')}`, i + 1, true, { description: 'b'.repeat(100_000) }),
        );
        await store.init(dataSet(flags));
        db.clearRequests();
        const all = await store.getAll(FEATURES);
        expect(count('Query')).toBeGreaterThanOrEqual(3);
        expect(all.map((i) => [i.key, i.item.version])).toEqual(flags.map((f) => [f.key, f.version]));
        expect(all.every((i, n) => i.item.serializedItem === JSON.stringify(flags[n]))).toBe(true);
      });

      it('follows pages when reading all items and when init reads existing keys', async () => {
        const store = makeStore({}, { queryPageSize: 4 });
        const flags = Array.from({ length: 17 }, (_, i) => flagJson(`f${i}`, 1));
        await store.init(dataSet(flags));
        db.clearRequests();
        expect((await store.getAll(FEATURES)).length).toBe(17);
        // 17 items in pages of 4: 5 pages (the last, of 1 item, says nothing is left... or one empty page).
        expect(count('Query')).toBeGreaterThanOrEqual(5);

        // Every old key beyond the first page must still be found and deleted.
        await store.init(dataSet([flagJson('only', 1)]));
        expect((await store.getAll(FEATURES)).map((i) => i.key)).toEqual(['only']);
      });
    });

    describe('throttling and unprocessed items', () => {
      const throttlingErrors: [string, () => InterceptedAnswer][] = [
        [
          'ProvisionedThroughputExceededException',
          () => errorAnswer('ProvisionedThroughputExceededException', 'slow down'),
        ],
        ['RequestLimitExceeded', () => errorAnswer('RequestLimitExceeded', 'account limit')],
        // Throttling of the control plane comes from another namespace; only the name after '#' counts.
        [
          'ThrottlingException',
          () => ({
            status: 400,
            body: { __type: 'com.amazon.coral.availability#ThrottlingException', message: 'Rate exceeded' },
          }),
        ],
      ];

      for (const [name, makeError] of throttlingErrors) {
        it(`retries ${name} with backoff on every operation`, async () => {
          let failuresLeft = 0;
          db.intercept(() => {
            if (failuresLeft === 0) return undefined;
            failuresLeft--;
            return makeError();
          });
          const logger = recordingLogger();
          const store = makeStore({ logger });

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
          expect(count('PutItem')).toBe(3);
        });
      }

      it('gives up after the configured attempts and rejects with the throttling error', async () => {
        db.intercept(() => errorAnswer('ProvisionedThroughputExceededException', 'always'));
        const store = makeStore({}, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
        await expect(store.get(FEATURES, 'f')).rejects.toMatchObject({
          name: 'ProvisionedThroughputExceededException',
        });
        expect(count('GetItem')).toBe(3);
      });

      it('does not retry other errors', async () => {
        db.intercept(() => errorAnswer('ValidationException', 'bad'));
        await expect(makeStore().get(FEATURES, 'f')).rejects.toThrow('bad');
        expect(count('GetItem')).toBe(1);
      });

      it('resends what BatchWriteItem leaves unprocessed', async () => {
        db.intercept(async (request) => {
          if (request.operation !== 'BatchWriteItem') return undefined;
          // As DynamoDB does under load: write part of the batch, return the rest as UnprocessedItems.
          const requests = (request.input.RequestItems as Record<string, WriteRequest[]>)[table] ?? [];
          if (requests.length < 2) return undefined;
          const kept = requests.slice(0, Math.ceil(requests.length / 2));
          await db.admin.send(new BatchWriteItemCommand({ RequestItems: { [table]: kept } }));
          return { status: 200, body: { UnprocessedItems: { [table]: requests.slice(kept.length) } } };
        });
        const store = makeStore();
        const flags = Array.from({ length: 40 }, (_, i) => flagJson(`f${i}`, 1));
        await store.init(dataSet(flags));
        expect(count('BatchWriteItem')).toBeGreaterThan(2);
        expect((await store.getAll(FEATURES)).length).toBe(40);
        expect(await store.initialized()).toBe(true);
      });

      it('fails the init when writes stay unprocessed', async () => {
        db.intercept((request) =>
          request.operation === 'BatchWriteItem'
            ? { status: 200, body: { UnprocessedItems: request.input.RequestItems } }
            : undefined,
        );
        const store = makeStore({}, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
        await expect(store.init(dataSet([flagJson('f', 1)]))).rejects.toThrow(/unprocessed after 3 attempts/);
      });
    });

    describe('transient failures', () => {
      it('repeats a request that failed with a 5xx, up to maxAttempts tries', async () => {
        let failuresLeft = 2;
        db.intercept(() => {
          if (failuresLeft === 0) return undefined;
          failuresLeft--;
          return errorAnswer('InternalServerError', 'try again', 500);
        });
        const store = makeStore({ clientOptions: { ...db.clientConfig, maxAttempts: 3 } });
        expect(await store.get(FEATURES, 'f')).toBeUndefined();
        expect(count('GetItem')).toBe(3);

        db.clearRequests();
        failuresLeft = 5;
        await expect(store.get(FEATURES, 'f')).rejects.toMatchObject({ name: 'InternalServerError' });
        expect(count('GetItem')).toBe(3);
      });
    });

    describe('latency', () => {
      it('queries flags and segments concurrently: both kinds cost one round trip', async () => {
        const store = makeStore();
        await makeStore().init(dataSet([flagJson('f', 1)], [segmentJson('s', 1)]));
        // Counted, not timed: each Query is held until the other kind's Query has arrived too, so the
        // reads only complete if they are in flight at the same time.
        let inFlight = 0;
        let maxInFlight = 0;
        db.intercept(async (request) => {
          if (request.operation !== 'Query') return undefined;
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          const deadline = Date.now() + 5000;
          while (inFlight < 2 && maxInFlight < 2 && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 5));
          await new Promise((r) => setTimeout(r, 20));
          inFlight--;
          return undefined;
        });
        const [flags, segments] = await Promise.all([store.getAll(FEATURES), store.getAll(SEGMENTS)]);
        expect(maxInFlight).toBe(2);
        expect(flags.length + segments.length).toBe(2);

        // init reads the existing keys of both kinds at once too.
        maxInFlight = 0;
        await store.init(dataSet([flagJson('f', 2)], [segmentJson('s', 2)]));
        expect(maxInFlight).toBe(2);
      });
    });
  });
}
