// The Redis store against the machine's real Redis (127.0.0.1:6379): the key layout of spec §7.2, the
// store contract (init, get, all, versioned upserts, tombstones, initialized) and the caching wrapper
// over it. Every test writes under its own prefix and deletes it afterwards.
import {
  FEATURES,
  type LDFeatureStore,
  type LDFeatureStoreDataStorage,
  type LDFeatureStoreItem,
  PersistentStoreWrapper,
  SEGMENTS,
} from '@flagstaff/node-server-sdk';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection } from '../src/connection.js';
import { RedisFeatureStore } from '../src/index.js';
import { RedisCore } from '../src/redisCore.js';
import { deletePrefix, sharedRedis, silent, uniquePrefix } from './support/redis.js';

let redis: Redis;
const prefixes: string[] = [];
const stores: LDFeatureStore[] = [];
beforeAll(() => {
  redis = sharedRedis();
});
afterEach(async () => {
  for (const s of stores.splice(0)) s.close();
  for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
});
afterAll(() => redis.disconnect());

function prefix(): string {
  const p = uniquePrefix();
  prefixes.push(p);
  return p;
}

const context = { sdkKey: 'sdk-key', logger: silent };

function store(options: Parameters<typeof RedisFeatureStore>[0] = {}): LDFeatureStore {
  const s = RedisFeatureStore({ logger: silent, ...options })(context);
  stores.push(s);
  return s;
}

function flag(key: string, version: number, extra: Record<string, unknown> = {}) {
  return {
    key,
    version,
    on: true,
    variations: [1, 2],
    fallthrough: { variation: 0 },
    offVariation: 1,
    ...extra,
  };
}

const cb = <T>(call: (done: (value: T) => void) => void) => new Promise<T>((resolve) => call(resolve));
const get = (s: LDFeatureStore, kind: typeof FEATURES, key: string) =>
  cb<LDFeatureStoreItem | null>((done) => s.get(kind, key, done));

const dataSet = (): LDFeatureStoreDataStorage => ({
  segments: { s1: { key: 's1', version: 1, included: ['u1'] } },
  features: {
    b: flag('b', 2, { prerequisites: [{ key: 'a', variation: 0 }] }),
    a: flag('a', 1),
  },
});

describe('layout (spec §7.2)', () => {
  it('init writes the hashes and the $inited string, replacing what was there', async () => {
    const p = prefix();
    await redis.hset(`${p}:features`, 'old', JSON.stringify(flag('old', 1)));
    const s = store({ prefix: p, cacheTTL: 0 });
    expect(await cb((done) => s.initialized(done))).toBe(false);
    await cb((done) => s.init(dataSet(), done));
    expect(await redis.hgetall(`${p}:features`)).toEqual({
      a: JSON.stringify(flag('a', 1)),
      b: JSON.stringify(dataSet().features?.b),
    });
    expect(await redis.hgetall(`${p}:segments`)).toEqual({ s1: JSON.stringify(dataSet().segments?.s1) });
    expect(await redis.type(`${p}:$inited`)).toBe('string');
    expect(await redis.get(`${p}:$inited`)).toBe('');
    expect(await cb((done) => s.initialized(done))).toBe(true);
  });

  it('writes in one MULTI/EXEC, segments first and flags prerequisite-first', async () => {
    const p = prefix();
    const client = sharedRedis();
    const commands: string[][] = [];
    const monitor = await client.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.startsWith(p))) commands.push(args);
    });
    try {
      const s = store({ prefix: p, cacheTTL: 0 });
      await cb((done) => s.init(dataSet(), done));
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      monitor.disconnect();
      client.disconnect();
    }
    expect(commands).toEqual([
      ['del', `${p}:segments`],
      ['hset', `${p}:segments`, 's1', JSON.stringify(dataSet().segments?.s1)],
      ['del', `${p}:features`],
      [
        'hset',
        `${p}:features`,
        'a',
        JSON.stringify(flag('a', 1)),
        'b',
        JSON.stringify(dataSet().features?.b),
      ],
      ['set', `${p}:$inited`, ''],
    ]);
  });

  it('uses the prefix `launchdarkly` by default and for an empty prefix', async () => {
    const client = sharedRedis();
    const keys: string[] = [];
    const original = client.hget.bind(client);
    client.hget = ((key: string, field: string) => {
      keys.push(key);
      return original(key, field);
    }) as typeof client.hget;
    try {
      await get(store({ client, cacheTTL: 0 }), FEATURES, `fstest-absent-${Date.now()}`);
      await get(store({ client, cacheTTL: 0, prefix: '' }), SEGMENTS, `fstest-absent-${Date.now()}`);
      expect(keys).toEqual(['launchdarkly:features', 'launchdarkly:segments']);
    } finally {
      client.disconnect();
    }
  });

  it('connects from a URL', async () => {
    const p = prefix();
    await redis.hset(`${p}:features`, 'a', JSON.stringify(flag('a', 3)));
    const s = store({ prefix: p, redisOpts: 'redis://127.0.0.1:6379/0' });
    expect(await get(s, FEATURES, 'a')).toEqual(flag('a', 3));
  });
});

