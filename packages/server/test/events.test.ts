import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aggregateEvents } from '../src/events/aggregate.js';
import type { ContextsDoc } from '../src/events/contexts.js';
import { type EventIngestionOptions, eventIngestion } from '../src/events/index.js';
import { type Seeded, seed, summary } from './support/eventsSeed.js';

const HOUR = 3_600_000;
// 12:30 UTC, so "the hour of endDate" and "the previous hour" are easy to tell apart.
const T = Date.UTC(2026, 2, 10, 12, 30);
const H12 = Date.UTC(2026, 2, 10, 12);

let s: Seeded;
let app: FastifyInstance;
let clock: number;

async function build(options: EventIngestionOptions = {}) {
  app = Fastify();
  await app.register(eventIngestion(s.ctx, options));
  await app.ready();
  return app;
}

beforeEach(async () => {
  clock = T;
  s = await seed(() => clock);
  await build();
});

afterEach(async () => {
  await app.close();
  await s.storage.close();
});

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });

const counts = (kind: 'eval' | 'custom' = 'eval', env = 'shop/prod') =>
  s.storage.queryCounts({ env, kind, since: 0, until: Number.MAX_SAFE_INTEGER });

const user = (key: string, extra: Record<string, unknown> = {}) => ({ kind: 'user', key, ...extra });

describe('authentication per route kind', () => {
  it('server routes take the SDK key, and only it', async () => {
    const { sdkKey, mobileKey, clientSideId } = s.prod;
    expect((await post('/bulk', [], { authorization: sdkKey })).statusCode).toBe(202);
    expect((await post('/diagnostic', { kind: 'diagnostic' }, { authorization: sdkKey })).statusCode).toBe(
      202,
    );
    for (const wrong of [mobileKey, clientSideId, `${sdkKey}x`, '']) {
      const res = await post('/bulk', [], { authorization: wrong });
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toMatch(/SDK key/);
      expect((await post('/diagnostic', {}, { authorization: wrong })).statusCode).toBe(401);
    }
    expect((await post('/bulk', [])).statusCode).toBe(401);
  });

  it('mobile routes take the mobile key, bare or as "api_key <key>"', async () => {
    const { sdkKey, mobileKey, clientSideId } = s.prod;
    for (const url of ['/mobile', '/mobile/events', '/mobile/events/bulk']) {
      expect((await post(url, [], { authorization: `api_key ${mobileKey}` })).statusCode).toBe(202);
      expect((await post(url, [], { authorization: mobileKey })).statusCode).toBe(202);
      expect((await post(url, [], { authorization: sdkKey })).statusCode).toBe(401);
      expect((await post(url, [], { authorization: `api_key ${clientSideId}` })).statusCode).toBe(401);
    }
    const diag = '/mobile/events/diagnostic';
    expect((await post(diag, {}, { authorization: `api_key ${mobileKey}` })).statusCode).toBe(202);
    expect((await post(diag, {}, { authorization: sdkKey })).statusCode).toBe(401);
  });

  it('JS client routes take the client-side ID in the path and ignore Authorization', async () => {
    const { sdkKey, mobileKey, clientSideId } = s.prod;
    expect((await post(`/events/bulk/${clientSideId}`, [])).statusCode).toBe(202);
    expect((await post(`/events/diagnostic/${clientSideId}`, {})).statusCode).toBe(202);
    for (const wrong of [sdkKey, mobileKey, 'nope']) {
      expect((await post(`/events/bulk/${wrong}`, [], { authorization: sdkKey })).statusCode).toBe(401);
      expect((await post(`/events/diagnostic/${wrong}`, {})).statusCode).toBe(401);
    }
  });

  it('rejects keys of archived environments and expired rotated keys', async () => {
    await s.storage.transaction(async (tx) => {
      await tx.put('environments', 'shop/staging', { ...s.staging, archived: true });
      await tx.put('credentials', 'sdk-old', {
        projectKey: 'shop',
        envKey: 'prod',
        kind: 'sdkKey',
        expiresAt: T - 1,
      });
    });
    expect((await post('/bulk', [], { authorization: s.staging.sdkKey })).statusCode).toBe(401);
    expect((await post('/bulk', [], { authorization: 'sdk-old' })).statusCode).toBe(401);
  });
});

