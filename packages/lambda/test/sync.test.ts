// The webhook sync function against the real flag service (SQLite in memory) and a local DynamoDB
// (dynalite): signatures, LaunchDarkly's table layout, idempotence, tombstones, version safety, and the
// whole path from an admin change through the service's webhook to an SDK in daemon mode.

import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FEATURES, init, type LDLogger, SEGMENTS } from '@flagstaff/node-server-sdk';
import {
  buildFlagService,
  createToken,
  type FlagService,
  openStorage,
  type Storage,
} from '@flagstaff/server';
import { DynamoDBFeatureStore, DynamoDBPersistentDataStore } from '@flagstaff/store-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalDynamoDB, startDynalite } from '../../store-dynamodb/test/support/dynalite.js';
import {
  createSyncHandler,
  type SyncEvent,
  type SyncHandler,
  type SyncHandlerOptions,
} from '../src/index.js';

const waitOptions = { timeout: 15_000, interval: 50 } as const;
const SECRET = 'whsec_test-secret-value';

let dynamo: LocalDynamoDB;
let storage: Storage;
let service: FlagService | undefined;
let serviceUrl: string;
let adminToken: string;
let sdkKey: string;
const handlers: SyncHandler[] = [];
const readers: DynamoDBPersistentDataStore[] = [];
const messages: string[] = [];

const logger: LDLogger = {
  debug: (...args: unknown[]) => messages.push(args.join(' ')),
  info: (...args: unknown[]) => messages.push(args.join(' ')),
  warn: (...args: unknown[]) => messages.push(args.join(' ')),
  error: (...args: unknown[]) => messages.push(args.join(' ')),
};

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
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

function handlerFor(table: string, extra: Partial<SyncHandlerOptions> = {}): SyncHandler {
  const handler = createSyncHandler({
    tableName: table,
    sdkKey,
    baseUri: serviceUrl,
    webhookSecret: SECRET,
    dynamoDB: { clientOptions: dynamo.clientConfig },
    logger,
    ...extra,
  });
  handlers.push(handler);
  return handler;
}

function reader(table: string): DynamoDBPersistentDataStore {
  const store = new DynamoDBPersistentDataStore(table, { clientOptions: dynamo.clientConfig, logger });
  readers.push(store);
  return store;
}

const sign = (body: string | Buffer) => createHmac('sha256', SECRET).update(body).digest('hex');

/** A Function URL (payload v2) event, as Lambda builds it for a POST. */
function urlEvent(body: string, headers: Record<string, string>, base64 = false): SyncEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method: 'POST', path: '/', sourceIp: '127.0.0.1' } },
    body: base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
  } as SyncEvent;
}

const payload = JSON.stringify({ kind: 'flag', action: 'updated', key: 'banner' });
const signedEvent = () => urlEvent(payload, { 'x-ld-signature': sign(payload) });

/** Every (namespace, key, version) of the table, sorted: compares table states. */
async function snapshot(table: string): Promise<string[]> {
  const items = await dynamo.scan(table);
  return items.map((i) => `${i.namespace?.S}/${i.key?.S}@${i.version?.N ?? '-'}`).sort();
}

beforeAll(async () => {
  dynamo = await startDynalite();
  storage = await openStorage({ file: ':memory:' });
  adminToken = await storage.transaction(async (tx) => (await createToken(tx, 'sync test', 'admin')).secret);
  service = await buildFlagService({ storage, heartbeatIntervalMs: 60_000 });
  serviceUrl = await service.app.listen({ port: 0, host: '127.0.0.1' });

  const project = await admin('POST', '/projects', { key: 'sync', name: 'Sync' });
  const env = (project.environments as { key: string; sdkKey: string }[]).find((e) => e.key === 'test');
  if (!env) throw new Error('no test environment');
  sdkKey = env.sdkKey;
  await admin('POST', '/projects/sync/flags', { key: 'banner', name: 'Banner' });
  await admin('POST', '/projects/sync/flags', { key: 'doomed', name: 'Doomed' });
}, 60_000);

afterAll(async () => {
  for (const handler of handlers) await handler.close();
  for (const store of readers) await store.close();
  await service?.close();
  await storage?.close();
  await dynamo?.close();
});

