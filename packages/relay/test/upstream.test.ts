// The upstream half of the relay against the real flag service (SQLite in memory) and a local DynamoDB
// (dynalite): data arrives as a put, admin changes as patches, the table holds LaunchDarkly's layout,
// and a relay restarted while the service is down serves what the table holds.

import { basicLogger, FEATURES } from '@flagstaff/node-server-sdk';
import {
  buildFlagService,
  createToken,
  type FlagService,
  openStorage,
  type Storage,
} from '@flagstaff/server';
import { DynamoDBPersistentDataStore } from '@flagstaff/store-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalDynamoDB, startDynalite } from '../../store-dynamodb/test/support/dynalite.js';
import { loadConfig } from '../src/config.js';
import { type Relay, startRelay } from '../src/relay.js';

const waitOptions = { timeout: 15_000, interval: 50 } as const;
const logger = basicLogger({ level: 'none' });

let dynamo: LocalDynamoDB;
let table: string;
let storage: Storage;
let service: FlagService | undefined;
let serviceUrl: string;
let adminToken: string;
let sdkKey: string;
let clientSideId: string;
const relays: Relay[] = [];
const savedEnv = { ...process.env };

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

function relayEnv(extra: Record<string, string> = {}) {
  return {
    PORT: '0',
    STREAM_URI: serviceUrl,
    BASE_URI: serviceUrl,
    LD_ENV_Test: sdkKey,
    LD_CLIENT_SIDE_ID_Test: clientSideId,
    USE_DYNAMODB: 'true',
    DYNAMODB_TABLE: table,
    DYNAMODB_URL: dynamo.endpoint,
    INIT_TIMEOUT: '10s',
    ...extra,
  };
}

async function start(env: Record<string, string>): Promise<Relay> {
  const relay = await startRelay(loadConfig({ env }), {
    logger,
    host: '127.0.0.1',
    upstream: { reconnectDelaySeconds: 0.05 },
  });
  relays.push(relay);
  return relay;
}