describe('bodies', () => {
  const auth = () => ({ authorization: s.prod.sdkKey });

  it('answers 400 with a message for invalid JSON and for bodies that are not arrays of objects', async () => {
    const cases: [string | unknown, RegExp][] = [
      ['{"kind": ', /not valid JSON/],
      [{ kind: 'summary' }, /JSON array/],
      ['"text"', /JSON array/],
      ['', /JSON array/],
      [[{ kind: 'custom', key: 'k' }, 42], /event 1 is not an object/],
      [[null], /event 0 is not an object/],
      [[[]], /event 0 is not an object/],
    ];
    for (const [body, message] of cases) {
      const res = await post('/bulk', body, auth());
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().message).toMatch(message);
    }
    expect((await post('/diagnostic', '[1]', auth())).statusCode).toBe(400);
    expect((await post('/diagnostic', '{', auth())).statusCode).toBe(400);
  });

  it('parses the body whatever the Content-Type says', async () => {
    const body = JSON.stringify([{ kind: 'custom', key: 'k', creationDate: T }]);
    for (const type of ['text/plain', 'application/json; charset=utf-8']) {
      const res = await post('/bulk', body, { ...auth(), 'content-type': type });
      expect(res.statusCode).toBe(202);
    }
    expect((await counts('custom'))[0]?.count).toBe(2);
  });

  it('answers 413 for bodies over the limit, compressed or not', async () => {
    await app.close();
    await build({ bodyLimit: 2000 });
    const big = JSON.stringify([{ kind: 'custom', key: 'k', data: 'x'.repeat(3000) }]);
    const res = await post('/bulk', big, auth());
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'payload_too_large' });
    // Compresses to far below the limit, but would expand beyond it: a zip bomb is refused too.
    const gz = gzipSync(big);
    expect(gz.length).toBeLessThan(2000);
    const bomb = await post('/bulk', gz, { ...auth(), 'content-encoding': 'gzip' });
    expect(bomb.statusCode).toBe(413);
    // And a body under the limit is fine.
    expect((await post('/bulk', [{ kind: 'custom', key: 'k' }], auth())).statusCode).toBe(202);
  });

  it('accepts gzip bodies and rejects broken gzip and unknown encodings', async () => {
    const events = [summary(T - 1000, T - 500, { checkout: [{ variation: 1, count: 4 }] })];
    const res = await post('/bulk', gzipSync(JSON.stringify(events)), {
      ...auth(),
      'content-encoding': 'gzip',
    });
    expect(res.statusCode).toBe(202);
    expect(await counts()).toEqual([
      { env: 'shop/prod', kind: 'eval', key: 'checkout', variation: '1', hour: H12, count: 4 },
    ]);
    const broken = await post('/bulk', Buffer.from('not gzip'), { ...auth(), 'content-encoding': 'gzip' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().message).toMatch(/gzip/);
    const br = await post('/bulk', '[]', { ...auth(), 'content-encoding': 'br' });
    expect(br.statusCode).toBe(415);
  });

  it('ignores unknown event kinds and events without a kind', async () => {
    const res = await post(
      '/bulk',
      [{ kind: 'from-the-future', x: 1 }, {}, { kind: 'custom', key: 'ok', creationDate: T }],
      auth(),
    );
    expect(res.statusCode).toBe(202);
    expect((await counts('custom')).map((r) => r.key)).toEqual(['ok']);
  });
});

