/*
 * Interoperability with the seed's packages: `launchdarkly-node-server-sdk@7` with
 * `launchdarkly-node-server-sdk-dynamodb@4` (AWS SDK v2) on one side, Flagstaff's SDK with
 * `@flagstaff/store-dynamodb` (AWS SDK v3) on the other, one dynalite table between them. Whatever one
 * side writes, the other must read and evaluate identically.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FEATURES,
  init,
  integrations,
  type LDClient,
  type LDFeatureStore,
  type LDOptions,
  SEGMENTS,
} from '@flagstaff/node-server-sdk';
import { DynamoDBFeatureStore, DynamoDBPersistentDataStore } from '@flagstaff/store-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalDynamoDB, startDynalite } from '../../store-dynamodb/test/support/dynalite.js';
import {
  CONTEXTS,
  DELETED_FLAG,
  FLAG_KEYS,
  FLAGS,
  MISSING_FLAG,
  SEGMENTS as SEGMENT_DATA,
} from '../../store-dynamodb/test/support/scenario.js';
import { TRANSPORTS, type Transport } from '../../store-dynamodb/test/support/transports.js';

// aws-sdk v2 announces its end of support on load; the tests have no use for the notice.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
const require = createRequire(import.meta.url);
const LDv7 = require('launchdarkly-node-server-sdk') as typeof import('launchdarkly-node-server-sdk');
const v7Integrations =
  require('launchdarkly-node-server-sdk/integrations') as typeof import('launchdarkly-node-server-sdk/integrations');
const v7Dynamo =
  require('launchdarkly-node-server-sdk-dynamodb') as typeof import('launchdarkly-node-server-sdk-dynamodb');

type V7Client = import('launchdarkly-node-server-sdk').LDClient;
type V7Store = import('launchdarkly-node-server-sdk').LDFeatureStore;

const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };

/** v7's data kinds as its stores expect them (the namespace is what matters to the DynamoDB store). */
const LDv7Kinds = {
  features: { namespace: 'features' },
  segments: { namespace: 'segments' },
};

let db: LocalDynamoDB;
let table: string;
/** How our store sends its requests in the tests running now (each describe below runs once per way). */
let transport: Transport = TRANSPORTS[0]!;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  table = await db.createTable();
  return async () => {
    for (const close of closers.splice(0)) await close();
  };
});

/** The v7 store's options exactly as the seed's code passes them (AWS SDK v2 style). */
function v7StoreOptions(prefix?: string) {
  return {
    prefix,
    clientOptions: {
      endpoint: db.endpoint,
      region: db.region,
      accessKeyId: db.accessKeyId,
      secretAccessKey: db.secretAccessKey,
    },
  };
}

/** Our store with the same v2-style options: code moving from the seed's packages keeps them. */
function ourStoreOptions(prefix?: string, cacheTTL?: number) {
  return { ...v7StoreOptions(prefix), cacheTTL, useAwsSdk: transport.useAwsSdk };
}

function ours(options: LDOptions): LDClient {
  const client = init('sdk-key', {
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silentLogger,
    ...options,
  });
  closers.push(() => client.close());
  return client;
}

function v7(options: import('launchdarkly-node-server-sdk').LDOptions): V7Client {
  const client = LDv7.init('sdk-key', {
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silentLogger,
    ...options,
  });
  closers.push(() => client.close());
  return client;
}

function v7Store(prefix?: string): V7Store {
  const store = v7Dynamo.DynamoDBFeatureStore(table, { ...v7StoreOptions(prefix), cacheTTL: 0 })({
    logger: silentLogger,
  });
  closers.push(() => store.close());
  return store;
}

function ourStore(prefix?: string): LDFeatureStore {
  const store = DynamoDBFeatureStore(
    table,
    ourStoreOptions(prefix, 0),
  )({ sdkKey: 'k', logger: silentLogger });
  closers.push(() => store.close());
  return store;
}