describe('sync function', () => {
  it('refuses a missing or bad signature with 401 and writes nothing', async () => {
    const table = await dynamo.createTable();
    const handler = handlerFor(table);
    const bad = [
      urlEvent(payload, {}),
      urlEvent(payload, { 'x-ld-signature': sign('other body') }),
      urlEvent(payload, { 'x-flagstaff-signature': sign(payload) }), // lacks `sha256=`
      urlEvent(payload, { 'x-ld-signature': 'zz' }),
      urlEvent(`${payload} `, { 'x-ld-signature': sign(payload) }),
    ];
    for (const event of bad) {
      const res = await handler(event);
      expect(res.statusCode).toBe(401);
      expect(JSON.parse(res.body)).toEqual({ error: 'invalid signature' });
    }
    expect(await dynamo.scan(table)).toEqual([]);
    // Without a configured secret, nothing over HTTP is accepted.
    const noSecret = handlerFor(table, { webhookSecret: '' });
    expect((await noSecret(signedEvent())).statusCode).toBe(401);
    expect(await dynamo.scan(table)).toEqual([]);
  });

  it('syncs on a good signature, in LaunchDarkly layout, and again idempotently', async () => {
    const table = await dynamo.createTable();
    const handler = handlerFor(table);
    const res = await handler(signedEvent());
    expect(res.statusCode).toBe(200);
    expect(res.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(res.body)).toEqual({ flags: 2, segments: 0, updated: 2 });

    const store = reader(table);
    expect(await store.initialized()).toBe(true);
    const banner = await store.get(FEATURES, 'banner');
    expect(banner?.deleted).toBe(false);
    expect(JSON.parse(banner?.serializedItem ?? '{}')).toMatchObject({ key: 'banner', on: false });
    const raw = await dynamo.scan(table);
    const rawBanner = raw.find((i) => i.namespace?.S === 'features' && i.key?.S === 'banner');
    expect(rawBanner?.version?.N).toBe(String(banner?.version));
    expect(JSON.parse(rawBanner?.item?.S ?? '{}')).toMatchObject({ key: 'banner' });
    expect(raw.find((i) => i.namespace?.S === '$inited')).toEqual({
      namespace: { S: '$inited' },
      key: { S: '$inited' },
    });

    const before = await snapshot(table);
    // Other accepted shapes: X-Flagstaff-Signature with any header case, a base64 body, API Gateway v1.
    const again = await handler(
      urlEvent(payload, { 'X-Flagstaff-Signature': `sha256=${sign(payload)}` }, true),
    );
    expect(JSON.parse(again.body)).toEqual({ flags: 2, segments: 0, updated: 0 });
    const v1 = await handler({
      httpMethod: 'POST',
      headers: { 'X-LD-Signature': sign(payload) },
      multiValueHeaders: { 'X-LD-Signature': [sign(payload)] },
      requestContext: { stage: 'prod' },
      body: payload,
      isBase64Encoded: false,
    });
    expect(v1.statusCode).toBe(200);
    expect(JSON.parse(v1.body)).toMatchObject({ updated: 0 });
    expect(await snapshot(table)).toEqual(before);
  });

  it('runs on a schedule without a signature', async () => {
    const table = await dynamo.createTable();
    const handler = handlerFor(table);
    const res = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ flags: 2, updated: 2 });
    // GET is not a webhook delivery.
    const get = await handler({ ...signedEvent(), requestContext: { http: { method: 'GET' } } });
    expect(get.statusCode).toBe(405);
  });

  it('never replaces a newer stored version with an older fetched one', async () => {
    const table = await dynamo.createTable();
    const store = reader(table);
    const newer = JSON.stringify({ key: 'banner', version: 1000, on: true, variations: [true, false] });
    await store.upsert(FEATURES, 'banner', { version: 1000, deleted: false, serializedItem: newer });
    const handler = handlerFor(table);
    const res = await handler(signedEvent());
    expect(JSON.parse(res.body)).toEqual({ flags: 2, segments: 0, updated: 1 });
    expect(await store.get(FEATURES, 'banner')).toEqual({
      version: 1000,
      deleted: false,
      serializedItem: newer,
    });
  });

  it('turns flags gone from the data set into tombstones', async () => {
    const table = await dynamo.createTable();
    const store = reader(table);
    // An item the service never had (a segment left from another environment's data, say).
    const ghost = JSON.stringify({ key: 'ghost', version: 5, included: [] });
    await store.upsert(SEGMENTS, 'ghost', { version: 5, deleted: false, serializedItem: ghost });
    const handler = handlerFor(table);
    expect((await handler(signedEvent())).statusCode).toBe(200);
    expect(await store.get(SEGMENTS, 'ghost')).toEqual({
      version: 6,
      deleted: true,
      serializedItem: JSON.stringify({ key: 'ghost', version: 6, deleted: true }),
    });
    const doomed = await store.get(FEATURES, 'doomed');
    expect(doomed?.deleted).toBe(false);

    await admin('POST', '/projects/sync/flags/doomed/archive', {});
    const res = await handler(signedEvent());
    expect(JSON.parse(res.body)).toMatchObject({ flags: 1, updated: 1 });
    const tombstone = await store.get(FEATURES, 'doomed');
    expect(tombstone?.deleted).toBe(true);
    expect(tombstone?.version).toBeGreaterThan(doomed?.version ?? Number.POSITIVE_INFINITY);
    // The tombstone stays put on the next sync.
    expect(JSON.parse((await handler(signedEvent())).body)).toMatchObject({ updated: 0 });
    await admin('POST', '/projects/sync/flags/doomed/restore', {});
  });

  it('answers 502 when the data cannot be fetched and 500 when DynamoDB fails, without leaking secrets', async () => {
    const table = await dynamo.createTable();
    messages.length = 0;
    const badKey = handlerFor(table, { sdkKey: 'sdk-00000000-0000-0000-0000-000000000000' });
    expect((await badKey(signedEvent())).statusCode).toBe(502);
    const down = handlerFor(table, { baseUri: 'http://127.0.0.1:9' });
    expect((await down(signedEvent())).statusCode).toBe(502);
    const noTable = handlerFor('no-such-table');
    const res = await noTable(signedEvent());
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('no-such-table');
    expect(await dynamo.scan(table)).toEqual([]);
    const logged = messages.join('\n');
    expect(logged).toMatch(/Sync failed/);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(sdkKey);
  });

  it('end to end: an admin change reaches the webhook, the table and an SDK in daemon mode', async () => {
    const table = await dynamo.createTable();
    const handler = handlerFor(table);
    // Stands in for the Function URL: turns the POST into the event Lambda would build.
    const calls: number[] = [];
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === 'string') headers[name] = value;
        }
        const result = await handler({
          version: '2.0',
          headers,
          requestContext: { http: { method: req.method ?? 'POST', path: req.url ?? '/' } },
          body: Buffer.concat(chunks).toString('base64'),
          isBase64Encoded: true,
        } as SyncEvent);
        calls.push(result.statusCode);
        res.writeHead(result.statusCode, result.headers).end(result.body);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    try {
      await admin('POST', '/projects/sync/webhooks', {
        name: 'dynamo sync',
        url: `http://127.0.0.1:${port}/`,
        secret: SECRET,
      });
      // The first sync (as the schedule would do it) fills the table.
      await handler({ source: 'aws.events' });
      const store = reader(table);
      const before = (await store.get(FEATURES, 'banner'))?.version ?? 0;

      const client = init(sdkKey, {
        useLdd: true,
        sendEvents: false,
        logger,
        featureStore: DynamoDBFeatureStore(table, {
          cacheTTL: 0,
          clientOptions: {
            endpoint: dynamo.endpoint,
            region: dynamo.region,
            credentials: { accessKeyId: dynamo.accessKeyId, secretAccessKey: dynamo.secretAccessKey },
          },
        }),
      });
      try {
        await client.waitForInitialization({ timeout: 10 });
        expect(await client.variation('banner', { key: 'u1' }, 'default')).toBe(false);

        await admin('PATCH', '/projects/sync/environments/test/flags/banner', {
          instructions: [{ kind: 'turnFlagOn' }],
        });
        await vi.waitFor(
          async () => expect((await store.get(FEATURES, 'banner'))?.version).toBe(before + 1),
          waitOptions,
        );
        expect(calls).toContain(200);
        expect(calls).not.toContain(401);
        expect(await client.variation('banner', { key: 'u1' }, 'default')).toBe(true);
      } finally {
        await client.close();
      }
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