describe('aggregation', () => {
  const auth = () => ({ authorization: s.prod.sdkKey });

  it('counts summaries per flag, variation and hour of endDate, and does not count feature events', async () => {
    const events = [
      { kind: 'index', creationDate: T - 2 * HOUR, context: user('u1') },
      {
        kind: 'feature',
        creationDate: T - 2 * HOUR,
        key: 'checkout',
        variation: 1,
        value: 'new',
        context: user('u1'),
      },
      // Spans 10:59 to 11:01: counted in the hour of its end.
      summary(H12 - HOUR - 60_000, H12 - HOUR + 60_000, {
        checkout: [
          { variation: 1, count: 3, version: 4 },
          { variation: 1, count: 2, version: 5 },
          { variation: 0, count: 1 },
          { count: 2 },
        ],
        ghost: [{ unknown: true, count: 5 }],
      }),
      summary(T - 1000, T - 10, { checkout: [{ variation: 0, count: 7 }] }),
    ];
    expect((await post('/bulk', events, auth())).statusCode).toBe(202);
    const h11 = H12 - HOUR;
    expect(await counts()).toEqual([
      { env: 'shop/prod', kind: 'eval', key: 'checkout', variation: '0', hour: h11, count: 1 },
      { env: 'shop/prod', kind: 'eval', key: 'checkout', variation: '1', hour: h11, count: 5 },
      { env: 'shop/prod', kind: 'eval', key: 'checkout', variation: 'default', hour: h11, count: 2 },
      { env: 'shop/prod', kind: 'eval', key: 'checkout', variation: '0', hour: H12, count: 7 },
      { env: 'shop/prod', kind: 'eval', key: 'ghost', variation: 'default', hour: h11, count: 5 },
    ]);
    // Payloads add up; other environments are separate.
    await post('/bulk', [summary(T - 5, T - 1, { checkout: [{ variation: 0, count: 1 }] })], auth());
    await post('/bulk', [summary(T - 5, T - 1, { checkout: [{ variation: 0, count: 9 }] })], {
      authorization: s.staging.sdkKey,
    });
    const prod = await counts();
    expect(prod.find((r) => r.hour === H12)?.count).toBe(8);
    expect((await counts('eval', 'shop/staging')).map((r) => r.count)).toEqual([9]);
  });

  it('counts custom events per key and hour of creation', async () => {
    const events = [
      { kind: 'custom', key: 'purchase', creationDate: T - 10, context: user('u1'), metricValue: 9.5 },
      { kind: 'custom', key: 'purchase', creationDate: T - 20, contextKeys: { user: 'u2' } },
      { kind: 'custom', key: 'purchase', creationDate: T - HOUR, context: user('u3') },
      { kind: 'custom', key: 'signup', creationDate: T, context: user('u4') },
    ];
    expect((await post(`/events/bulk/${s.prod.clientSideId}`, events)).statusCode).toBe(202);
    expect(await counts('custom')).toEqual([
      { env: 'shop/prod', kind: 'custom', key: 'purchase', variation: '', hour: H12 - HOUR, count: 1 },
      { env: 'shop/prod', kind: 'custom', key: 'purchase', variation: '', hour: H12, count: 2 },
      { env: 'shop/prod', kind: 'custom', key: 'signup', variation: '', hour: H12, count: 1 },
    ]);
  });

  it('counts events with absurd timestamps at the time they arrived', async () => {
    const events = [
      summary(0, 1, { checkout: [{ variation: 0, count: 1 }] }),
      summary(T + 48 * HOUR, T + 49 * HOUR, { checkout: [{ variation: 0, count: 1 }] }),
      { kind: 'custom', key: 'k', creationDate: 'yesterday' },
    ];
    await post('/bulk', events, auth());
    expect((await counts()).map((r) => [r.hour, r.count])).toEqual([[H12, 2]]);
    expect((await counts('custom')).map((r) => r.hour)).toEqual([H12]);
  });

  it('skips malformed summaries and counters without failing the payload', async () => {
    const events = [
      { kind: 'summary', features: 'nope' },
      { kind: 'summary', endDate: T, features: { a: { counters: 'x' }, b: null } },
      {
        kind: 'summary',
        endDate: T,
        features: { c: { counters: [{ count: -1 }, { count: 1.5 }, { count: 2 }] } },
      },
    ];
    expect((await post('/bulk', events, auth())).statusCode).toBe(202);
    expect((await counts()).map((r) => [r.key, r.variation, r.count])).toEqual([['c', 'default', 2]]);
  });

  it('writes one merged row per counter cell (one addCounts call per request)', () => {
    const events = [
      summary(T - 2, T - 1, { f: [{ variation: 0, count: 1 }] }),
      summary(T - 2, T - 1, { f: [{ variation: 0, count: 2 }] }),
      { kind: 'custom', key: 'k', creationDate: T },
      { kind: 'custom', key: 'k', creationDate: T },
      { kind: 'migration_op' },
      { kind: 'weird' },
    ];
    const result = aggregateEvents(events, 'shop/prod', T);
    expect(result.counters).toHaveLength(2);
    expect(result.counters.map((c) => c.count)).toEqual([3, 2]);
    expect(result.stats).toMatchObject({ events: 6, summaries: 2, custom: 2, skipped: 1, unknown: 1 });
  });

  it('counts a payload resent with the same payload id once', async () => {
    const events = [summary(T - 2, T - 1, { checkout: [{ variation: 1, count: 1 }] })];
    const headers = { ...auth(), 'x-launchdarkly-payload-id': 'c1a7e3d2-0000-4000-8000-000000000001' };
    await post('/bulk', events, headers);
    await post('/bulk', events, headers);
    await post('/bulk', events, { ...headers, 'x-launchdarkly-payload-id': 'another' });
    expect((await counts()).map((r) => r.count)).toEqual([2]);
  });
});