describe.each([0, 30])('store contract (cacheTTL %s)', (cacheTTL) => {
  it('gets, lists, and ignores items of other prefixes', async () => {
    const p = prefix();
    const other = prefix();
    await cb((done) => store({ prefix: other, cacheTTL }).init({ features: { x: flag('x', 1) } }, done));
    const s = store({ prefix: p, cacheTTL });
    await cb((done) => s.init(dataSet(), done));
    expect(await get(s, FEATURES, 'a')).toEqual(flag('a', 1));
    expect(await get(s, SEGMENTS, 's1')).toEqual(dataSet().segments?.s1);
    expect(await get(s, FEATURES, 'x')).toBeNull();
    expect(await cb((done) => s.all(FEATURES, done))).toEqual(dataSet().features);
    expect(await cb((done) => s.all(SEGMENTS, done))).toEqual(dataSet().segments);
  });

  it('upserts only newer versions, also against another writer', async () => {
    const p = prefix();
    const s = store({ prefix: p, cacheTTL });
    await cb((done) => s.init(dataSet(), done));
    await cb((done) => s.upsert(FEATURES, flag('a', 1, { on: false }), done));
    expect(await get(s, FEATURES, 'a')).toEqual(flag('a', 1));
    await cb((done) => s.upsert(FEATURES, flag('a', 5, { on: false }), done));
    expect(await get(s, FEATURES, 'a')).toEqual(flag('a', 5, { on: false }));
    expect(JSON.parse((await redis.hget(`${p}:features`, 'a')) ?? '')).toEqual(flag('a', 5, { on: false }));
    // Another process wrote version 9: an upsert of 7 must not overwrite it.
    await redis.hset(`${p}:features`, 'a', JSON.stringify(flag('a', 9)));
    await cb((done) => s.upsert(FEATURES, flag('a', 7), done));
    expect(JSON.parse((await redis.hget(`${p}:features`, 'a')) ?? '')).toEqual(flag('a', 9));
    expect(await get(s, FEATURES, 'a')).toEqual(flag('a', 9));
    await cb((done) => s.upsert(SEGMENTS, { key: 'new', version: 1, included: [] }, done));
    expect(Object.keys(await cb((done) => s.all(SEGMENTS, done)))).toEqual(['s1', 'new']);
  });

  it('deletes with a tombstone that hides the item until a newer version', async () => {
    const p = prefix();
    const s = store({ prefix: p, cacheTTL });
    await cb((done) => s.init(dataSet(), done));
    await cb<void>((done) => s.delete(FEATURES, 'a', 2, done));
    expect(await redis.hget(`${p}:features`, 'a')).toBe('{"key":"a","version":2,"deleted":true}');
    expect(await get(s, FEATURES, 'a')).toBeNull();
    expect(Object.keys(await cb((done) => s.all(FEATURES, done)))).toEqual(['b']);
    await cb<void>((done) => s.delete(FEATURES, 'a', 1, done));
    await cb((done) => s.upsert(FEATURES, flag('a', 2), done));
    expect(await get(s, FEATURES, 'a')).toBeNull();
    await cb((done) => s.upsert(FEATURES, flag('a', 3), done));
    expect(await get(s, FEATURES, 'a')).toEqual(flag('a', 3));
  });

  it('reads tombstones written by other SDKs: without `key` (JS) or with "$deleted"', async () => {
    const p = prefix();
    await redis.hset(
      `${p}:features`,
      'js',
      '{"version":4,"deleted":true}',
      'go',
      '{"key":"$deleted","version":2,"deleted":true}',
    );
    await redis.hset(`${p}:features`, 'live', JSON.stringify(flag('live', 1)));
    const s = store({ prefix: p, cacheTTL });
    expect(await get(s, FEATURES, 'js')).toBeNull();
    expect(await get(s, FEATURES, 'go')).toBeNull();
    expect(Object.keys(await cb((done) => s.all(FEATURES, done)))).toEqual(['live']);
    await cb((done) => s.upsert(FEATURES, flag('js', 4), done));
    expect(await get(s, FEATURES, 'js')).toBeNull();
  });

  it('reports the description `Redis`', () => {
    expect(store({ prefix: prefix(), cacheTTL }).getDescription?.()).toBe('Redis');
  });
});

