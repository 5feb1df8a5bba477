import { BatchWriteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FEATURES, SEGMENTS } from '@flagstaff/node-server-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDBPersistentDataStore, type DynamoDBStoreOptions } from '../src/index.js';
import { type LocalDynamoDB, startDynalite } from './support/dynalite.js';
import {
  dataSet,
  flagJson,
  recordingLogger,
  segmentJson,
  serialized,
  silentLogger,
  tombstone,
} from './support/fixtures.js';
import { TRANSPORTS } from './support/transports.js';

let db: LocalDynamoDB;
let table: string;
const stores: DynamoDBPersistentDataStore[] = [];

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  table = await db.createTable();
  return async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  };
});

/** The table's raw items as `namespace|key` -> attributes, to check the exact layout of §7.1. */
async function rawItems(): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (const item of await db.scan(table)) {
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(item))
      flat[name] = value.S !== undefined ? `S:${value.S}` : `N:${value.N}`;
    out.set(`${item.namespace?.S}|${item.key?.S}`, flat);
  }
  return out;
}

for (const transport of TRANSPORTS) {
  describe(`over ${transport.name}`, () => {
    function makeStore(options: DynamoDBStoreOptions = {}): DynamoDBPersistentDataStore {
      const store = new DynamoDBPersistentDataStore(table, {
        clientOptions: db.clientConfig,
        useAwsSdk: transport.useAwsSdk,
        logger: silentLogger,
        ...options,
      });
      stores.push(store);
      return store;
    }

    /** What each BatchWriteItem the store sent held for the table: its requests. */
    function batches(): { PutRequest?: { Item: Record<string, { S?: string }> } }[][] {
      return db.requests
        .filter((r) => r.operation === 'BatchWriteItem')
        .map((r) => (r.input.RequestItems as Record<string, []>)[table] ?? []);
    }

    it(`sends its requests through ${transport.name}`, () => {
      expect(makeStore().transport).toBe(transport.transport);
    });

    describe('layout (spec §7.1)', () => {
      it('writes namespace, key, version (N) and item (S), and the $inited marker without other attributes', async () => {
        const store = makeStore();
        const flag = flagJson('f1', 3);
        const segment = segmentJson('s1', 7, ['u1']);
        await store.init(dataSet([flag], [segment]));
        const items = await rawItems();
        expect(items).toEqual(
          new Map([
            [
              'features|f1',
              { namespace: 'S:features', key: 'S:f1', version: 'N:3', item: `S:${JSON.stringify(flag)}` },
            ],
            [
              'segments|s1',
              { namespace: 'S:segments', key: 'S:s1', version: 'N:7', item: `S:${JSON.stringify(segment)}` },
            ],
            ['$inited|$inited', { namespace: 'S:$inited', key: 'S:$inited' }],
          ]),
        );
      });

      it('prefixes every namespace and the marker with "<prefix>:" when a prefix is set', async () => {
        const store = makeStore({ prefix: 'Prod' });
        await store.init(dataSet([flagJson('f1', 1)], [segmentJson('s1', 1)]));
        expect([...(await rawItems()).keys()].sort()).toEqual([
          'Prod:$inited|Prod:$inited',
          'Prod:features|f1',
          'Prod:segments|s1',
        ]);
        await store.upsert(FEATURES, 'f2', serialized(flagJson('f2', 1)));
        expect((await rawItems()).has('Prod:features|f2')).toBe(true);
      });

      it('treats an empty prefix as no prefix (no colon)', async () => {
        await makeStore({ prefix: '' }).init(dataSet([flagJson('f1', 1)]));
        expect([...(await rawItems()).keys()].sort()).toEqual(['$inited|$inited', 'features|f1']);
      });

      it('keeps prefixed environments apart in one table', async () => {
        const staging = makeStore({ prefix: 'Staging' });
        const prod = makeStore({ prefix: 'Prod' });
        const plain = makeStore();
        await staging.init(dataSet([flagJson('a', 1), flagJson('shared', 1)]));
        await prod.init(dataSet([flagJson('b', 2), flagJson('shared', 2)]));
        expect(await plain.initialized()).toBe(false);
        await plain.init(dataSet([flagJson('c', 3)]));
        // Re-initializing one environment deletes only its own stale items.
        await staging.init(dataSet([flagJson('shared', 5)]));
        expect((await staging.getAll(FEATURES)).map((i) => i.key)).toEqual(['shared']);
        expect((await prod.getAll(FEATURES)).map((i) => [i.key, i.item.version])).toEqual([
          ['b', 2],
          ['shared', 2],
        ]);
        expect((await plain.getAll(FEATURES)).map((i) => i.key)).toEqual(['c']);
      });
    });

    describe('init', () => {
      it('replaces the data: new items written, items missing from the new data deleted, marker kept', async () => {
        const store = makeStore();
        await store.init(dataSet([flagJson('keep', 1), flagJson('gone', 1)], [segmentJson('seg-gone', 1)]));
        await store.init(dataSet([flagJson('keep', 2), flagJson('new', 1)], [segmentJson('seg-new', 4)]));
        expect([...(await rawItems()).keys()].sort()).toEqual([
          '$inited|$inited',
          'features|keep',
          'features|new',
          'segments|seg-new',
        ]);
        expect((await store.get(FEATURES, 'keep'))?.version).toBe(2);
      });

      it('writes without version checks: an init may lower a version', async () => {
        const store = makeStore();
        await store.init(dataSet([flagJson('f', 10)]));
        await store.init(dataSet([flagJson('f', 2)]));
        expect((await store.get(FEATURES, 'f'))?.version).toBe(2);
      });

      it('only touches the namespaces it is given', async () => {
        const store = makeStore();
        await store.init(dataSet([flagJson('f', 1)], [segmentJson('s', 1)]));
        await store.init([{ kind: FEATURES, items: [] }]);
        expect([...(await rawItems()).keys()].sort()).toEqual(['$inited|$inited', 'segments|s']);
      });

      it('never deletes the $inited marker, even when it shares a namespace being written', async () => {
        const store = makeStore();
        // The second init finds the marker among the existing keys of the namespace it writes.
        await store.init([{ kind: { namespace: '$inited' }, items: [] }]);
        await store.init([{ kind: { namespace: '$inited' }, items: [] }]);
        expect(await store.initialized()).toBe(true);
        expect((await rawItems()).has('$inited|$inited')).toBe(true);
      });

      it('writes and deletes more than 25 items in chunks BatchWriteItem accepts', async () => {
        const store = makeStore();
        const first = Array.from({ length: 60 }, (_, i) => flagJson(`flag-${i}`, 1));
        const segments = Array.from({ length: 13 }, (_, i) => segmentJson(`seg-${i}`, 1));
        db.clearRequests();
        await store.init(dataSet(first, segments));
        // 73 items + the marker = 74 requests: 25 + 25 + 24.
        expect(batches().map((b) => b.length)).toEqual([25, 25, 24]);
        expect((await store.getAll(FEATURES)).length).toBe(60);
        expect((await store.getAll(SEGMENTS)).length).toBe(13);

        db.clearRequests();
        // 10 flags kept, 50 deleted, 13 segments deleted, plus the marker = 74 requests again.
        await store.init(dataSet(first.slice(0, 10)));
        expect(batches().map((b) => b.length)).toEqual([25, 25, 24]);
        expect((await store.getAll(FEATURES)).map((i) => i.key).sort()).toEqual(
          first
            .slice(0, 10)
            .map((f) => f.key)
            .sort(),
        );
        expect(await store.getAll(SEGMENTS)).toEqual([]);
      });

      it('writes segments before flags and flags in the order given', async () => {
        const store = makeStore();
        db.clearRequests();
        await store.init(dataSet([flagJson('prereq', 1), flagJson('dependent', 1)], [segmentJson('s', 1)]));
        const order = batches()
          .flat()
          .map((r) => `${r.PutRequest?.Item.namespace?.S}:${r.PutRequest?.Item.key?.S}`);
        expect(order).toEqual(['segments:s', 'features:prereq', 'features:dependent', '$inited:$inited']);
      });
    });

    describe('get, getAll, upsert', () => {
      it('get returns the stored JSON and version; undefined when absent', async () => {
        const store = makeStore();
        const flag = flagJson('f', 4);
        await store.init(dataSet([flag]));
        expect(await store.get(FEATURES, 'f')).toEqual({
          version: 4,
          deleted: false,
          serializedItem: JSON.stringify(flag),
        });
        expect(await store.get(FEATURES, 'missing')).toBeUndefined();
        expect(await store.get(SEGMENTS, 'f')).toBeUndefined();
      });

      it('getAll returns every item of a kind, tombstones included', async () => {
        const store = makeStore();
        await store.init(dataSet([flagJson('a', 1), flagJson('b', 2)], [segmentJson('s', 3)]));
        await store.upsert(FEATURES, 'b', tombstone('b', 3));
        const all = await store.getAll(FEATURES);
        expect(all.map((i) => [i.key, i.item.version, i.item.deleted])).toEqual([
          ['a', 1, false],
          ['b', 3, true],
        ]);
        expect((await store.getAll(SEGMENTS)).map((i) => i.key)).toEqual(['s']);
        expect(await store.getAll({ namespace: 'other' })).toEqual([]);
      });

      it('upsert writes only a strictly newer version and otherwise returns the item kept', async () => {
        const store = makeStore();
        await store.init(dataSet([flagJson('f', 5)]));
        const kept = serialized(flagJson('f', 5));

        expect(await store.upsert(FEATURES, 'f', serialized(flagJson('f', 4, false)))).toEqual({
          updated: false,
          current: kept,
        });
        expect(await store.upsert(FEATURES, 'f', serialized(flagJson('f', 5, false)))).toEqual({
          updated: false,
          current: kept,
        });
        expect((await store.get(FEATURES, 'f'))?.serializedItem).toBe(kept.serializedItem);

        const newer = serialized(flagJson('f', 6, false));
        expect(await store.upsert(FEATURES, 'f', newer)).toEqual({ updated: true });
        expect(await store.get(FEATURES, 'f')).toEqual(newer);

        // No item yet: any version is written.
        expect(await store.upsert(FEATURES, 'brand-new', serialized(flagJson('brand-new', 1)))).toEqual({
          updated: true,
        });
      });

      it('stores deletes as tombstones that older versions cannot overwrite and newer ones resurrect', async () => {
        const store = makeStore();
        await store.init(dataSet([flagJson('f', 1)]));
        expect(await store.upsert(FEATURES, 'f', tombstone('f', 2))).toEqual({ updated: true });
        expect(await store.get(FEATURES, 'f')).toEqual(tombstone('f', 2));
        expect((await rawItems()).get('features|f')).toEqual({
          namespace: 'S:features',
          key: 'S:f',
          version: 'N:2',
          item: 'S:{"key":"f","version":2,"deleted":true}',
        });

        const stale = await store.upsert(FEATURES, 'f', serialized(flagJson('f', 2)));
        expect(stale).toEqual({ updated: false, current: tombstone('f', 2) });

        expect(await store.upsert(FEATURES, 'f', serialized(flagJson('f', 3)))).toEqual({ updated: true });
        expect((await store.get(FEATURES, 'f'))?.deleted).toBe(false);
      });

      it('a deleted item is recognised from its JSON even when written by another store', async () => {
        const store = makeStore();
        // Go's and JS's stores write the same tombstone JSON; the "deleted" field decides, whatever its spacing.
        await db.admin.send(
          new PutItemCommand({
            TableName: table,
            Item: {
              namespace: { S: 'features' },
              key: { S: 'g' },
              version: { N: '9' },
              item: { S: '{ "key": "g", "version": 9, "deleted" : true }' },
            },
          }),
        );
        expect((await store.get(FEATURES, 'g'))?.deleted).toBe(true);
        // A flag with "deleted": false is not a tombstone.
        await store.upsert(FEATURES, 'h', serialized(flagJson('h', 1)));
        expect((await store.get(FEATURES, 'h'))?.deleted).toBe(false);
      });

      it('concurrent upserts of the same key keep the highest version', async () => {
        const store = makeStore();
        const versions = Array.from({ length: 20 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
        const results = await Promise.all(
          versions.map((v) => store.upsert(FEATURES, 'race', serialized(flagJson('race', v)))),
        );
        expect(results.some((r) => r.updated)).toBe(true);
        expect((await store.get(FEATURES, 'race'))?.version).toBe(20);
      });

      it('skips unreadable items with an error instead of failing the read', async () => {
        const logger = recordingLogger();
        const store = makeStore({ logger });
        await db.admin.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [table]: [
                {
                  PutRequest: {
                    Item: { namespace: { S: 'features' }, key: { S: 'no-item' }, version: { N: '1' } },
                  },
                },
                {
                  PutRequest: {
                    Item: { namespace: { S: 'features' }, key: { S: 'bad' }, item: { S: '{"deleted": tru' } },
                  },
                },
                {
                  PutRequest: {
                    Item: {
                      namespace: { S: 'features' },
                      key: { S: 'ok' },
                      version: { N: '2' },
                      item: { S: '{"key":"ok","version":2}' },
                    },
                  },
                },
              ],
            },
          }),
        );
        expect((await store.getAll(FEATURES)).map((i) => i.key)).toEqual(['ok']);
        expect(logger.errors()).toEqual([
          'The item "bad" in "features" is not valid JSON and was ignored',
          'The item "no-item" in "features" has no "item" attribute and was ignored',
        ]);
      });
    });

    describe('initialized', () => {
      it('is false until an init writes the marker, and true from then on', async () => {
        const store = makeStore({ prefix: 'p' });
        expect(await store.initialized()).toBe(false);
        await store.upsert(FEATURES, 'f', serialized(flagJson('f', 1)));
        expect(await store.initialized()).toBe(false);
        await store.init(dataSet([]));
        expect(await store.initialized()).toBe(true);
        expect(await makeStore({ prefix: 'other' }).initialized()).toBe(false);
      });
    });

    describe('clients', () => {
      it('creates its own client from v3 options or from v2-style flat credentials', async () => {
        const v3 = makeStore({ clientOptions: db.clientConfig });
        await v3.init(dataSet([flagJson('f', 1)]));
        const v2 = makeStore({
          clientOptions: {
            endpoint: db.endpoint,
            region: db.region,
            accessKeyId: db.accessKeyId,
            secretAccessKey: db.secretAccessKey,
          },
        });
        expect(v2.transport).toBe(transport.transport);
        expect((await v2.get(FEATURES, 'f'))?.version).toBe(1);
      });

      it('rejects with the database error when DynamoDB fails', async () => {
        const store = new DynamoDBPersistentDataStore('no-such-table', {
          clientOptions: db.clientConfig,
          useAwsSdk: transport.useAwsSdk,
          logger: silentLogger,
        });
        stores.push(store);
        await expect(store.get(FEATURES, 'f')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
        await expect(store.init(dataSet([flagJson('f', 1)]))).rejects.toMatchObject({
          name: 'ResourceNotFoundException',
        });
      });
    });
  });
}

describe('a client given to the store', () => {
  it('is used through AWS SDK v3', async () => {
    const store = new DynamoDBPersistentDataStore(table, { dynamoDBClient: db.admin, logger: silentLogger });
    stores.push(store);
    expect(store.transport).toBe('aws-sdk');
    await store.init(dataSet([flagJson('f', 1)]));
    expect((await store.get(FEATURES, 'f'))?.version).toBe(1);
  });

  it('is not destroyed by the store', async () => {
    const client = new DynamoDBClient(db.clientConfig);
    try {
      const store = new DynamoDBPersistentDataStore(table, { dynamoDBClient: client, logger: silentLogger });
      await store.init(dataSet([flagJson('f', 1)]));
      await store.close();
      // Still usable by its owner.
      const again = new DynamoDBPersistentDataStore(table, { dynamoDBClient: client, logger: silentLogger });
      expect(await again.initialized()).toBe(true);
    } finally {
      client.destroy();
    }
  });
});

it('requires a table name', () => {
  expect(() => new DynamoDBPersistentDataStore('', {})).toThrow(/table name/);
});