function call<T>(run: (cb: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => run(resolve));
}

interface Evaluator {
  variationDetail(key: string, context: object, defaultValue: unknown): Promise<unknown>;
}

/** `variationDetail` of every scenario flag (and a missing one) for every scenario context. */
async function evaluateAll(client: Evaluator): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const context of CONTEXTS) {
    for (const key of FLAG_KEYS) {
      results.push({ key, context, detail: await client.variationDetail(key, context, 'default') });
    }
  }
  return results;
}

/** Guards against a vacuous comparison: every stored flag must evaluate without error for some context. */
function expectEvaluated(results: unknown[]): void {
  const evaluated = new Set<string>();
  for (const r of results as { key: string; detail: { reason: { kind: string } } }[]) {
    if (r.detail.reason.kind !== 'ERROR') evaluated.add(r.key);
  }
  expect([...evaluated].sort()).toEqual(FLAGS.map((f) => f.key).sort());
}

/** What the table holds, by `namespace|key`: each item's attribute names and DynamoDB types. */
async function layout(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const item of await db.scan(table)) {
    const attrs = Object.entries(item).map(([name, value]) => `${name}:${Object.keys(value)[0]}`);
    out[`${item.namespace?.S}|${item.key?.S}`] = attrs.sort();
  }
  return out;
}

const ALL_DATA = () => ({
  features: Object.fromEntries(FLAGS.map((f) => [f.key, structuredClone(f)])),
  segments: Object.fromEntries(SEGMENT_DATA.map((s) => [s.key, structuredClone(s)])),
});

