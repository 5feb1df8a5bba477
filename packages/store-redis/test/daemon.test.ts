// Daemon mode (`useLdd: true`, spec §7.4) end to end with our client over the real Redis: no flag
// connection, initialized at once, `$inited` ignored, reads through the cache, allFlagsState from
// `all(features)`, events still posted to eventsUri.
import { init, type LDClient } from '@flagstaff/node-server-sdk';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EventsServer, startEventsServer } from '../../sdk/test/support/eventsServer.js';
import { RedisFeatureStore } from '../src/index.js';
import { contexts, flags, segments } from './support/flags.js';
import { deletePrefix, sharedRedis, silent, uniquePrefix } from './support/redis.js';

let redis: Redis;
const prefixes: string[] = [];
const cleanup: (() => unknown)[] = [];
beforeAll(() => {
  redis = sharedRedis();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
});
afterAll(() => redis.disconnect());

function prefix(): string {
  const p = uniquePrefix();
  prefixes.push(p);
  return p;
}

async function seed(p: string): Promise<void> {
  for (const [k, f] of Object.entries(flags)) await redis.hset(`${p}:features`, k, JSON.stringify(f));
  for (const [k, s] of Object.entries(segments)) await redis.hset(`${p}:segments`, k, JSON.stringify(s));
}

function daemon(options: Parameters<typeof init>[1]): LDClient {
  const client = init('sdk-key', { useLdd: true, sendEvents: false, logger: silent, ...options });
  cleanup.push(() => client.close());
  return client;
}

/** A client on a borrowed Redis connection whose HGET/HGETALL calls are counted. */
function counting(p: string, cacheTTL: number) {
  const client = sharedRedis();
  cleanup.push(() => client.disconnect());
  const calls = { hget: 0, hgetall: 0 };
  for (const name of ['hget', 'hgetall'] as const) {
    const original = (client[name] as (...args: unknown[]) => unknown).bind(client);
    (client as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls[name]++;
      return original(...args);
    };
  }
  return { featureStore: RedisFeatureStore({ client, prefix: p, cacheTTL }), calls };
}

describe('daemon mode', () => {
  it('is initialized at once and ignores $inited: missing flags are FLAG_NOT_FOUND, later ones are seen', async () => {
    const p = prefix();
    const client = daemon({ featureStore: RedisFeatureStore({ prefix: p, cacheTTL: 0 }) });
    expect(client.initialized()).toBe(true);
    const ready = new Promise<void>((resolve) => client.on('ready', () => resolve()));
    await client.waitForInitialization({ timeout: 1 });
    await ready;
    expect(await client.variationDetail('on-flag', contexts[0], 'dflt')).toEqual({
      value: 'dflt',
      variationIndex: null,
      reason: { kind: 'ERROR', errorKind: 'FLAG_NOT_FOUND' },
    });
    expect((await client.allFlagsState(contexts[0])).toJSON()).toEqual({ $flagsState: {}, $valid: true });

    await seed(p);
    expect(await redis.exists(`${p}:$inited`)).toBe(0);
    expect(await client.variationDetail('deep-prereq', contexts[2], null)).toEqual({
      value: { level: 'deep' },
      variationIndex: 0,
      reason: { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'r-vip' },
    });
    expect(await client.variation('targeted', contexts[0], null)).toBe(true);
  });

  it('reads through the cache: one HGET per item per TTL', async () => {
    const p = prefix();
    await seed(p);
    const { featureStore, calls } = counting(p, 30);
    const client = daemon({ featureStore });
    // with-prereq needs targeted: two items, read once however often the flag is evaluated.
    for (let i = 0; i < 20; i++) expect(await client.variation('with-prereq', contexts[0], null)).toBe('yes');
    await Promise.all(Array.from({ length: 20 }, () => client.variation('rules', contexts[1], null)));
    expect(calls.hget).toBe(4); // with-prereq, targeted, rules, beta
  });

  it('builds allFlagsState from all(features) and all(segments)', async () => {
    const p = prefix();
    await seed(p);
    const { featureStore, calls } = counting(p, 30);
    const client = daemon({ featureStore });
    const state = (await client.allFlagsState(contexts[2], { withReasons: true })).toJSON() as Record<
      string,
      unknown
    >;
    expect(Object.keys(state).sort()).toEqual([...Object.keys(flags), '$flagsState', '$valid'].sort());
    expect(state['deep-prereq']).toEqual({ level: 'deep' });
    expect(calls).toEqual({ hget: 0, hgetall: 2 });
    await client.allFlagsState(contexts[0]);
    expect(calls.hgetall).toBe(2);
  });

  describe('with a server for the flag service and events', () => {
    let server: EventsServer;
    beforeAll(async () => {
      server = await startEventsServer();
    });
    afterAll(() => server.close());

    it('opens no flag connection and still posts events to eventsUri', async () => {
      const p = prefix();
      await seed(p);
      const client = daemon({
        featureStore: RedisFeatureStore({ prefix: p }),
        baseUri: server.url,
        streamUri: server.url,
        eventsUri: server.url,
        sendEvents: true,
        diagnosticOptOut: true,
      });
      expect(await client.variation('targeted', contexts[0], null)).toBe(true);
      await client.flush();
      await server.waitFor('/bulk', 1);
      const kinds = ((server.bulk()[0]?.json ?? []) as { kind: string }[]).map((e) => e.kind).sort();
      expect(kinds).toEqual(['feature', 'index', 'summary']);
      expect(server.requests.map((r) => r.path)).toEqual(['/bulk']);
    });
  });
});