describe('contexts seen', () => {
  const contextsDoc = async (env = 'shop/prod') =>
    (await s.storage.get<ContextsDoc>('contexts', env))?.value.contexts ?? [];

  it('records contexts of index, identify, feature and custom events, and writes them on close', async () => {
    const events = [
      { kind: 'index', creationDate: T, context: user('u1', { name: 'Ann' }) },
      {
        kind: 'identify',
        creationDate: T,
        context: { kind: 'multi', user: { key: 'u2' }, org: { key: 'o1' } },
      },
      { kind: 'feature', creationDate: T, key: 'checkout', context: { key: 'legacy' } },
      { kind: 'custom', creationDate: T, key: 'k', contextKeys: { device: 'd1' } },
      { kind: 'custom', creationDate: T, key: 'k', context: { kind: 'user', key: 'anon', anonymous: true } },
      summary(T - 1, T, { checkout: [{ variation: 0, count: 1 }] }),
    ];
    await post('/bulk', events, { authorization: s.prod.sdkKey });
    // Buffered, not yet written.
    expect(await contextsDoc()).toEqual([]);
    await app.close();
    const stored = await contextsDoc();
    expect(stored.map((c) => `${c.kind}:${c.key}`).sort()).toEqual([
      'device:d1',
      'org:o1',
      'user:anon',
      'user:legacy',
      'user:u1',
      'user:u2',
    ]);
    expect(stored.find((c) => c.key === 'u1')).toEqual({ kind: 'user', key: 'u1', name: 'Ann', lastSeen: T });
    expect(stored.find((c) => c.key === 'anon')?.anonymous).toBe(true);
    await build();
  });

  it('keeps at most N contexts per environment, the most recently seen', async () => {
    await app.close();
    await build({ maxContextsPerEnvironment: 3, contextsFlushIntervalMs: 20 });
    const index = (key: string) => ({ kind: 'index', creationDate: T, context: user(key) });
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      clock += 1000;
      await post('/bulk', [index(key)], { authorization: s.prod.sdkKey });
    }
    // Flushed by the timer.
    await expect
      .poll(async () => (await contextsDoc()).map((c) => c.key), { timeout: 2000 })
      .toEqual(['e', 'd', 'c']);
    // Seeing an old one again brings it back in front; the store stays bounded across flushes.
    clock += 1000;
    await post('/bulk', [index('a'), index('b')], { authorization: s.prod.sdkKey });
    await expect
      .poll(async () => (await contextsDoc()).map((c) => c.key).sort(), { timeout: 2000 })
      .toEqual(['a', 'b', 'e']);
    expect(await contextsDoc('shop/staging')).toEqual([]);
  });
});

describe('CORS', () => {
  it('allows any origin on the JS client routes, preflight included', async () => {
    const id = s.prod.clientSideId;
    const res = await post(`/events/bulk/${id}`, [], { origin: 'https://app.example' });
    expect(res.statusCode).toBe(202);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    // Also on errors, so the browser SDK can read them.
    const denied = await post('/events/bulk/unknown', [], { origin: 'https://app.example' });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe('*');
    const bad = await post(`/events/bulk/${id}`, '{', { origin: 'https://app.example' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['access-control-allow-origin']).toBe('*');

    for (const url of [`/events/bulk/${id}`, `/events/diagnostic/${id}`]) {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-launchdarkly-event-schema',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('*');
      expect(preflight.headers['access-control-allow-methods']).toMatch(/POST/);
      expect(preflight.headers['access-control-allow-headers']).toBe(
        'content-type,x-launchdarkly-event-schema',
      );
    }
  });

  it('adds no CORS headers to server and mobile routes', async () => {
    const server = await post('/bulk', [], { authorization: s.prod.sdkKey, origin: 'https://evil.example' });
    expect(server.statusCode).toBe(202);
    expect(server.headers['access-control-allow-origin']).toBeUndefined();
    const mobile = await post('/mobile', [], {
      authorization: s.prod.mobileKey,
      origin: 'https://evil.example',
    });
    expect(mobile.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/bulk',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(404);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});
