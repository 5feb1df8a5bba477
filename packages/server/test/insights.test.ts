import * as flagstaff from '@flagstaff/node-server-sdk';
import * as official from '@launchdarkly/node-server-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventIngestion, insightsApi } from '../src/events/index.js';
import { type Seeded, seed, summary } from './support/eventsSeed.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const H12 = Date.UTC(2026, 2, 10, 12);
const T = H12 + 30 * 60_000;
const silent = { error() {}, warn() {}, info() {}, debug() {} };

let s: Seeded;
let app: FastifyInstance;
let clock: number;

/** What reached the server: method, url, content encoding and answer. */
let seen: string[] = [];

async function build(now?: () => number) {
  s = await seed(now ?? (() => clock));
  app = Fastify();
  seen = [];
  app.addHook('onResponse', async (request, reply) => {
    seen.push(`${request.url} ${request.headers['content-encoding'] ?? 'identity'} ${reply.statusCode}`);
  });
  await app.register(eventIngestion(s.ctx));
  await app.register(insightsApi(s.ctx), { prefix: '/api/v1' });
  await app.ready();
}

afterEach(async () => {
  await app.close();
  await s.storage.close();
});

const base = '/api/v1/projects/shop/environments/prod';

async function get(url: string, token = s.tokens.reader) {
  return app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

const ingest = (events: unknown[], sdkKey = s.prod.sdkKey) =>
  app.inject({
    method: 'POST',
    url: '/bulk',
    headers: { authorization: sdkKey, 'content-type': 'application/json' },
    payload: JSON.stringify(events),
  });

describe('insights API over ingested counters', () => {
  beforeEach(async () => {
    clock = T;
    await build();
    // Yesterday 23:xx, today 11:xx and 12:xx.
    await ingest([
      summary(H12 - 13 * HOUR, H12 - 13 * HOUR + 5, { checkout: [{ variation: 0, count: 4 }] }),
      summary(H12 - HOUR, H12 - HOUR + 5, {
        checkout: [
          { variation: 0, count: 2 },
          { variation: 1, count: 3 },
        ],
        banner: [{ variation: 1, count: 1 }],
      }),
      summary(H12, H12 + 5, { checkout: [{ variation: 1, count: 5 }, { count: 1 }] }),
      {
        kind: 'custom',
        key: 'purchase',
        creationDate: H12 - HOUR + 10,
        context: { kind: 'user', key: 'u1' },
      },
      { kind: 'custom', key: 'purchase', creationDate: H12 + 10, context: { kind: 'user', key: 'u2' } },
      {
        kind: 'custom',
        key: 'signup',
        creationDate: H12 + 20,
        context: { kind: 'user', key: 'u3', name: 'Cy' },
      },
    ]);
    // Another environment's counts never show up here.
    await ingest([summary(H12, H12 + 5, { checkout: [{ variation: 0, count: 100 }] })], s.staging.sdkKey);
  });

  it('needs a reader token', async () => {
    const none = await app.inject({ method: 'GET', url: `${base}/insights/flags` });
    expect(none.statusCode).toBe(401);
    // SDK keys are not API tokens.
    const sdk = await app.inject({
      method: 'GET',
      url: `${base}/insights/flags`,
      headers: { authorization: s.prod.sdkKey },
    });
    expect(sdk.statusCode).toBe(401);
    for (const token of Object.values(s.tokens))
      expect((await get(`${base}/insights/flags`, token)).statusCode).toBe(200);
  });

  it('answers 404 for unknown projects and environments', async () => {
    expect((await get('/api/v1/projects/shop/environments/nope/insights/flags')).statusCode).toBe(404);
    expect((await get('/api/v1/projects/nope/environments/prod/contexts')).statusCode).toBe(404);
  });

  it('gives evaluations per variation by hour, with empty hours, totals and variation labels', async () => {
    const res = await get(`${base}/insights/flags/checkout?from=${H12 - 2 * HOUR}&to=${T}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      flagKey: 'checkout',
      from: H12 - 2 * HOUR,
      to: T,
      granularity: 'hour',
      variations: [
        { index: 0, value: 'old', name: 'Old' },
        { index: 1, value: 'new' },
      ],
      series: [
        { time: H12 - 2 * HOUR, counts: {} },
        { time: H12 - HOUR, counts: { '0': 2, '1': 3 } },
        { time: H12, counts: { '1': 5, default: 1 } },
      ],
      totals: { '0': 2, '1': 8, default: 1 },
      total: 11,
    });
  });

  it('defaults to the last 24 hours, and groups by UTC day', async () => {
    const hourly = (await get(`${base}/insights/flags/checkout`)).json();
    expect(hourly.series).toHaveLength(25);
    expect(hourly.total).toBe(15);

    const daily = (
      await get(`${base}/insights/flags/checkout?granularity=day&from=2026-03-09T00:00:00Z`)
    ).json();
    expect(daily.series).toEqual([
      { time: H12 - 12 * HOUR - DAY, counts: { '0': 4 } },
      { time: H12 - 12 * HOUR, counts: { '0': 2, '1': 8, default: 1 } },
    ]);
    // A flag Flagstaff does not know (SDKs may evaluate anything) has no variation labels.
    const banner = (await get(`${base}/insights/flags/banner`)).json();
    expect(banner.variations).toBeUndefined();
    expect(banner.totals).toEqual({ '1': 1 });
  });

  it('lists totals per flag for a range, busiest first', async () => {
    const res = await get(`${base}/insights/flags?from=${H12 - HOUR}&to=${T}`);
    expect(res.json()).toEqual({
      from: H12 - HOUR,
      to: T,
      flags: [
        { key: 'checkout', totals: { '0': 2, '1': 8, default: 1 }, total: 11 },
        { key: 'banner', totals: { '1': 1 }, total: 1 },
      ],
    });
  });

  it('gives custom event counts over time', async () => {
    const res = await get(`${base}/insights/events/purchase?from=${H12 - HOUR}&to=${T}`);
    expect(res.json()).toEqual({
      eventKey: 'purchase',
      from: H12 - HOUR,
      to: T,
      granularity: 'hour',
      series: [
        { time: H12 - HOUR, count: 1 },
        { time: H12, count: 1 },
      ],
      total: 2,
    });
    const list = (await get(`${base}/insights/events`)).json();
    expect(list.events).toEqual([
      { key: 'purchase', total: 2 },
      { key: 'signup', total: 1 },
    ]);
  });

  it('lists recently seen contexts, newest first, before and after they are written', async () => {
    clock += 1000;
    await ingest([{ kind: 'index', creationDate: clock, context: { kind: 'org', key: 'o1' } }]);
    const first = (await get(`${base}/contexts?limit=2`)).json();
    expect(first.items).toHaveLength(2);
    expect(first.items[0]).toEqual({ kind: 'org', key: 'o1', lastSeen: T + 1000 });
    const users = (await get(`${base}/contexts?kind=user`)).json();
    expect(users.items.map((c: { key: string }) => c.key).sort()).toEqual(['u1', 'u2', 'u3']);
    expect(users.items.find((c: { key: string }) => c.key === 'u3').name).toBe('Cy');
  });

  it('validates query parameters, naming the field', async () => {
    const cases: [string, string][] = [
      ['insights/flags/checkout?granularity=week', 'granularity'],
      ['insights/flags/checkout?from=yesterday', 'from'],
      ['insights/flags/checkout?to=12abc', 'to'],
      [`insights/flags/checkout?from=${T}&to=${T - 1}`, 'from'],
      [`insights/flags?from=${T - 400 * DAY}&to=${T}`, 'from'],
      [`insights/events/purchase?granularity=minute`, 'granularity'],
      ['contexts?limit=0', 'limit'],
      ['contexts?limit=abc', 'limit'],
      ['contexts?limit=100000', 'limit'],
    ];
    for (const [path, field] of cases) {
      const res = await get(`${base}/${path}`);
      expect(res.statusCode, path).toBe(400);
      expect(res.json(), path).toMatchObject({ code: 'invalid_query', field });
      expect(res.json().message).toMatch(new RegExp(`^${field}: `));
    }
    // A long range by day is fine.
    expect(
      (await get(`${base}/insights/flags?granularity=day&from=${T - 400 * DAY}&to=${T}`)).statusCode,
    ).toBe(200);
  });
});

describe('real SDKs posting events', () => {
  let url: string;

  beforeEach(async () => {
    await build(Date.now);
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  type Client = {
    variation(key: string, context: unknown, fallback: unknown): Promise<unknown>;
    track(key: string, context: unknown): void;
    flush(): Promise<unknown>;
    close(): unknown;
    waitForInitialization(options: { timeout: number }): Promise<unknown>;
  };

  async function exercise(client: Client) {
    await client.waitForInitialization({ timeout: 5 });
    for (const key of ['u1', 'u2', 'u3']) {
      expect(await client.variation('checkout', { kind: 'user', key }, 'fallback')).toBe('new');
    }
    expect(await client.variation('checkout', { kind: 'user', key: 'vip' }, 'fallback')).toBe('old');
    expect(await client.variation('missing', { kind: 'user', key: 'u1' }, 'fallback')).toBe('fallback');
    client.track('purchase', { kind: 'user', key: 'u1', name: 'Ann' });
    await client.flush();
    await client.close();
  }

  async function expectInsights() {
    const checkout = (await get(`${base}/insights/flags/checkout`)).json();
    expect(checkout.totals).toEqual({ '0': 1, '1': 3 });
    const list = (await get(`${base}/insights/flags`)).json();
    expect(list.flags).toContainEqual({ key: 'missing', totals: { default: 1 }, total: 1 });
    expect((await get(`${base}/insights/events/purchase`)).json().total).toBe(1);
    const contexts = (await get(`${base}/contexts`)).json();
    expect(contexts.items.map((c: { key: string }) => c.key).sort()).toEqual(['u1', 'u2', 'u3', 'vip']);
  }

  it('Flagstaff SDK: evaluations appear in the insights API after flush()', async () => {
    const td = new flagstaff.integrations.TestData();
    await td.update(
      td.flag('checkout').variations('old', 'new').fallthroughVariation(1).variationForUser('vip', 0),
    );
    const client = flagstaff.init(s.prod.sdkKey, {
      updateProcessor: td.getFactory(),
      eventsUri: url,
      logger: silent,
    });
    await exercise(client as unknown as Client);
    await expectInsights();
    expect(seen).toContain('/bulk identity 202');
  });

  it('official @launchdarkly/node-server-sdk v9, gzip on: evaluations appear in the insights API', async () => {
    const td = new official.integrations.TestData();
    await td.update(
      td.flag('checkout').variations('old', 'new').fallthroughVariation(1).variationForUser('vip', 0),
    );
    const client = official.init(s.prod.sdkKey, {
      updateProcessor: td.getFactory(),
      eventsUri: url,
      logger: silent,
      enableEventCompression: true,
    });
    await exercise(client as unknown as Client);
    await expectInsights();
    expect(seen).toContain('/bulk gzip 202');
    expect(seen.filter((r) => !r.startsWith('/api/')).every((r) => r.endsWith(' 202'))).toBe(true);
  });
});
