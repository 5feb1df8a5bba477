// The caching wrapper over a database store (spec §7.3), against an in-memory fake database whose
// calls are counted, whose reads can be held or made to fail, and a clock the tests move.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createPersistentStoreFactory,
  FEATURES,
  init,
  type LDClient,
  type LDFeatureStore,
  type LDFeatureStoreDataStorage,
  PersistentStoreWrapper,
  SEGMENTS,
} from '../src/index.js';
import { StoreAccess } from '../src/store/storeAccess.js';
import { FakePersistentStore } from './support/fakePersistentStore.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

function flag(key: string, version: number, extra: Record<string, unknown> = {}) {
  return {
    key,
    version,
    on: true,
    variations: ['a', 'b'],
    fallthrough: { variation: 1 },
    offVariation: 0,
    ...extra,
  };
}

function setup(cacheTTL: number, extra: { recoveryInterval?: number } = {}) {
  const core = new FakePersistentStore();
  const clock = { now: 1_000_000 };
  const logs: string[] = [];
  const logger = {
    error: (m: unknown) => logs.push(`error: ${m}`),
    warn: (m: unknown) => logs.push(`warn: ${m}`),
    info: () => {},
    debug: () => {},
  };
  const store = new PersistentStoreWrapper(core, { cacheTTL, logger, now: () => clock.now, ...extra });
  return { core, clock, store, logs };
}

const data = (): LDFeatureStoreDataStorage => ({
  features: {
    child: flag('child', 1, { prerequisites: [{ key: 'parent', variation: 0 }] }),
    '7': flag('7', 1, { prerequisites: [{ key: 'child', variation: 0 }] }),
    parent: flag('parent', 2),
    gone: { key: 'gone', version: 4, deleted: true },
  },
  segments: { s1: { key: 's1', version: 3, included: ['u1'] } },
});

const cb = <T>(call: (done: (value: T) => void) => void) => new Promise<T>((resolve) => call(resolve));

describe('init', () => {
  it('writes JSON in order: segments, then flags prerequisite-first, tombstones as tombstone JSON', async () => {
    const { core, store } = setup(30);
    await store.initAsync(data());
    const [written] = core.inits;
    expect(written?.map((k) => k.kind.namespace)).toEqual(['segments', 'features']);
    // '7' would come first in object order; it needs child, which needs parent.
    expect(written?.[1]?.items.map((i) => i.key)).toEqual(['parent', 'child', '7', 'gone']);
    const gone = written?.[1]?.items.find((i) => i.key === 'gone')?.item;
    expect(gone).toEqual({
      version: 4,
      deleted: true,
      serializedItem: '{"key":"gone","version":4,"deleted":true}',
    });
    expect(JSON.parse(written?.[0]?.items[0]?.item.serializedItem ?? '')).toEqual(data().segments?.s1);
  });

  it('refills the caches, so reads after init never touch the database', async () => {
    const { core, store } = setup(30);
    await store.initAsync(data());
    expect(await store.getAsync(FEATURES, 'parent')).toMatchObject({ key: 'parent', version: 2 });
    expect(await store.getAsync(FEATURES, 'gone')).toBeNull();
    expect(Object.keys(await store.allAsync(FEATURES)).sort()).toEqual(['7', 'child', 'parent']);
    expect(await store.allAsync(SEGMENTS)).toEqual({ s1: data().segments?.s1 });
    expect(await store.initializedAsync()).toBe(true);
    expect(core.calls).toMatchObject({ get: 0, getAll: 0, initialized: 0 });
  });

  it('reports a database error to the callback and keeps the old cache (finite TTL)', async () => {
    const { core, store } = setup(30);
    await store.initAsync(data());
    core.failing = true;
    const err = await cb<Error | undefined>((done) => store.init({ features: {}, segments: {} }, done));
    expect(err?.message).toBe('database down');
    expect(await store.getAsync(FEATURES, 'parent')).toMatchObject({ version: 2 });
  });
});

