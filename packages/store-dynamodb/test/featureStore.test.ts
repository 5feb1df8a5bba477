import {
  FEATURES,
  init,
  integrations,
  type LDClient,
  type LDClientContext,
  type LDFeatureStore,
  type LDOptions,
  SEGMENTS,
} from '@flagstaff/node-server-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDBFeatureStore, DynamoDBPersistentDataStore } from '../src/index.js';
import { type LocalDynamoDB, startDynalite } from './support/dynalite.js';
import { flagJson, recordingLogger, silentLogger } from './support/fixtures.js';
import {
  CONTEXTS,
  DELETED_FLAG,
  FLAG_KEYS,
  FLAGS,
  MISSING_FLAG,
  SEGMENTS as SEGMENT_DATA,
} from './support/scenario.js';
import { TRANSPORTS } from './support/transports.js';

let db: LocalDynamoDB;
let table: string;
const clients: LDClient[] = [];

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  table = await db.createTable();
  return async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  };
});

const context: LDClientContext = { sdkKey: 'sdk-key', logger: silentLogger };
const base: LDOptions = { sendEvents: false, diagnosticOptOut: true, logger: silentLogger } as LDOptions;

function client(options: LDOptions): LDClient {
  const c = init('sdk-key', { ...base, ...options });
  clients.push(c);
  return c;
}

function promised<T>(run: (cb: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => run(resolve));
}

/** Every flag for every context, as `variationDetail` answers. */
async function evaluateAll(c: LDClient): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const ctx of CONTEXTS) {
    for (const key of FLAG_KEYS) results.push([key, ctx, await c.variationDetail(key, ctx, 'default')]);
  }
  return results;
}

