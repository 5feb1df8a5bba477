// Redis going away: a store pointed at a port where nothing listens, and a private redis-server that is
// killed in the middle of a test. Evaluations answer from the cache or with the default and an ERROR
// reason; nothing throws, rejects unhandled, or hangs.
import {
  init,
  integrations,
  type LDClient,
  type LDFeatureStore,
  PersistentStoreWrapper,
} from '@flagstaff/node-server-sdk';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RedisConnection } from '../src/connection.js';
import { RedisFeatureStore } from '../src/index.js';
import { RedisCore } from '../src/redisCore.js';
import { freePort, type RedisServer, silent, startRedisServer, uniquePrefix } from './support/redis.js';

const user = { kind: 'user', key: 'u1' };
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function flag(key: string, version: number, value: string) {
  return {
    key,
    version,
    on: true,
    variations: [value, 'off'],
    fallthrough: { variation: 0 },
    offVariation: 1,
  };
}

function daemon(featureStore: LDOptionsStore): LDClient {
  const client = init('sdk-key', { useLdd: true, featureStore, sendEvents: false, logger: silent });
  cleanup.push(() => client.close());
  return client;
}
type LDOptionsStore = LDFeatureStore | ((ctx: { sdkKey: string; logger: typeof silent }) => LDFeatureStore);

async function server(port?: number): Promise<RedisServer> {
  const s = await startRedisServer(port);
  cleanup.push(() => s.kill());
  return s;
}

function direct(port: number): Redis {
  const r = new Redis({ port, host: '127.0.0.1' });
  cleanup.push(() => r.disconnect());
  return r;
}

const EXCEPTION = { kind: 'ERROR', errorKind: 'EXCEPTION' };

describe('no Redis at all', () => {
  it('gives defaults with ERROR/EXCEPTION quickly, and closes cleanly', async () => {
    const port = await freePort();
    const errors: string[] = [];
    const logger = { ...silent, error: (m: unknown) => errors.push(String(m)) };
    const client = daemon(RedisFeatureStore({ redisOpts: { port, host: '127.0.0.1' }, logger }));
    const started = Date.now();
    expect(await client.variationDetail('f', user, 'dflt')).toEqual({
      value: 'dflt',
      variationIndex: null,
      reason: EXCEPTION,
    });
    expect(await client.boolVariation('f', user, true)).toBe(true);
    expect((await client.allFlagsState(user)).valid).toBe(false);
    // Failing fast, not hanging on retries (a generous bound, not a speed test).
    expect(Date.now() - started).toBeLessThan(10_000);
    // Connection errors are logged once per outage, not once per reconnect attempt.
    await new Promise((r) => setTimeout(r, 500));
    expect(errors.filter((e) => e.startsWith('Redis connection error')).length).toBe(1);
  });
});

describe('Redis killed mid-test', () => {
  it('serves cached (even expired) values, defaults for the rest, and recovers on restart', async () => {
    const redis = await server();
    const prefix = uniquePrefix();
    const seed = direct(redis.port);
    await seed.hset(`${prefix}:features`, 'f', JSON.stringify(flag('f', 1, 'one')));
    const clock = { now: 0 };
    const connection = new RedisConnection({ redisOpts: { port: redis.port, host: '127.0.0.1' } }, silent);
    const store = new PersistentStoreWrapper(new RedisCore(connection, prefix, silent), {
      cacheTTL: 30,
      logger: silent,
      now: () => clock.now,
    });
    const client = daemon(store);
    expect(await client.variation('f', user, 'dflt')).toBe('one');

    await redis.kill();
    expect(await client.variation('f', user, 'dflt')).toBe('one');
    clock.now += 60_000;
    const started = Date.now();
    expect(await client.variationDetail('f', user, 'dflt')).toMatchObject({ value: 'one' });
    expect(await client.variationDetail('g', user, 'dflt')).toEqual({
      value: 'dflt',
      variationIndex: null,
      reason: EXCEPTION,
    });
    // Nothing listed all flags before the outage, so there is no list to fall back on.
    expect((await client.allFlagsState(user)).valid).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);

    // A new (empty) server on the same port; the store reconnects by itself.
    await server(redis.port);
    const seed2 = direct(redis.port);
    await seed2.hset(`${prefix}:features`, 'f', JSON.stringify(flag('f', 2, 'two')));
    await seed2.hset(`${prefix}:features`, 'g', JSON.stringify(flag('g', 1, 'gee')));
    await vi.waitFor(
      async () => {
        clock.now += 60_000;
        expect(await client.variation('f', user, 'dflt')).toBe('two');
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(await client.variation('g', user, 'dflt')).toBe('gee');
  });

  it('with cache forever, keeps taking updates during the outage and rewrites Redis afterwards', async () => {
    const redis = await server();
    const prefix = uniquePrefix();
    const td = new integrations.TestData();
    await td.update(td.flag('f').valueForAll('v1'));
    const client = init('sdk-key', {
      updateProcessor: td.getFactory(),
      featureStore: RedisFeatureStore({
        redisOpts: { port: redis.port, host: '127.0.0.1' },
        prefix,
        cacheTTL: -1,
      }),
      sendEvents: false,
      logger: silent,
    });
    cleanup.push(() => client.close());
    await client.waitForInitialization({ timeout: 10 });
    const seed = direct(redis.port);
    expect(JSON.parse((await seed.hget(`${prefix}:features`, 'f')) ?? '{}')).toMatchObject({ version: 1 });

    await redis.kill();
    // The write fails (and says so), but the client serves the new value from memory.
    await expect(td.update(td.flag('f').valueForAll('v2'))).rejects.toThrow();
    await td.update(td.flag('g').valueForAll('gee')).catch(() => {});
    expect(await client.variation('f', user, 'dflt')).toBe('v2');
    expect(await client.variation('g', user, 'dflt')).toBe('gee');

    await server(redis.port);
    const fresh = direct(redis.port);
    await vi.waitFor(
      async () => {
        expect(JSON.parse((await fresh.hget(`${prefix}:features`, 'f')) ?? '{}')).toMatchObject({
          version: 2,
        });
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(JSON.parse((await fresh.hget(`${prefix}:features`, 'g')) ?? '{}')).toMatchObject({ key: 'g' });
    expect(await fresh.exists(`${prefix}:$inited`)).toBe(1);
  });

  it('answers the first evaluations while the connection is still being set up', async () => {
    const redis = await server();
    const prefix = uniquePrefix();
    const seed = direct(redis.port);
    await seed.hset(`${prefix}:features`, 'f', JSON.stringify(flag('f', 1, 'one')));
    const client = daemon(RedisFeatureStore({ redisOpts: { port: redis.port, host: '127.0.0.1' }, prefix }));
    // No await between construction and the evaluation: the store has not connected yet.
    expect(await client.variation('f', user, 'dflt')).toBe('one');
  });
});