describe('cacheTTL > 0', () => {
  it('serves an item from the cache until it expires, then refreshes it with one read', async () => {
    const { core, clock, store } = setup(30);
    core.put('features', 'f', flag('f', 1));
    expect(await store.getAsync(FEATURES, 'f')).toMatchObject({ version: 1 });
    core.put('features', 'f', flag('f', 2));
    clock.now += 29_999;
    expect(await store.getAsync(FEATURES, 'f')).toMatchObject({ version: 1 });
    expect(core.calls.get).toBe(1);
    clock.now += 1;
    const reads = await Promise.all([1, 2, 3, 4, 5].map(() => store.getAsync(FEATURES, 'f')));
    expect(reads.map((r) => r?.version)).toEqual([2, 2, 2, 2, 2]);
    expect(core.calls.get).toBe(2);
  });

  it('caches misses for the TTL too', async () => {
    const { core, clock, store } = setup(30);
    expect(await store.getAsync(FEATURES, 'nope')).toBeNull();
    core.put('features', 'nope', flag('nope', 1));
    expect(await store.getAsync(FEATURES, 'nope')).toBeNull();
    expect(core.calls.get).toBe(1);
    clock.now += 30_000;
    expect(await store.getAsync(FEATURES, 'nope')).toMatchObject({ version: 1 });
  });

  it('caches whole-kind reads and fills item entries from them', async () => {
    const { core, clock, store } = setup(30);
    core.put('features', 'a', flag('a', 1));
    core.put('features', 'b', { key: 'b', version: 2, deleted: true });
    expect(Object.keys(await store.allAsync(FEATURES))).toEqual(['a']);
    expect(await store.allAsync(FEATURES)).toHaveProperty('a');
    expect(await store.getAsync(FEATURES, 'a')).toMatchObject({ version: 1 });
    expect(await store.getAsync(FEATURES, 'b')).toBeNull();
    expect(await store.getAsync(FEATURES, 'not-listed')).toBeNull();
    expect(core.calls).toMatchObject({ getAll: 1, get: 0 });
    clock.now += 30_000;
    await store.allAsync(FEATURES);
    expect(core.calls.getAll).toBe(2);
  });

  it('caches a false `initialized` for one TTL and a true answer forever', async () => {
    const { core, clock, store } = setup(30);
    expect(await cb<boolean>((done) => store.initialized(done))).toBe(false);
    core.inited = true;
    expect(await store.initializedAsync()).toBe(false);
    expect(core.calls.initialized).toBe(1);
    clock.now += 30_000;
    expect(await store.initializedAsync()).toBe(true);
    core.inited = false;
    clock.now += 3_600_000;
    expect(await store.initializedAsync()).toBe(true);
    expect(core.calls.initialized).toBe(2);
  });
});

describe('cacheTTL = 0', () => {
  it('reads the database every time, misses and `initialized` included', async () => {
    const { core, store } = setup(0);
    await store.initAsync(data());
    await store.getAsync(FEATURES, 'parent');
    await store.getAsync(FEATURES, 'parent');
    await store.getAsync(FEATURES, 'nope');
    await store.getAsync(FEATURES, 'nope');
    await store.allAsync(FEATURES);
    await store.allAsync(FEATURES);
    expect(core.calls).toMatchObject({ get: 4, getAll: 2 });
    expect(store.getCached(FEATURES, 'parent')).toBeUndefined();
  });

  it('does not cache a false `initialized`', async () => {
    const { core, store } = setup(0);
    await store.initializedAsync();
    await store.initializedAsync();
    expect(core.calls.initialized).toBe(2);
  });

  it('still shares one read among concurrent callers', async () => {
    const { core, store } = setup(0);
    core.put('features', 'f', flag('f', 1));
    core.hold();
    const reads = Array.from({ length: 10 }, () => store.getAsync(FEATURES, 'f'));
    core.release();
    expect((await Promise.all(reads)).every((r) => r?.version === 1)).toBe(true);
    expect(core.calls.get).toBe(1);
  });
});

