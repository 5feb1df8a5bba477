// The relay against the real flag service and a local DynamoDB (dynalite), seen by SDKs:
// (a) the seed's v7 SDK with its v7 DynamoDB store in daemon mode reads the table the relay writes and
//     evaluates exactly as our SDK in daemon mode with our store on the same table and prefix;
// (b) the flag service stopped and restarted under a streaming SDK: the SDK keeps its values while the
//     service is down, /status says so, and changes made after the restart reach the SDK.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basicLogger, init, type LDClient } from '@flagstaff/node-server-sdk';
import {
  buildFlagService,
  createToken,
  type FlagService,
  openStorage,
  type Storage,
} from '@flagstaff/server';
import { DynamoDBFeatureStore } from '@flagstaff/store-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalDynamoDB, startDynalite } from '../../store-dynamodb/test/support/dynalite.js';
import { loadConfig } from '../src/config.js';
import { type Relay, startRelay } from '../src/relay.js';

// The seed's packages are installed for packages/interop-v7 (hoisted to the root node_modules); they
// are CommonJS, so they are loaded as interop-v7's tests load them.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
const require = createRequire(import.meta.url);
const LDv7 = require('launchdarkly-node-server-sdk') as typeof import('launchdarkly-node-server-sdk');
const v7Dynamo =
  require('launchdarkly-node-server-sdk-dynamodb') as typeof import('launchdarkly-node-server-sdk-dynamodb');

const waitOptions = { timeout: 20_000, interval: 50 } as const;
const silent = { error() {}, warn() {}, info() {}, debug() {} };
const logger = basicLogger({ level: 'none' });
const PREFIX = 'Prod';

let dynamo: LocalDynamoDB;
let table: string;
let dataDir: string;
let storage: Storage | undefined;
let service: FlagService | undefined;
let servicePort: number;
let serviceUrl: string;
let adminToken: string;
let sdkKey: string;
const closers: (() => unknown)[] = [];
const savedEnv = { ...process.env };

async function startService(): Promise<void> {
  // A file, not `:memory:`, so keys, tokens and flags survive the restart.
  storage = await openStorage({ file: join(dataDir, 'flagstaff.db') });
  service = await buildFlagService({ storage, heartbeatIntervalMs: 60_000 });
  serviceUrl = await service.app.listen({ port: servicePort, host: '127.0.0.1' });
  const address = service.app.server.address();
  if (typeof address === 'object' && address !== null) servicePort = address.port;
}

async function stopService(): Promise<void> {
  await service?.close();
  await storage?.close();
  service = undefined;
  storage = undefined;
}

async function admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${serviceUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const patchFlag = (key: string, instructions: unknown[]) =>
  admin('PATCH', `/projects/relay/environments/test/flags/${key}`, { instructions });

async function start(extra: Record<string, string> = {}): Promise<Relay> {
  const env = {
    PORT: '0',
    STREAM_URI: serviceUrl,
    BASE_URI: serviceUrl,
    LD_ENV_Test: sdkKey,
    LD_PREFIX_Test: PREFIX,
    USE_DYNAMODB: 'true',
    DYNAMODB_TABLE: table,
    DYNAMODB_URL: dynamo.endpoint,
    INIT_TIMEOUT: '10s',
    ...extra,
  };
  const relay = await startRelay(loadConfig({ env }), {
    logger,
    host: '127.0.0.1',
    upstream: { reconnectDelaySeconds: 0.05 },
  });
  closers.push(() => relay.close());
  return relay;
}

const CONTEXTS = [
  { kind: 'user', key: 'u1' },
  { kind: 'user', key: 'u2', email: 'ann@example.com' },
  { kind: 'user', key: 'u3', email: 'bo@elsewhere.org' },
  { kind: 'org', key: 'o1' },
];
const FLAG_KEYS = ['banner', 'checkout', 'dark-mode', 'missing'];

interface Evaluator {
  variationDetail(key: string, context: object, defaultValue: unknown): Promise<unknown>;
}

async function evaluateAll(client: Evaluator): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const context of CONTEXTS) {
    for (const key of FLAG_KEYS)
      results.push([key, context.key, await client.variationDetail(key, context, 'dflt')]);
  }
  return results;
}

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
  // The relay's store takes region and credentials from the standard AWS environment, as in production.
  process.env.AWS_REGION = dynamo.region;
  process.env.AWS_ACCESS_KEY_ID = dynamo.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = dynamo.secretAccessKey;

  dataDir = mkdtempSync(join(tmpdir(), 'flagstaff-relay-interop-'));
  servicePort = 0;
  await startService();
  adminToken = await storage!.transaction(
    async (tx) => (await createToken(tx, 'relay interop', 'admin')).secret,
  );
  const project = await admin('POST', '/projects', { key: 'relay', name: 'Relay' });
  sdkKey = (project.environments as { key: string; sdkKey: string }[]).find((e) => e.key === 'test')!.sdkKey;

  // Off flag, individual targets, a rule, and a prerequisite: each gives a different reason.
  await admin('POST', '/projects/relay/flags', { key: 'banner', name: 'Banner' });
  await admin('POST', '/projects/relay/flags', { key: 'checkout', name: 'Checkout' });
  await admin('POST', '/projects/relay/flags', { key: 'dark-mode', name: 'Dark mode' });
  await patchFlag('checkout', [
    { kind: 'turnFlagOn' },
    { kind: 'addTargets', variation: 1, values: ['u1'] },
    {
      kind: 'addRule',
      id: 'staff',
      clauses: [{ attribute: 'email', op: 'endsWith', values: ['@example.com'] }],
      variation: 0,
    },
  ]);
  await patchFlag('dark-mode', [
    { kind: 'turnFlagOn' },
    { kind: 'addPrerequisite', key: 'checkout', variation: 0 },
  ]);
}, 60_000);

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await stopService();
  await dynamo?.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  process.env = savedEnv;
});