// biome-ignore lint/suspicious/noExplicitAny: answers are arbitrary JSON, read loosely by the assertions
async function get(relay: Relay, path: string): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${relay.url}${path}`);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
  // The relay's store takes region and credentials from the standard AWS environment, as in production.
  process.env.AWS_REGION = dynamo.region;
  process.env.AWS_ACCESS_KEY_ID = dynamo.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = dynamo.secretAccessKey;

  storage = await openStorage({ file: ':memory:' });
  adminToken = await storage.transaction(async (tx) => (await createToken(tx, 'relay test', 'admin')).secret);
  service = await buildFlagService({ storage, heartbeatIntervalMs: 60_000 });
  serviceUrl = await service.app.listen({ port: 0, host: '127.0.0.1' });

  const project = await admin('POST', '/projects', { key: 'relay', name: 'Relay' });
  const env = (project.environments as { key: string; sdkKey: string; clientSideId: string }[]).find(
    (e) => e.key === 'test',
  )!;
  sdkKey = env.sdkKey;
  clientSideId = env.clientSideId;
  await admin('POST', '/projects/relay/flags', { key: 'banner', name: 'Banner' });
}, 60_000);

afterAll(async () => {
  for (const relay of relays) await relay.close();
  await service?.close();
  await storage?.close();
  await dynamo?.close();
  process.env = savedEnv;
});

describe('relay upstream', () => {
  it('takes the put and patches into memory and DynamoDB, and reports them in /status, /ready, /metrics', async () => {
    const relay = await start(relayEnv());
    const env = relay.registry.bySdkKey(sdkKey)!;
    expect(env.flags().banner).toMatchObject({ key: 'banner', on: false });
    const changes: string[] = [];
    env.onChange((change) => changes.push(change.kind));

    const before = env.flags().banner!.version;
    await admin('PATCH', '/projects/relay/environments/test/flags/banner', {
      instructions: [{ kind: 'turnFlagOn' }],
    });
    await vi.waitFor(
      () => expect(env.flags().banner).toMatchObject({ on: true, version: before + 1 }),
      waitOptions,
    );
    expect(changes).toEqual(['patch']);

    // LaunchDarkly's layout, read back with our own store core and raw.
    const reader = new DynamoDBPersistentDataStore(table, { clientOptions: dynamo.clientConfig, logger });
    await vi.waitFor(async () => {
      const stored = await reader.get(FEATURES, 'banner');
      expect(stored?.version).toBe(before + 1);
      expect(JSON.parse(stored!.serializedItem)).toMatchObject({ key: 'banner', on: true });
    }, waitOptions);
    expect(await reader.initialized()).toBe(true);
    const raw = await dynamo.scan(table);
    expect(raw.map((item) => `${item.namespace?.S}/${item.key?.S}`).sort()).toEqual([
      '$inited/$inited',
      'features/banner',
    ]);
    await reader.close();

    const status = await get(relay, '/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      status: 'healthy',
      version: '0.1.0',
      clientVersion: expect.any(String),
      environments: {
        Test: {
          envId: clientSideId,
          status: 'connected',
          connectionStatus: { state: 'VALID', stateSince: expect.any(Number) },
          dataStoreStatus: { state: 'VALID', database: 'dynamodb', dbTable: table },
        },
      },
    });
    expect(status.body.environments.Test.sdkKey).toMatch(/^sdk-[*-]+.{5}$/);
    expect(status.text).not.toContain(sdkKey);

    // A deleted flag becomes a delete downstream and a tombstone in the table.
    await admin('POST', '/projects/relay/flags', { key: 'doomed', name: 'Doomed' });
    await vi.waitFor(() => expect(env.flags().doomed).toBeDefined(), waitOptions);
    // Archiving is how the flag service deletes a flag for SDKs.
    await admin('POST', '/projects/relay/flags/doomed/archive', {});
    await vi.waitFor(() => expect(env.flags().doomed).toBeUndefined(), waitOptions);
    expect(changes).toEqual(['patch', 'patch', 'delete']);
    const tombstoneReader = new DynamoDBPersistentDataStore(table, {
      clientOptions: dynamo.clientConfig,
      logger,
    });
    await vi.waitFor(
      async () => expect((await tombstoneReader.get(FEATURES, 'doomed'))?.deleted).toBe(true),
      waitOptions,
    );
    await tombstoneReader.close();

    expect((await get(relay, '/ready')).status).toBe(200);
    const metrics = await get(relay, '/metrics');
    expect(metrics.text).toContain('flagstaff_relay_connected{env="Test"} 1');
    expect(metrics.text).toContain('flagstaff_relay_flags{env="Test"} 1');
    expect(metrics.text).toMatch(/process_resident_memory_bytes \d+/);

    await relay.close();
  }, 30_000);

  it('without the service and IGNORE_CONNECTION_ERRORS, start fails after INIT_TIMEOUT', async () => {
    await expect(
      start({
        ...relayEnv({ STREAM_URI: 'http://127.0.0.1:9', INIT_TIMEOUT: '300ms' }),
        USE_DYNAMODB: 'false',
      }),
    ).rejects.toThrow(/No data from upstream after INIT_TIMEOUT \(300 ms\) for: Test/);
  });

  it('restarted while the flag service is down, serves what DynamoDB holds', async () => {
    await service!.close();
    service = undefined;
    const relay = await start(relayEnv({ INIT_TIMEOUT: '300ms', IGNORE_CONNECTION_ERRORS: 'true' }));
    const env = relay.registry.bySdkKey(sdkKey)!;
    expect(env.flags().banner).toMatchObject({ key: 'banner', on: true });
    expect(env.status()).toMatchObject({ initialized: true, connected: false });

    expect((await get(relay, '/ready')).status).toBe(200);
    const status = await get(relay, '/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      status: 'degraded',
      environments: {
        Test: {
          status: 'disconnected',
          connectionStatus: { state: 'INITIALIZING', lastError: { kind: 'NETWORK_ERROR' } },
          dataStoreStatus: { state: 'VALID', database: 'dynamodb' },
        },
      },
    });
    await relay.close();
  }, 30_000);
});
