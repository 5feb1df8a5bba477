// The SDK streams over real sockets, read with a raw SSE client: put/patch/delete on `/all` and the
// legacy `/flags`, heartbeats, the hub's fan-out (one load per change, whatever the number of
// clients), ordering, key rotation and revocation, and the client-side and mobile ping streams.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerContext } from '../src/context.js';
import type { Environment, Targeting } from '../src/domain/types.js';
import { StreamHub, sdkEndpoints } from '../src/sdk/index.js';
import type { Collection, Storage } from '../src/storage/types.js';
import { encodeContext, SdkFixture } from './support/sdkFixture.js';
import { SseClient, type SseOpenOptions } from './support/sseClient.js';

const HEARTBEAT_MS = 150;

let fx: SdkFixture;
let app: FastifyInstance;
let hub: StreamHub;
let base: string;
let prod: Environment;
let staging: Environment;
const reads = new Map<string, number>();
const clients: SseClient[] = [];

/** The fixture's storage, counting the reads the endpoints make (writes go to the fixture directly). */
function countingStorage(storage: Storage): Storage {
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === 'get' || prop === 'list') {
        return (collection: Collection, ...rest: unknown[]) => {
          const name = `${String(prop)}:${collection}`;
          reads.set(name, (reads.get(name) ?? 0) + 1);
          return (target[prop] as (...args: unknown[]) => unknown).call(target, collection, ...rest);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function open(path: string, options: SseOpenOptions = {}): Promise<SseClient> {
  const client = await SseClient.open(`${base}${path}`, options);
  clients.push(client);
  return client;
}

const sdk = (env: Environment) => ({ headers: { authorization: env.sdkKey } });

beforeAll(async () => {
  fx = await SdkFixture.create();
  prod = await fx.environment('shop', 'production');
  staging = await fx.environment('shop', 'staging');
  await fx.flag('shop', 'banner', { envs: { production: {}, staging: {} } });
  await fx.flag('shop', 'checkout', {
    variations: ['old', 'new'],
    clientSideAvailability: { usingEnvironmentId: true, usingMobileKey: true },
    envs: { production: {} },
  });
  await fx.segment('shop', 'production', 'beta', { included: ['bob'] });

  const storage = countingStorage(fx.storage);
  const ctx: ServerContext = { storage, now: Date.now, onCommitted: () => {} };
  hub = new StreamHub(storage, { heartbeatIntervalMs: HEARTBEAT_MS, now: ctx.now });
  app = Fastify();
  await app.register(sdkEndpoints(ctx, { hub }));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await app.close();
  await fx.storage.close();
});

describe('GET /all', () => {
  it('sends a put of all flags and segments first, as an unbuffered, uncompressed event stream', async () => {
    const client = await open('/all', { headers: { authorization: prod.sdkKey, 'accept-encoding': 'gzip' } });
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(client.headers['x-accel-buffering']).toBe('no');
    expect(client.headers['content-encoding']).toBeUndefined();
    expect(client.headers['access-control-allow-origin']).toBeUndefined();
    const put = await client.nextJson();
    expect(put.event).toBe('put');
    expect(put.data.path).toBe('/');
    const data = put.data.data as { flags: Record<string, unknown>; segments: Record<string, unknown> };
    expect(Object.keys(data.flags).sort()).toEqual(['banner', 'checkout']);
    expect(data.flags.banner).toMatchObject({
      key: 'banner',
      version: 1,
      on: true,
      variations: [true, false],
    });
    expect(data.segments.beta).toMatchObject({ key: 'beta', version: 1, included: ['bob'] });
  });

  it('sends a patch per flag or segment change and a delete for an archived flag', async () => {
    const client = await open('/all', sdk(prod));
    expect((await client.next()).event).toBe('put');

    await fx.updateTargeting('shop', 'production', 'banner', { on: false });
    const patch = await client.nextJson();
    expect(patch.event).toBe('patch');
    expect(patch.data.path).toBe('/flags/banner');
    expect(patch.data.data).toMatchObject({ key: 'banner', version: 2, on: false });

    await fx.segment('shop', 'production', 'beta', { included: ['bob', 'carol'] });
    const segment = await client.nextJson();
    expect(segment).toMatchObject({ event: 'patch', data: { path: '/segments/beta' } });
    expect(segment.data.data).toMatchObject({ key: 'beta', version: 2, included: ['bob', 'carol'] });

    await fx.flag('shop', 'doomed', { envs: { production: {} } });
    expect(await client.nextJson()).toMatchObject({ event: 'patch', data: { path: '/flags/doomed' } });
    await fx.archiveFlag('shop', 'doomed');
    const deletion = await client.nextJson();
    expect(deletion).toEqual({ event: 'delete', data: { path: '/flags/doomed', version: 2 } });
  });

  it('gives a stream connecting after a change the changed data', async () => {
    const first = await open('/all', sdk(prod));
    const before = (await first.nextJson()).data.data as { flags: Record<string, { version: number }> };
    const { version } = await fx.updateTargeting('shop', 'production', 'checkout', { on: true });
    expect(version).toBe(before.flags.checkout!.version + 1);
    const second = await open('/all', sdk(prod));
    const after = (await second.nextJson()).data.data as { flags: Record<string, { version: number }> };
    expect(after.flags.checkout!.version).toBe(version);
  });

  it('brings streams up to date after notices were lost (resyncAll)', async () => {
    const server = await open('/all', sdk(prod));
    const browser = await open(`/ping/${prod.clientSideId}`);
    await Promise.all([server.next(), browser.next()]);
    // A change whose notice never arrives, as when the storage's listener was down.
    await fx.storage.transaction(async (tx) => {
      const id = 'shop/production/banner';
      const current = (await tx.get<Targeting>('targeting', id))!.value;
      await tx.put('targeting', id, { ...current, version: current.version + 1, salt: 'lost' });
    });
    hub.resyncAll();
    const put = await server.nextJson();
    expect(put.event).toBe('put');
    expect((put.data.data as { flags: { banner: { salt: string } } }).flags.banner.salt).toBe('lost');
    expect((await browser.next()).event).toBe('ping');
  });

  it('sends heartbeat comments', async () => {
    const client = await open('/all', sdk(prod));
    await client.next();
    await client.until(() => client.comments >= 2, HEARTBEAT_MS * 10, 'two heartbeats');
  });

  it('refuses missing and wrong keys with 401 before streaming', async () => {
    const refused: Record<string, string>[] = [
      {},
      { authorization: prod.mobileKey },
      { authorization: prod.clientSideId },
    ];
    for (const headers of refused) {
      const client = await open('/all', { headers });
      expect(client.status).toBe(401);
      expect(client.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  it('sends a fresh put when a notice names an item that is gone without a tombstone', async () => {
    const client = await open('/all', sdk(prod));
    await client.next();
    await fx.notify({ projectKey: 'shop', envKey: 'production', kind: 'flag', key: 'never-existed' });
    const put = await client.nextJson();
    expect(put.event).toBe('put');
    expect(Object.keys((put.data.data as { flags: object }).flags)).toContain('banner');
  });
});

describe('GET /flags (legacy flags-only stream)', () => {
  it('puts a flat flag map and patches and deletes by bare key, ignoring segments', async () => {
    const client = await open('/flags', sdk(prod));
    const put = await client.nextJson();
    expect(put.event).toBe('put');
    expect(Object.keys(put.data.data as object)).toContain('checkout');
    expect((put.data.data as Record<string, unknown>).checkout).toMatchObject({ key: 'checkout' });

    await fx.segment('shop', 'production', 'beta');
    const next = await fx.updateTargeting('shop', 'production', 'checkout', {
      fallthrough: { variation: 1 },
    });
    const patch = await client.nextJson();
    expect(patch).toMatchObject({ event: 'patch', data: { path: '/checkout' } });
    expect((patch.data.data as { version: number }).version).toBe(next.version);

    await fx.flag('shop', 'short-lived', { envs: { production: {} } });
    expect(await client.nextJson()).toMatchObject({ event: 'patch', data: { path: '/short-lived' } });
    await fx.archiveFlag('shop', 'short-lived');
    expect(await client.nextJson()).toEqual({ event: 'delete', data: { path: '/short-lived', version: 2 } });
  });
});

describe('fan-out', () => {
  it('loads a change once and writes the same frame to every client of the environment only', async () => {
    reads.clear();
    const prodClients = await Promise.all(Array.from({ length: 40 }, () => open('/all', sdk(prod))));
    const stagingClients = await Promise.all(Array.from({ length: 5 }, () => open('/all', sdk(staging))));
    await Promise.all([...prodClients, ...stagingClients].map((c) => c.next()));
    // Streams connecting together share one load per environment (at most; an earlier one may do).
    expect(reads.get('list:flags') ?? 0).toBeLessThanOrEqual(2);

    reads.clear();
    const { version } = await fx.updateTargeting('shop', 'production', 'banner', { on: true });
    const frames = await Promise.all(prodClients.map((c) => c.next()));
    // One read of the definition and one of the targeting, for 40 clients.
    expect(Object.fromEntries(reads)).toEqual({ 'get:flags': 1, 'get:targeting': 1 });
    expect(new Set(frames.map((f) => f.data)).size).toBe(1);
    expect(JSON.parse(frames[0]!.data).data.version).toBe(version);

    // Staging heard nothing of production's change: its next event is its own.
    await fx.updateTargeting('shop', 'staging', 'banner', { on: false });
    for (const client of stagingClients) {
      const event = await client.nextJson();
      expect(event.data.path).toBe('/flags/banner');
      expect(event.data.data).toMatchObject({ on: false });
    }
  });

  it('applies a project-wide notice to every environment of the project', async () => {
    const a = await open('/all', sdk(prod));
    const b = await open('/all', sdk(staging));
    await Promise.all([a.next(), b.next()]);
    await fx.notify({ projectKey: 'shop', kind: 'flag', key: 'banner' });
    for (const client of [a, b]) {
      expect(await client.nextJson()).toMatchObject({ event: 'patch', data: { path: '/flags/banner' } });
    }
  });

  it('keeps every stream in order: the put first, then versions that never go back', async () => {
    const early = await open('/all', sdk(prod));
    await early.next();
    const writes = (async () => {
      for (let i = 0; i < 30; i++) {
        await fx.updateTargeting('shop', 'production', 'checkout', { on: i % 2 === 0 });
      }
    })();
    // Clients connecting in the middle of the burst.
    const late = await Promise.all(Array.from({ length: 5 }, () => open('/all', sdk(prod))));
    await writes;
    const final = (await fx.storage.get<{ version: number }>('targeting', 'shop/production/checkout'))!.value;

    for (const client of [early, ...late]) {
      const first = await client.nextJson();
      let version = 0;
      if (client !== early) {
        expect(first.event).toBe('put');
        version = (first.data.data as { flags: { checkout: { version: number } } }).flags.checkout.version;
      } else {
        version = (first.data.data as { version: number }).version;
      }
      while (version < final.version) {
        const event = await client.nextJson();
        expect(event.event).toBe('patch');
        const next = (event.data.data as { version: number }).version;
        expect(next).toBeGreaterThanOrEqual(version);
        version = next;
      }
      expect(version).toBe(final.version);
    }
  });

  it('drops a client that stops reading instead of buffering for it without end', async () => {
    const fixture = await SdkFixture.create();
    const env = await fixture.environment('p', 'e');
    const big = 'x'.repeat(256 * 1024);
    await fixture.flag('p', 'big', { variations: [big, `${big}!`], envs: { e: {} } });
    const ctx: ServerContext = { storage: fixture.storage, now: Date.now, onCommitted: () => {} };
    const small = new StreamHub(fixture.storage, { maxBufferedBytes: 64 * 1024 });
    const server = Fastify();
    await server.register(sdkEndpoints(ctx, { hub: small }));
    const url = await server.listen({ port: 0, host: '127.0.0.1' });
    try {
      const stalled = await SseClient.open(`${url}/all`, sdk(env));
      await stalled.next();
      stalled.pause();
      // Far more than the kernel's socket buffers hold: the server's own queue must overflow.
      for (let i = 0; i < 80 && !stalled.isEnded; i++) {
        await fixture.updateTargeting('p', 'e', 'big', { on: i % 2 === 0 });
        await new Promise((resolve) => setImmediate(resolve));
      }
      await expect.poll(() => small.connectionCount).toBe(0);
    } finally {
      await server.close();
      await fixture.storage.close();
    }
  });

  it('does not keep a response whose client hung up before the stream opened', async () => {
    await expect.poll(() => hub.connectionCount).toBe(0);
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    res.destroy();
    const auth = {
      env: prod,
      credential: { key: prod.sdkKey, kind: 'sdkKey' as const },
      expiresAt: undefined,
    };
    expect(hub.open(res, 'all', auth).isClosed).toBe(true);
    expect(hub.connectionCount).toBe(0);
  });

  it('forgets clients that disconnect', async () => {
    // The previous tests' clients hung up just now; the server hears of it a moment later.
    await expect.poll(() => hub.connectionCount).toBe(0);
    const client = await open('/all', sdk(prod));
    await client.next();
    expect(hub.connectionCount).toBe(1);
    client.close();
    await expect.poll(() => hub.connectionCount).toBe(0);
  });
});

describe('credential changes', () => {
  it('keeps a rotated key streaming through its grace period, then ends the stream', async () => {
    const env = await fx.environment('keys', 'grace');
    const client = await open('/all', sdk(env));
    await client.next();
    await fx.rotateSdkKey(env, Date.now() + 400);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(client.isEnded).toBe(false);
    // No notice arrives when the grace period ends: the hub's own timer notices.
    await client.ended;
  });

  it('ends streams at once when their key is revoked or the environment archived', async () => {
    const env = await fx.environment('keys', 'revoked');
    const stream = await open('/all', sdk(env));
    await stream.next();
    const rotated = await fx.rotateSdkKey(env, Date.now() - 1);
    await stream.ended;

    const server = await open('/all', sdk(rotated));
    const mobile = await open(`/meval/${encodeContext({ key: 'u' })}`, {
      headers: { authorization: rotated.mobileKey },
    });
    const browser = await open(`/eval/${rotated.clientSideId}/${encodeContext({ key: 'u' })}`);
    await Promise.all([server.next(), mobile.next(), browser.next()]);
    await fx.archiveEnvironment(rotated);
    await Promise.all([server.ended, mobile.ended, browser.ended]);
  });
});

describe('client-side and mobile ping streams', () => {
  const ctx = encodeContext({ kind: 'user', key: 'alice' });

  it('pings the JavaScript client on connect and on every change, with CORS', async () => {
    const origin = 'https://app.example.com';
    const client = await open(`/eval/${prod.clientSideId}/${ctx}`, { headers: { origin } });
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(client.headers['access-control-allow-origin']).toBe(origin);
    expect(await client.next()).toEqual({ event: 'ping', data: ' ' });
    await fx.updateTargeting('shop', 'production', 'checkout', { on: true });
    expect((await client.next()).event).toBe('ping');
    await fx.segment('shop', 'production', 'beta');
    expect((await client.next()).event).toBe('ping');
  });

  it('takes the context in a REPORT body, and offers the legacy ping path', async () => {
    const report = await open(`/eval/${prod.clientSideId}`, {
      method: 'REPORT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'user', key: 'alice' }),
    });
    expect(report.status).toBe(200);
    expect((await report.next()).event).toBe('ping');
    const legacy = await open(`/ping/${prod.clientSideId}`);
    expect((await legacy.next()).event).toBe('ping');
    const wrongType = await open(`/eval/${prod.clientSideId}`, {
      method: 'REPORT',
      headers: { 'content-type': 'text/plain' },
      body: '{"key":"alice"}',
    });
    expect(wrongType.status).toBe(415);
  });

  it('serves mobile streams with the mobile key only', async () => {
    const mobile = await open(`/meval/${ctx}`, { headers: { authorization: prod.mobileKey } });
    expect(mobile.headers['access-control-allow-origin']).toBeUndefined();
    expect((await mobile.next()).event).toBe('ping');
    const report = await open('/meval', {
      method: 'REPORT',
      headers: { authorization: prod.mobileKey, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'alice' }),
    });
    expect((await report.next()).event).toBe('ping');
    const legacy = await open('/mping', { headers: { authorization: prod.mobileKey } });
    expect((await legacy.next()).event).toBe('ping');
    await fx.updateTargeting('shop', 'production', 'checkout', { on: false });
    for (const client of [mobile, report, legacy]) expect((await client.next()).event).toBe('ping');

    expect((await open(`/meval/${ctx}`, { headers: { authorization: prod.sdkKey } })).status).toBe(401);
    expect((await open('/mping')).status).toBe(401);
  });

  it('refuses invalid contexts and unknown client-side IDs', async () => {
    expect((await open(`/eval/${prod.clientSideId}/${encodeContext({ kind: 'user' })}`)).status).toBe(400);
    expect((await open(`/eval/nope/${ctx}`)).status).toBe(404);
    expect((await open(`/eval/${prod.clientSideId}/${ctx}?h=wrong`)).status).toBe(400);
  });
});

describe('shutdown', () => {
  it('ends open streams when the server closes', async () => {
    const fixture = await SdkFixture.create();
    const env = await fixture.environment('p', 'e');
    const server = Fastify();
    const ctx: ServerContext = { storage: fixture.storage, now: Date.now, onCommitted: () => {} };
    await server.register(sdkEndpoints(ctx));
    const url = await server.listen({ port: 0, host: '127.0.0.1' });
    const stream = await SseClient.open(`${url}/all`, sdk(env));
    const ping = await SseClient.open(`${url}/ping/${env.clientSideId}`);
    await Promise.all([stream.next(), ping.next()]);
    await server.close();
    await Promise.all([stream.ended, ping.ended]);
    await fixture.storage.close();
  });
});