describe('relay with SDKs', () => {
  it('v7 SDK + v7 DynamoDB store in daemon mode evaluate what the relay wrote, as our SDK does', async () => {
    const relay = await start();
    const storeOptions = {
      prefix: PREFIX,
      cacheTTL: 0,
      clientOptions: {
        endpoint: dynamo.endpoint,
        region: dynamo.region,
        accessKeyId: dynamo.accessKeyId,
        secretAccessKey: dynamo.secretAccessKey,
      },
    };
    const theirs = LDv7.init(sdkKey, {
      useLdd: true,
      sendEvents: false,
      diagnosticOptOut: true,
      logger: silent,
      featureStore: v7Dynamo.DynamoDBFeatureStore(table, storeOptions),
    });
    closers.push(() => theirs.close());
    const ours = init(sdkKey, {
      useLdd: true,
      sendEvents: false,
      diagnosticOptOut: true,
      logger: silent,
      featureStore: DynamoDBFeatureStore(table, storeOptions),
    });
    closers.push(() => ours.close());
    // What SDKs connected to the relay itself see: the reference both daemon-mode clients must match.
    const streaming = init(sdkKey, {
      streamUri: relay.url,
      baseUri: relay.url,
      sendEvents: false,
      diagnosticOptOut: true,
      logger: silent,
    });
    closers.push(() => streaming.close());
    await theirs.waitForInitialization();
    await ours.waitForInitialization({ timeout: 10 });
    await streaming.waitForInitialization({ timeout: 10 });

    const expected = await evaluateAll(streaming);
    expect(await evaluateAll(ours)).toEqual(expected);
    expect(await evaluateAll(theirs)).toEqual(expected);
    // The scenario really exercises the reasons it is meant to.
    expect(await theirs.variationDetail('checkout', CONTEXTS[0]!, 'dflt')).toMatchObject({
      reason: { kind: 'TARGET_MATCH' },
    });
    expect(await theirs.variationDetail('checkout', CONTEXTS[1]!, 'dflt')).toMatchObject({
      value: true,
      reason: { kind: 'RULE_MATCH', ruleId: 'staff' },
    });
    expect(await theirs.variationDetail('banner', CONTEXTS[2]!, 'dflt')).toMatchObject({
      reason: { kind: 'OFF' },
    });
    expect(await theirs.variationDetail('dark-mode', CONTEXTS[0]!, 'dflt')).toMatchObject({
      reason: { kind: 'PREREQUISITE_FAILED', prerequisiteKey: 'checkout' },
    });
    expect(await theirs.variationDetail('missing', CONTEXTS[0]!, 'dflt')).toMatchObject({
      value: 'dflt',
      reason: { kind: 'ERROR', errorKind: 'FLAG_NOT_FOUND' },
    });

    // An admin change goes service -> relay -> table -> v7 daemon-mode SDK (no cache: cacheTTL 0).
    await patchFlag('banner', [{ kind: 'turnFlagOn' }]);
    await vi.waitFor(async () => {
      expect(await theirs.variationDetail('banner', CONTEXTS[2]!, 'dflt')).toMatchObject({
        reason: { kind: 'FALLTHROUGH' },
      });
    }, waitOptions);
    await vi.waitFor(
      async () => expect(await evaluateAll(streaming)).toEqual(await evaluateAll(theirs)),
      waitOptions,
    );
    expect(await evaluateAll(ours)).toEqual(await evaluateAll(theirs));
  }, 60_000);

  it('an SDK streaming from the relay rides out a flag service restart', async () => {
    const relay = await start({ DISCONNECTED_STATUS_TIME: '0' });
    const client: LDClient = init(sdkKey, {
      streamUri: relay.url,
      baseUri: relay.url,
      sendEvents: false,
      diagnosticOptOut: true,
      logger: silent,
    });
    closers.push(() => client.close());
    await client.waitForInitialization({ timeout: 10 });
    const context = { kind: 'user', key: 'u3', email: 'bo@elsewhere.org' };
    const before = await evaluateAll(client);

    await stopService();
    // The relay notices the upstream is gone...
    await vi.waitFor(async () => {
      const res = await fetch(`${relay.url}/status`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'degraded',
        environments: { Test: { status: 'disconnected' } },
      });
    }, waitOptions);
    // ...while its SDKs keep what they had.
    expect(await evaluateAll(client)).toEqual(before);
    expect((await fetch(`${relay.url}/ready`)).status).toBe(200);

    // Same data file, same port: the relay's reconnects find it again.
    await startService();
    await vi.waitFor(async () => {
      const body = (await (await fetch(`${relay.url}/status`)).json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 'healthy', environments: { Test: { status: 'connected' } } });
    }, waitOptions);
    await patchFlag('checkout', [{ kind: 'turnFlagOff' }]);
    await vi.waitFor(async () => {
      expect(await client.variationDetail('checkout', context, 'dflt')).toMatchObject({
        reason: { kind: 'OFF' },
      });
    }, waitOptions);
  }, 90_000);
});