describe('cache forever (negative or Infinity)', () => {
  it.each([-1, Number.POSITIVE_INFINITY])('never re-reads what it has cached (cacheTTL %s)', async (ttl) => {
    const { core, clock, store } = setup(ttl);
    core.put('features', 'f', flag('f', 1));
    await store.getAsync(FEATURES, 'f');
    await store.allAsync(FEATURES);
    core.put('features', 'f', flag('f', 9));
    clock.now += 365 * 86_400_000;
    expect(await store.getAsync(FEATURES, 'f')).toMatchObject({ version: 1 });
    expect(core.calls).toMatchObject({ get: 1, getAll: 1 });
  });

  it('keeps serving the last data, and taking updates, while the database fails', async () => {
    const { core, store, logs } = setup(-1, { recoveryInterval: 5 });
    await store.initAsync(data());
    core.failing = true;
    expect(await store.getAsync(FEATURES, 'parent')).toMatchObject({ version: 2 });
    const err = await cb<Error | undefined>((done) => store.upsert(FEATURES, flag('parent', 3), done));
    expect(err?.message).toBe('database down');
    // The update is kept in memory and served, and is what the database is rewritten with.
    expect(await store.getAsync(FEATURES, 'parent')).toMatchObject({ version: 3 });
    expect((await store.allAsync(FEATURES)).parent).toMatchObject({ version: 3 });
    expect(logs.some((l) => l.startsWith('error: Fake store error: database down'))).toBe(true);

    core.failing = false;
    await vi.waitFor(() => expect(core.inits).toHaveLength(2), { timeout: 2000 });
    const rewritten = core.data.get('features')?.get('parent');
    expect(JSON.parse(rewritten?.serializedItem ?? '')).toMatchObject({ version: 3 });
    expect(core.data.get('segments')?.has('s1')).toBe(true);
    expect(logs.some((l) => l.includes('rewrote it from the cached data'))).toBe(true);
    store.close();
  });

  it('knows after an init that anything else is absent, without asking the database', async () => {
    const { core, store } = setup(-1);
    await store.initAsync(data());
    core.failing = true;
    expect(await store.getAsync(FEATURES, 'never-heard-of')).toBeNull();
    expect(await store.getAsync(SEGMENTS, 'nor-this')).toBeNull();
    expect(core.calls.get).toBe(0);
  });

  it('takes a full data set even when the database refuses it, and rewrites it later', async () => {
    const { core, store } = setup(-1, { recoveryInterval: 5 });
    core.failing = true;
    await expect(store.initAsync(data())).rejects.toThrow('database down');
    expect(await store.initializedAsync()).toBe(true);
    expect(await store.getAsync(FEATURES, 'child')).toMatchObject({ version: 1 });
    core.failing = false;
    await vi.waitFor(() => expect(core.inits.length).toBe(1), { timeout: 2000 });
    expect(core.inits[0]?.[1]?.items.map((i) => i.key)).toEqual(['parent', 'child', '7', 'gone']);
    store.close();
  });
});

describe('upsert and delete', () => {
  it('applies only newer versions, caches the resulting item and clears the kind cache', async () => {
    const { core, store } = setup(30);
    await store.initAsync(data());
    await store.allAsync(FEATURES);
    await store.upsertAsync(FEATURES, flag('parent', 1));
    expect(await store.getAsync(FEATURES, 'parent')).toMatchObject({ version: 2 });
    await store.upsertAsync(FEATURES, flag('parent', 2, { on: false }));
    expect(await store.getAsync(FEATURES, 'parent')).toMatchObject({ version: 2, on: true });
    await store.upsertAsync(FEATURES, flag('new', 1));
    expect(await store.getAsync(FEATURES, 'new')).toMatchObject({ version: 1 });
    expect(Object.keys(await store.allAsync(FEATURES)).sort()).toEqual(['7', 'child', 'new', 'parent']);
    expect(core.calls).toMatchObject({ get: 0, getAll: 1 });
  });

  it('caches what the database kept when another writer had a newer version', async () => {
    const { core, store } = setup(30);
    await store.initAsync(data());
    core.put('features', 'parent', flag('parent', 10));
    await store.upsertAsync(FEATURES, flag('parent', 5));
    expect(await store.getAsync(FEATURES, 'parent')).toMatchObject({ version: 10 });
  });

  it('deletes with a tombstone; a later version resurrects the item', async () => {
    const { core, store } = setup(30);
    await store.initAsync(data());
    await cb<void>((done) => store.delete(FEATURES, 'parent', 3, done));
    expect(core.data.get('features')?.get('parent')).toEqual({
      version: 3,
      deleted: true,
      serializedItem: '{"key":"parent","version":3,"deleted":true}',
    });
    expect(await cb((done) => store.get(FEATURES, 'parent', done))).toBeNull();
    expect(await store.allAsync(FEATURES)).not.toHaveProperty('parent');
    await store.upsertAsync(FEATURES, flag('parent', 2));
    expect(await store.getAsync(FEATURES, 'parent')).toBeNull();
    await store.upsertAsync(FEATURES, flag('parent', 4));
    expect(await store.getAsync(FEATURES, 'parent')).toMatchObject({ version: 4 });
  });

  it('does not let a read that raced a write put old data back in the cache', async () => {
    const { core, store } = setup(30);
    core.put('features', 'f', flag('f', 1));
    core.hold();
    const slow = store.getAsync(FEATURES, 'f');
    const write = store.upsertAsync(FEATURES, flag('f', 2));
    core.release();
    await Promise.all([slow, write]);
    expect(await store.getAsync(FEATURES, 'f')).toMatchObject({ version: 2 });
  });
});