for (const way of TRANSPORTS) {
  describe(`our store over ${way.name}`, () => {
    beforeAll(() => {
      transport = way;
    });

    it('our store sends its requests that way', async () => {
      const store = ourStore();
      db.clearRequests();
      expect(await call<boolean>((cb) => store.initialized(cb))).toBe(false);
      const agents = db.requests.map((r) => String(r.headers['user-agent']));
      expect(agents.length).toBeGreaterThan(0);
      const expected = way.transport === 'http' ? /^flagstaff-store-dynamodb/ : /aws-sdk-js/;
      for (const agent of agents) expect(agent).toMatch(expected);
    });

    describe('written by Flagstaff, read by the seed (SDK v7 + DynamoDB store v4)', () => {
      for (const prefix of [undefined, 'Prod']) {
        it(`v7 in daemon mode evaluates what our client stored (prefix ${prefix ?? 'none'})`, async () => {
          const td = integrations.TestData();
          for (const segment of SEGMENT_DATA) await td.usePreconfiguredSegment(segment);
          for (const flag of FLAGS) await td.usePreconfiguredFlag(flag);
          const writer = ours({
            updateProcessor: td.getFactory(),
            featureStore: DynamoDBFeatureStore(table, ourStoreOptions(prefix)),
          });
          await writer.waitForInitialization({ timeout: 10 });

          const theirs = v7({
            useLdd: true,
            featureStore: v7Dynamo.DynamoDBFeatureStore(table, v7StoreOptions(prefix)),
          });
          await theirs.waitForInitialization();
          const ourDaemon = ours({
            useLdd: true,
            featureStore: DynamoDBFeatureStore(table, ourStoreOptions(prefix)),
          });

          const expected = await evaluateAll(writer);
          expectEvaluated(expected);
          expect(await evaluateAll(theirs)).toEqual(expected);
          expect(await evaluateAll(ourDaemon)).toEqual(expected);
          expect(
            await theirs.variation(
              'segment-rule',
              { kind: 'user', key: 'u2', email: 'z@example.com' },
              false,
            ),
          ).toBe(true);

          // The v7 store sees our $inited marker and the same items.
          const store = v7Store(prefix);
          expect(await call<boolean>((cb) => store.initialized(cb))).toBe(true);
          const all = await call<object>((cb) => store.all(LDv7Kinds.features, cb));
          expect(Object.keys(all).sort()).toEqual(FLAGS.map((f) => f.key).sort());
        });
      }

      it('v7 treats our tombstones as deleted and cannot overwrite a newer version we wrote', async () => {
        const mine = ourStore('Prod');
        await call((cb) => mine.init(ALL_DATA(), cb));
        await call<void>((cb) => mine.delete(FEATURES, DELETED_FLAG, 50, cb));

        const theirs = v7({
          useLdd: true,
          featureStore: v7Dynamo.DynamoDBFeatureStore(table, v7StoreOptions('Prod')),
        });
        const detail = await theirs.variationDetail(DELETED_FLAG, { key: 'u2' }, 'default');
        expect(detail).toMatchObject({
          value: 'default',
          reason: { kind: 'ERROR', errorKind: 'FLAG_NOT_FOUND' },
        });

        // v7's conditional put respects the version we stored, and the other way round.
        const store = v7Store('Prod');
        const first = FLAGS[0]!;
        await call<void>((cb) =>
          store.upsert(LDv7Kinds.features, { ...first, key: DELETED_FLAG, version: 49 }, cb),
        );
        expect(await call((cb) => store.get(LDv7Kinds.features, DELETED_FLAG, cb))).toBeNull();
        await call<void>((cb) => store.upsert(LDv7Kinds.features, { ...first, version: 60 }, cb));
        await call((cb) => mine.upsert(FEATURES, { ...first, version: 59 }, cb));
        expect(await call((cb) => mine.get(FEATURES, first.key, cb))).toMatchObject({ version: 60 });
      });
    });

    describe('written by the seed (SDK v7 + DynamoDB store v4), read by Flagstaff', () => {
      for (const prefix of [undefined, 'Staging']) {
        it(`our daemon mode evaluates what v7 with TestData stored (prefix ${prefix ?? 'none'})`, async () => {
          const td = v7Integrations.TestData();
          for (const segment of SEGMENT_DATA) await td.usePreconfiguredSegment(segment);
          for (const flag of FLAGS) await td.usePreconfiguredFlag(flag);
          const writer = v7({
            // In v7 the TestData object is itself the data source factory.
            updateProcessor: td,
            featureStore: v7Dynamo.DynamoDBFeatureStore(table, v7StoreOptions(prefix)),
          });
          await writer.waitForInitialization();

          const ourDaemon = ours({
            useLdd: true,
            featureStore: DynamoDBFeatureStore(table, ourStoreOptions(prefix)),
          });
          await ourDaemon.waitForInitialization({ timeout: 10 });
          const theirDaemon = v7({
            useLdd: true,
            featureStore: v7Dynamo.DynamoDBFeatureStore(table, v7StoreOptions(prefix)),
          });

          const expected = await evaluateAll(writer);
          expectEvaluated(expected);
          expect(await evaluateAll(ourDaemon)).toEqual(expected);
          expect(await evaluateAll(theirDaemon)).toEqual(expected);

          const core = new DynamoDBPersistentDataStore(table, {
            prefix,
            clientOptions: db.clientConfig,
            useAwsSdk: transport.useAwsSdk,
            logger: silentLogger,
          });
          closers.push(() => core.close());
          expect(await core.initialized()).toBe(true);
          expect((await core.getAll(SEGMENTS)).map((i) => [i.key, i.item.version])).toEqual([
            ['beta-testers', 3],
          ]);
        });
      }

      it('our daemon mode evaluates what v7 with a FileDataSource stored, tombstones included', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'interop-v7-'));
        closers.push(() => rmSync(dir, { recursive: true, force: true }));
        const file = join(dir, 'flags.json');
        writeFileSync(
          file,
          JSON.stringify({
            flags: Object.fromEntries(FLAGS.map((f) => [f.key, f])),
            segments: Object.fromEntries(SEGMENT_DATA.map((s) => [s.key, s])),
          }),
        );
        const writer = v7({
          updateProcessor: v7Integrations.FileDataSource({ paths: [file] }),
          featureStore: v7Dynamo.DynamoDBFeatureStore(table, v7StoreOptions('Staging')),
        });
        await writer.waitForInitialization();

        const ourDaemon = ours({
          useLdd: true,
          featureStore: DynamoDBFeatureStore(table, ourStoreOptions('Staging', 0)),
        });
        const expected = await evaluateAll(writer);
        expectEvaluated(expected);
        expect(await evaluateAll(ourDaemon)).toEqual(expected);

        // A delete through the v7 store is a tombstone to us.
        const store = v7Store('Staging');
        // v7's typings declare the version a string; its store compares it as the number it is.
        await call<void>((cb) => store.delete(LDv7Kinds.features, DELETED_FLAG, 99 as unknown as string, cb));
        expect((await ourDaemon.variationDetail(DELETED_FLAG, { key: 'u2' }, 'default')).reason).toEqual({
          kind: 'ERROR',
          errorKind: 'FLAG_NOT_FOUND',
        });
        const core = new DynamoDBPersistentDataStore(table, {
          prefix: 'Staging',
          clientOptions: db.clientConfig,
          useAwsSdk: transport.useAwsSdk,
          logger: silentLogger,
        });
        closers.push(() => core.close());
        expect(await core.get(FEATURES, DELETED_FLAG)).toMatchObject({ version: 99, deleted: true });
        expect((await ourDaemon.variationDetail(MISSING_FLAG, { key: 'u' }, 1)).value).toBe(1);
      });
    });

    describe('version-less items', () => {
      // v7's FileDataSource turns `flagValues` entries into flags without a `version`; its DynamoDB store then
      // writes them with no `version` attribute and v7 evaluates them. Ours reads such an item as version 0
      // and must evaluate it too.
      it('our daemon mode evaluates version-less flagValues flags that v7 stored', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'interop-v7-'));
        closers.push(() => rmSync(dir, { recursive: true, force: true }));
        const file = join(dir, 'flags.json');
        writeFileSync(file, JSON.stringify({ flagValues: { 'file-value': { from: 'flagValues' } } }));
        const writer = v7({
          updateProcessor: v7Integrations.FileDataSource({ paths: [file] }),
          featureStore: v7Dynamo.DynamoDBFeatureStore(table, v7StoreOptions()),
        });
        await writer.waitForInitialization();
        const raw = (await db.scan(table)).find((item) => item.key?.S === 'file-value');
        expect(raw && Object.keys(raw).sort()).toEqual(['item', 'key', 'namespace']);

        const ourDaemon = ours({
          useLdd: true,
          featureStore: DynamoDBFeatureStore(table, ourStoreOptions()),
        });
        const detail = await ourDaemon.variationDetail('file-value', { key: 'u' }, null);
        expect(detail).toEqual(await writer.variationDetail('file-value', { key: 'u' }, null));
      });
    });

    describe('the same table layout', () => {
      it('both stores write the same items with the same attributes and types', async () => {
        await call<void>((cb) => v7Store('Theirs').init(ALL_DATA(), cb));
        await call((cb) => ourStore('Ours').init(ALL_DATA(), cb));
        const all = await layout();
        const byPrefix = (prefix: string) =>
          Object.fromEntries(
            Object.entries(all)
              .filter(([id]) => id.startsWith(`${prefix}:`))
              .map(([id, attrs]) => [id.replaceAll(`${prefix}:`, ''), attrs]),
          );
        expect(byPrefix('Ours')).toEqual(byPrefix('Theirs'));
        expect(byPrefix('Ours')['features|simple-bool']).toEqual([
          'item:S',
          'key:S',
          'namespace:S',
          'version:N',
        ]);
        expect(byPrefix('Ours')['$inited|$inited']).toEqual(['key:S', 'namespace:S']);
      });
    });
  });
}