for (const transport of TRANSPORTS) {
  describe(`over ${transport.name}`, () => {
    const via = { useAwsSdk: transport.useAwsSdk };

    it('the factory creates a store that sends its requests that way', async () => {
      const store = DynamoDBFeatureStore(table, { ...via, clientOptions: db.clientConfig })(context);
      db.clearRequests();
      expect(await promised((cb) => store.initialized(cb))).toBe(false);
      const agents = db.requests.map((r) => String(r.headers['user-agent']));
      expect(agents.length).toBeGreaterThan(0);
      for (const agent of agents)
        expect(agent).toMatch(transport.transport === 'http' ? /^flagstaff-store-dynamodb/ : /aws-sdk-js/);
      store.close();
    });

    describe('DynamoDBFeatureStore (the factory)', () => {
      it('has the seed call shape and returns an LDFeatureStore over the table', async () => {
        const factory = DynamoDBFeatureStore(table, {
          ...via,
          clientOptions: db.clientConfig,
        });
        const store: LDFeatureStore = factory(context);
        expect(store.getDescription?.()).toBe('DynamoDB');
        await promised<Error | undefined>((cb) =>
          store.init({ features: { f: flagJson('f', 1) }, segments: {} }, cb),
        );
        expect(await promised((cb) => store.initialized(cb))).toBe(true);
        expect(await promised((cb) => store.get(FEATURES, 'f', cb))).toMatchObject({ key: 'f', version: 1 });
        await promised<void>((cb) => store.delete(FEATURES, 'f', 2, cb));
        expect(await promised((cb) => store.get(FEATURES, 'f', cb))).toBeNull();
        expect(await promised((cb) => store.all(FEATURES, cb))).toEqual({});
        store.close();
      });

      it('throws for a missing table name, as process.env.DYNAMODB_TABLE may be', () => {
        expect(() => DynamoDBFeatureStore(process.env.FLAGSTAFF_NO_SUCH_VARIABLE)).toThrow(
          /table name is required/,
        );
      });

      it('caches reads for cacheTTL seconds (default 15) and not at all with 0', async () => {
        const writer = new DynamoDBPersistentDataStore(table, {
          dynamoDBClient: db.admin,
          logger: silentLogger,
        });
        await writer.init([
          {
            kind: FEATURES,
            items: [
              {
                key: 'f',
                item: { version: 1, deleted: false, serializedItem: JSON.stringify(flagJson('f', 1)) },
              },
            ],
          },
        ]);
        const cached = DynamoDBFeatureStore(table, {
          ...via,
          clientOptions: db.clientConfig,
        })(context);
        const uncached = DynamoDBFeatureStore(table, {
          ...via,
          clientOptions: db.clientConfig,
          cacheTTL: 0,
        })(context);
        await promised((cb) => cached.get(FEATURES, 'f', cb));
        await writer.upsert(FEATURES, 'f', {
          version: 2,
          deleted: false,
          serializedItem: JSON.stringify(flagJson('f', 2)),
        });
        expect(await promised((cb) => cached.get(FEATURES, 'f', cb))).toMatchObject({ version: 1 });
        expect(await promised((cb) => uncached.get(FEATURES, 'f', cb))).toMatchObject({ version: 2 });
        cached.close();
        uncached.close();
      });

      it('logs through options.logger when given, else through the client logger', async () => {
        const own = recordingLogger();
        const clientLogger = recordingLogger();
        const huge = { ...flagJson('huge', 1), description: 'h'.repeat(400_000) };
        const withOwn = DynamoDBFeatureStore(table, {
          ...via,
          clientOptions: db.clientConfig,
          logger: own,
        })({
          sdkKey: 'k',
          logger: clientLogger,
        });
        await promised((cb) => withOwn.init({ features: { huge }, segments: {} }, cb));
        const withClient = DynamoDBFeatureStore(table, {
          ...via,
          clientOptions: db.clientConfig,
        })({
          sdkKey: 'k',
          logger: clientLogger,
        });
        await promised((cb) => withClient.init({ features: { huge }, segments: {} }, cb));
        const message = 'The item "huge" in "features" was too large to store in DynamoDB and was dropped';
        expect(own.errors()).toContain(message);
        expect(clientLogger.errors()).toEqual([message]);
        withOwn.close();
        withClient.close();
      });
    });

    describe('with the Flagstaff client', () => {
      async function writeScenario(prefix?: string): Promise<LDClient> {
        const td = integrations.TestData();
        for (const segment of SEGMENT_DATA) await td.usePreconfiguredSegment(segment);
        for (const flag of FLAGS) await td.usePreconfiguredFlag(flag);
        const writer = client({
          updateProcessor: td.getFactory(),
          featureStore: DynamoDBFeatureStore(table, {
            ...via,
            clientOptions: db.clientConfig,
            prefix,
          }),
        });
        await writer.waitForInitialization({ timeout: 10 });
        return writer;
      }

      it('a client with a data source fills the table; a daemon-mode client evaluates the same from it', async () => {
        const writer = await writeScenario();
        const daemon = client({
          useLdd: true,
          featureStore: DynamoDBFeatureStore(table, {
            ...via,
            clientOptions: {
              endpoint: db.endpoint,
              region: db.region,
              accessKeyId: 'a',
              secretAccessKey: 'b',
            },
          }),
        });
        await daemon.waitForInitialization({ timeout: 10 });
        const expected = await evaluateAll(writer);
        expect(await evaluateAll(daemon)).toEqual(expected);
        // Sanity: the data really is there and evaluated, not defaults everywhere.
        expect(await daemon.variation('segment-rule', { kind: 'user', key: 'u1' }, false)).toBe(true);
        expect((await daemon.variationDetail(MISSING_FLAG, { key: 'u1' }, 'd')).reason).toEqual({
          kind: 'ERROR',
          errorKind: 'FLAG_NOT_FOUND',
        });
        const state = await daemon.allFlagsState({ kind: 'user', key: 'u2', email: 'a@example.com' });
        expect(state.valid).toBe(true);
        expect(Object.keys(state.allValues()).sort()).toEqual(FLAGS.map((f) => f.key).sort());
      });

      it('daemon mode sees later changes and deletions once its cache expires (cacheTTL 0: at once)', async () => {
        const writer = await writeScenario('Prod');
        const daemon = client({
          useLdd: true,
          featureStore: DynamoDBFeatureStore(table, {
            ...via,
            clientOptions: db.clientConfig,
            prefix: 'Prod',
            cacheTTL: 0,
          }),
        });
        const ctx = { kind: 'user', key: 'u2' };
        expect(await daemon.variation(DELETED_FLAG, ctx, 'default')).toBe('b');
        const store = DynamoDBFeatureStore(table, {
          ...via,
          clientOptions: db.clientConfig,
          prefix: 'Prod',
        })(context);
        await promised<void>((cb) => store.delete(FEATURES, DELETED_FLAG, 100, cb));
        await promised<Error | undefined>((cb) =>
          store.upsert(FEATURES, { ...flagJson('late', 1, false) }, cb),
        );
        store.close();
        expect((await daemon.variationDetail(DELETED_FLAG, ctx, 'default')).reason).toMatchObject({
          errorKind: 'FLAG_NOT_FOUND',
        });
        expect(await daemon.variation('late', ctx, 'default')).toBe(false);
        // The writer's own view is unaffected by other writers until its cache expires; no crash either way.
        expect(await writer.variation('simple-bool', ctx, false)).toBe(true);
      });

      it('daemon mode does not need the $inited marker and reads nothing of another prefix', async () => {
        const store = new DynamoDBPersistentDataStore(table, {
          dynamoDBClient: db.admin,
          logger: silentLogger,
        });
        await store.upsert(FEATURES, 'no-marker', {
          version: 1,
          deleted: false,
          serializedItem: JSON.stringify(flagJson('no-marker', 1)),
        });
        expect(await store.initialized()).toBe(false);
        const daemon = client({
          useLdd: true,
          featureStore: DynamoDBFeatureStore(table, {
            ...via,
            clientOptions: db.clientConfig,
          }),
        });
        expect(daemon.initialized()).toBe(true);
        expect(await daemon.variation('no-marker', { key: 'u' }, false)).toBe(true);
        const other = client({
          useLdd: true,
          featureStore: DynamoDBFeatureStore(table, {
            ...via,
            clientOptions: db.clientConfig,
            prefix: 'Staging',
          }),
        });
        expect((await other.variationDetail('no-marker', { key: 'u' }, false)).reason).toMatchObject({
          errorKind: 'FLAG_NOT_FOUND',
        });
      });

      it('reads flags and segments through the cache in one round trip each', async () => {
        await writeScenario();
        const store = DynamoDBFeatureStore(table, {
          ...via,
          clientOptions: db.clientConfig,
        })(context);
        const [flags, segments] = await Promise.all([
          promised<Record<string, unknown>>((cb) => store.all(FEATURES, cb)),
          promised<Record<string, unknown>>((cb) => store.all(SEGMENTS, cb)),
        ]);
        expect(Object.keys(flags).sort()).toEqual(FLAGS.map((f) => f.key).sort());
        expect(Object.keys(segments)).toEqual(SEGMENT_DATA.map((s) => s.key));
        store.close();
      });
    });
  });
}