describe('coalescing', () => {
  it('shares one database read among concurrent reads of a key, of a kind, of `initialized`', async () => {
    const { core, store } = setup(30);
    core.put('features', 'f', flag('f', 1));
    core.hold();
    const gets = Array.from({ length: 50 }, () => store.getAsync(FEATURES, 'f'));
    const cbGets = Array.from({ length: 5 }, () => cb((done) => store.get(FEATURES, 'f', done)));
    const alls = Array.from({ length: 20 }, () => store.allAsync(FEATURES));
    const inits = Array.from({ length: 20 }, () => store.initializedAsync());
    core.release();
    await Promise.all([...gets, ...cbGets, ...alls, ...inits]);
    expect(core.calls).toMatchObject({ get: 1, getAll: 1, initialized: 1 });
  });

  it('refreshes an expired entry with one read however many callers ask', async () => {
    const { core, clock, store } = setup(10);
    core.put('features', 'f', flag('f', 1));
    await store.getAsync(FEATURES, 'f');
    clock.now += 10_000;
    core.hold();
    const reads = Array.from({ length: 100 }, () => store.getAsync(FEATURES, 'f'));
    core.release();
    await Promise.all(reads);
    expect(core.calls.get).toBe(2);
  });
});

describe('database errors', () => {
  it('serves an expired entry when the refresh fails, and logs the outage once', async () => {
    const { core, clock, store, logs } = setup(30);
    core.put('features', 'f', flag('f', 1));
    await store.getAsync(FEATURES, 'f');
    await store.allAsync(FEATURES);
    clock.now += 60_000;
    core.failing = true;
    expect(await store.getAsync(FEATURES, 'f')).toMatchObject({ version: 1 });
    expect(await store.getAsync(FEATURES, 'f')).toMatchObject({ version: 1 });
    expect(await store.allAsync(FEATURES)).toHaveProperty('f');
    expect(logs.filter((l) => l.startsWith('error:'))).toHaveLength(1);
    core.failing = false;
    core.put('features', 'f', flag('f', 2));
    expect(await store.getAsync(FEATURES, 'f')).toMatchObject({ version: 2 });
    expect(logs.at(-1)).toBe('warn: Fake store is available again');
  });

  it('rejects promise reads and answers callback reads with null/{}/false when nothing is cached', async () => {
    const { core, store } = setup(30);
    core.failing = true;
    await expect(store.getAsync(FEATURES, 'f')).rejects.toThrow('database down');
    await expect(store.allAsync(FEATURES)).rejects.toThrow('database down');
    await expect(store.initializedAsync()).rejects.toThrow('database down');
    expect(await cb((done) => store.get(FEATURES, 'f', done))).toBeNull();
    expect(await cb((done) => store.all(FEATURES, done))).toEqual({});
    expect(await cb((done) => store.initialized(done))).toBe(false);
  });

  it('reports an unreadable item as an error for `get` and skips it for `all`', async () => {
    const { core, store, logs } = setup(30);
    core.data.set('features', new Map([['bad', { version: 1, deleted: false, serializedItem: '{nope' }]]));
    core.put('features', 'good', flag('good', 1));
    await expect(store.getAsync(FEATURES, 'bad')).rejects.toThrow();
    expect(Object.keys(await store.allAsync(FEATURES))).toEqual(['good']);
    expect(logs.some((l) => l.includes('skipping "bad"'))).toBe(true);
  });

  it('survives callbacks that throw', async () => {
    const { core, store, logs } = setup(30);
    core.put('features', 'f', flag('f', 1));
    await new Promise<void>((resolve) =>
      store.get(FEATURES, 'f', () => {
        setImmediate(resolve);
        throw new Error('user bug');
      }),
    );
    expect(logs.some((l) => l.includes('user bug'))).toBe(true);
  });
});