describe('upsert transaction', () => {
  it('retries when the watched hash changes between HGET and EXEC', async () => {
    const p = prefix();
    const client = sharedRedis();
    const original = client.hget.bind(client);
    let interfered = 0;
    client.hget = (async (key: string, field: string) => {
      const value = await original(key, field);
      if (interfered++ === 0) await redis.hset(`${p}:features`, 'other', JSON.stringify(flag('other', 1)));
      return value;
    }) as typeof client.hget;
    const core = new RedisCore(new RedisConnection({ client }, silent), p, silent);
    try {
      await core.init([]);
      const result = await core.upsert(FEATURES, 'a', {
        version: 1,
        deleted: false,
        serializedItem: JSON.stringify(flag('a', 1)),
      });
      expect(result).toEqual({ updated: true });
      expect(interfered).toBe(2);
      expect(Object.keys(await redis.hgetall(`${p}:features`)).sort()).toEqual(['a', 'other']);
    } finally {
      client.disconnect();
    }
  });

  it('keeps the highest version when many upserts of one key race', async () => {
    const p = prefix();
    const cores = [1, 2, 3].map(() => {
      const connection = new RedisConnection({ redisOpts: { port: 6379 } }, silent);
      return new RedisCore(connection, p, silent);
    });
    try {
      const versions = Array.from({ length: 30 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
      await Promise.all(
        versions.map((v, i) =>
          cores[i % 3]?.upsert(FEATURES, 'k', {
            version: v,
            deleted: false,
            serializedItem: JSON.stringify(flag('k', v)),
          }),
        ),
      );
      expect(JSON.parse((await redis.hget(`${p}:features`, 'k')) ?? '')).toMatchObject({ version: 30 });
    } finally {
      await Promise.all(cores.map((c) => c.close()));
    }
  });
});

describe('caching wrapper over Redis', () => {
  /** A wrapper over a borrowed client whose HGET/HGETALL/EXISTS calls are counted. */
  function counted(p: string, cacheTTL: number) {
    const client = sharedRedis();
    const calls = { hget: 0, hgetall: 0, exists: 0 };
    for (const name of ['hget', 'hgetall', 'exists'] as const) {
      const original = (client[name] as (...args: unknown[]) => unknown).bind(client);
      (client as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        calls[name]++;
        return original(...args);
      };
    }
    const clock = { now: 0 };
    const wrapper = new PersistentStoreWrapper(
      new RedisCore(new RedisConnection({ client }, silent), p, silent),
      {
        cacheTTL,
        logger: silent,
        now: () => clock.now,
      },
    );
    stores.push({ close: () => client.disconnect() } as LDFeatureStore);
    return { wrapper, calls, clock };
  }

  it('shares one HGET among 100 concurrent gets of a key (and one HGETALL, one EXISTS)', async () => {
    const p = prefix();
    await redis.hset(`${p}:features`, 'a', JSON.stringify(flag('a', 1)));
    const { wrapper, calls } = counted(p, 30);
    const results = await Promise.all([
      ...Array.from({ length: 100 }, () => wrapper.getAsync(FEATURES, 'a')),
      ...Array.from({ length: 10 }, () => wrapper.allAsync(FEATURES)),
      ...Array.from({ length: 10 }, () => wrapper.initializedAsync()),
    ]);
    expect(results[0]).toEqual(flag('a', 1));
    expect(calls).toEqual({ hget: 1, hgetall: 1, exists: 1 });
  });

  it('with cacheTTL 0 every read goes to Redis', async () => {
    const p = prefix();
    await redis.hset(`${p}:features`, 'a', JSON.stringify(flag('a', 1)));
    const { wrapper, calls } = counted(p, 0);
    await wrapper.getAsync(FEATURES, 'a');
    await wrapper.getAsync(FEATURES, 'a');
    await wrapper.getAsync(FEATURES, 'missing');
    await wrapper.getAsync(FEATURES, 'missing');
    expect(calls.hget).toBe(4);
  });

  it('with a TTL, re-reads an item once it expires, with one HGET for many callers', async () => {
    const p = prefix();
    await redis.hset(`${p}:features`, 'a', JSON.stringify(flag('a', 1)));
    const { wrapper, calls, clock } = counted(p, 30);
    expect(await wrapper.getAsync(FEATURES, 'a')).toEqual(flag('a', 1));
    await redis.hset(`${p}:features`, 'a', JSON.stringify(flag('a', 2)));
    clock.now += 29_000;
    expect(await wrapper.getAsync(FEATURES, 'a')).toEqual(flag('a', 1));
    clock.now += 1_000;
    const again = await Promise.all(Array.from({ length: 20 }, () => wrapper.getAsync(FEATURES, 'a')));
    expect(again.every((r) => r?.version === 2)).toBe(true);
    expect(calls.hget).toBe(2);
  });

  it('caches a false `initialized` for one TTL and remembers true forever', async () => {
    const p = prefix();
    const { wrapper, calls, clock } = counted(p, 30);
    expect(await wrapper.initializedAsync()).toBe(false);
    await redis.set(`${p}:$inited`, '');
    expect(await wrapper.initializedAsync()).toBe(false);
    clock.now += 30_000;
    expect(await wrapper.initializedAsync()).toBe(true);
    await redis.del(`${p}:$inited`);
    clock.now += 10 ** 9;
    expect(await wrapper.initializedAsync()).toBe(true);
    expect(calls.exists).toBe(2);
  });

  it('with cache forever, never reads Redis again for what it holds', async () => {
    const p = prefix();
    const { wrapper, calls, clock } = counted(p, -1);
    await wrapper.initAsync(dataSet());
    await redis.hset(`${p}:features`, 'a', JSON.stringify(flag('a', 50)));
    clock.now += 10 ** 12;
    expect(await wrapper.getAsync(FEATURES, 'a')).toEqual(flag('a', 1));
    expect(Object.keys(await wrapper.allAsync(FEATURES)).sort()).toEqual(['a', 'b']);
    expect(calls).toEqual({ hget: 0, hgetall: 0, exists: 0 });
  });
});