describe('through the client', () => {
  const open: LDClient[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
  });

  function daemonClient(store: LDFeatureStore | ((ctx: never) => LDFeatureStore)) {
    const client = init('sdk-key', {
      useLdd: true,
      featureStore: store as LDFeatureStore,
      sendEvents: false,
      logger: silent,
    });
    open.push(client);
    return client;
  }

  it('answers the default with ERROR/EXCEPTION when the store fails and nothing is cached', async () => {
    const { core, store } = setup(30);
    core.failing = true;
    const client = daemonClient(store);
    expect(await client.variationDetail('f', { key: 'u' }, 'dflt')).toEqual({
      value: 'dflt',
      variationIndex: null,
      reason: { kind: 'ERROR', errorKind: 'EXCEPTION' },
    });
    expect(await client.stringVariation('f', { key: 'u' }, 'dflt')).toBe('dflt');
    const state = await client.allFlagsState({ key: 'u' });
    expect(state.valid).toBe(false);
  });

  it('evaluates from the cache while the store fails, prerequisites and segments included', async () => {
    const { core, clock, store } = setup(30);
    core.put('segments', 's1', { key: 's1', version: 1, included: ['u1'] });
    core.put('features', 'p', flag('p', 1, { fallthrough: { variation: 0 } }));
    core.put(
      'features',
      'f',
      flag('f', 1, {
        prerequisites: [{ key: 'p', variation: 0 }],
        rules: [
          { id: 'r', clauses: [{ attribute: 'key', op: 'segmentMatch', values: ['s1'] }], variation: 0 },
        ],
      }),
    );
    const client = daemonClient(store);
    const first = await client.variationDetail('f', { key: 'u1' }, 'dflt');
    expect(first).toMatchObject({ value: 'a', reason: { kind: 'RULE_MATCH' } });
    clock.now += 60_000;
    core.failing = true;
    expect(await client.variationDetail('f', { key: 'u1' }, 'dflt')).toEqual(first);
  });

  it('builds the factory shape store packages return, with the client logger and description', async () => {
    const core = new FakePersistentStore();
    core.put('features', 'f', flag('f', 1));
    const makeCore = vi.fn(() => core);
    const factory = createPersistentStoreFactory(makeCore, 15);
    const client = daemonClient(factory as never);
    expect(await client.variation('f', { key: 'u' }, 'x')).toBe('b');
    expect(await client.variation('f', { key: 'u' }, 'x')).toBe('b');
    expect(makeCore).toHaveBeenCalledWith(expect.objectContaining({ sdkKey: 'sdk-key', logger: silent }));
    expect(core.calls.get).toBe(1);
    await client.close();
    expect(core.calls.close).toBe(1);
  });
});

describe('evaluation loading', () => {
  const seeded = () => {
    const env = setup(30);
    env.core.put('segments', 'inner', { key: 'inner', version: 1, included: ['u1'] });
    env.core.put('segments', 'outer', {
      key: 'outer',
      version: 1,
      rules: [{ id: 'x', clauses: [{ attribute: '', op: 'segmentMatch', values: ['inner'] }] }],
    });
    env.core.put('features', 'p', flag('p', 1));
    env.core.put(
      'features',
      'f',
      flag('f', 1, {
        prerequisites: [
          { key: 'p', variation: 1 },
          { key: 'missing', variation: 0 },
        ],
        rules: [
          { id: 'r', clauses: [{ attribute: 'key', op: 'segmentMatch', values: ['outer'] }], variation: 0 },
        ],
      }),
    );
    return env;
  };

  it('reads a flag and what it reaches once, level by level, then answers synchronously', async () => {
    const { core, store } = seeded();
    const access = new StoreAccess(store);
    const first = access.loadForEvaluation('f');
    expect(first).toBeInstanceOf(Promise);
    const loaded = await first;
    expect(loaded.flag?.key).toBe('f');
    expect(loaded.data.getFlag('p')?.key).toBe('p');
    expect(loaded.data.getFlag('missing')).toBeUndefined();
    expect(loaded.data.getSegment('inner')?.key).toBe('inner');
    // f; p, missing, outer; inner.
    expect(core.calls.get).toBe(5);
    const again = access.loadForEvaluation('f');
    expect(again).not.toBeInstanceOf(Promise);
    expect((again as Awaited<typeof first>).data.getSegment('inner')?.key).toBe('inner');
    expect(core.calls.get).toBe(5);
  });

  it('fetches only what is not cached', async () => {
    const { core, clock, store } = seeded();
    const access = new StoreAccess(store);
    await access.loadForEvaluation('f');
    clock.now += 30_000;
    await store.getAsync(FEATURES, 'f');
    expect(core.calls.get).toBe(6);
    // f was just refreshed; p, missing, outer and inner have expired.
    const loaded = await access.loadForEvaluation('f');
    expect(loaded.data.getSegment('inner')?.key).toBe('inner');
    expect(core.calls.get).toBe(10);
  });

  it('drops expired cached misses now and then, so unknown keys cannot grow the cache forever', async () => {
    const { core, clock, store } = setup(30);
    for (let i = 0; i < 999; i++) await store.getAsync(FEATURES, `unknown-${i}`);
    clock.now += 30_000;
    core.failing = true;
    // Still there (expired): an outage answers "absent" for them.
    expect(await store.getAsync(FEATURES, 'unknown-1')).toBeNull();
    core.failing = false;
    await store.getAsync(FEATURES, 'one-more');
    core.failing = true;
    await expect(store.getAsync(FEATURES, 'unknown-1')).rejects.toThrow('database down');
  });
});
