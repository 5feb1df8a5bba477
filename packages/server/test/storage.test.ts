import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ChangeNotice,
  ConflictError,
  type CounterRow,
  openStorage,
  PostgresStorage,
  SqliteStorage,
  type Storage,
} from '../src/storage/index.js';

// PostgreSQL is part of the test environment (locally and in CI): an unreachable server fails the
// PostgreSQL tests with this URL in the message instead of skipping them.
const DATABASE_URL = process.env.FLAGSTAFF_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let adminPool: pg.Pool | undefined;
let reachable: Promise<pg.Pool> | undefined;

/** A pool for test bookkeeping (schemas, raw SQL), after checking the server answers at all. */
function admin(): Promise<pg.Pool> {
  reachable ??= (async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3, connectionTimeoutMillis: 5_000 });
    pool.on('error', () => {});
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      throw new Error(
        `PostgreSQL is not reachable at ${DATABASE_URL} (${(err as Error).message}). ` +
          'The storage tests need it: start PostgreSQL or set FLAGSTAFF_TEST_DATABASE_URL.',
      );
    }
    adminPool = pool;
    return pool;
  })();
  return reachable;
}

afterAll(async () => {
  await adminPool?.end();
});

let schemaCount = 0;
/** A schema name no other test or concurrent run uses; PostgresStorage creates it on migrate. */
function freshSchema(): string {
  return `flagstaff_test_${process.pid}_${Date.now().toString(36)}_${++schemaCount}`;
}

async function dropSchema(schema: string): Promise<void> {
  await (await admin()).query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

/** One backend under test: a fresh, migrated store plus whatever shares its data. */
interface Fixture {
  storage: Storage;
  /** Another instance on the same data (a restart or a second replica); none for `:memory:`. */
  openAnother?: () => Promise<Storage>;
  /** What the stores reported through `onError`. */
  errors: string[];
  cleanup(): Promise<void>;
}

interface Backend {
  name: string;
  /** Whether data outlives the instance (everything but `:memory:`). */
  persistent: boolean;
  create(): Promise<Fixture>;
}

const backends: Backend[] = [
  {
    name: 'SQLite :memory:',
    persistent: false,
    async create() {
      const errors: string[] = [];
      const storage = await openStorage({ file: ':memory:', onError: (message) => errors.push(message) });
      return { storage, errors, cleanup: () => storage.close() };
    },
  },
  {
    name: 'SQLite file',
    persistent: true,
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'flagstaff-storage-'));
      const errors: string[] = [];
      const onError = (message: string) => errors.push(message);
      const opened: Storage[] = [await openStorage({ dataDir: dir, onError })];
      return {
        storage: opened[0]!,
        errors,
        openAnother: async () => {
          const another = await openStorage({ dataDir: dir, onError });
          opened.push(another);
          return another;
        },
        async cleanup() {
          for (const storage of opened) await storage.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    persistent: true,
    async create() {
      await admin();
      const schema = freshSchema();
      const errors: string[] = [];
      const onError = (message: string) => errors.push(message);
      const opened: Storage[] = [await openStorage({ databaseUrl: DATABASE_URL, schema, onError })];
      return {
        storage: opened[0]!,
        errors,
        openAnother: async () => {
          const another = await openStorage({ databaseUrl: DATABASE_URL, schema, onError });
          opened.push(another);
          return another;
        },
        async cleanup() {
          for (const storage of opened) await storage.close();
          await dropSchema(schema);
        },
      };
    },
  },
];

interface Recorder {
  seen: ChangeNotice[];
  unsubscribe: () => void;
}

function record(storage: Storage): Recorder {
  const seen: ChangeNotice[] = [];
  return { seen, unsubscribe: storage.subscribe((change) => seen.push(change)) };
}

let markerCount = 0;
/**
 * Commits a marker notice and waits until every recorder has it. Notices arrive in commit order, so
 * afterwards each recorder holds everything committed before the marker: exact assertions without
 * sleeping, whether delivery is synchronous (SQLite) or through NOTIFY (PostgreSQL).
 */
async function settle(storage: Storage, ...recorders: Recorder[]): Promise<ChangeNotice> {
  const marker: ChangeNotice = { projectKey: 'marker', kind: 'project', key: `m${++markerCount}` };
  await storage.transaction(async (tx) => tx.notify(marker));
  await vi.waitFor(
    () => {
      for (const r of recorders) expect(r.seen).toContainEqual(marker);
    },
    { timeout: 5_000, interval: 10 },
  );
  return marker;
}

function flagChange(key: string, envKey?: string): ChangeNotice {
  return envKey ? { projectKey: 'p', envKey, kind: 'flag', key } : { projectKey: 'p', kind: 'flag', key };
}

/** Optimistic read-modify-write with retries, the way API handlers use the store. */
async function increment(storage: Storage, id: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await storage.transaction(async (tx) => {
        const doc = await tx.get<{ n: number }>('flags', id);
        await tx.put('flags', id, { n: (doc?.value.n ?? 0) + 1 }, { expectRev: doc?.rev ?? 0 });
      });
      return attempt;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt > 100) throw err;
    }
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe.each(backends)('storage on $name', (backend) => {
  let fx: Fixture;
  let storage: Storage;

  beforeEach(async () => {
    fx = await backend.create();
    storage = fx.storage;
  });

  afterEach(async () => {
    await fx.cleanup();
  });

  describe('documents', () => {
    it('puts and gets documents, with revisions starting at 1', async () => {
      expect(await storage.get('flags', 'p/f')).toBeUndefined();
      const first = await storage.transaction((tx) => tx.put('flags', 'p/f', { on: true }));
      expect(first).toEqual({ id: 'p/f', rev: 1, value: { on: true } });
      await storage.transaction((tx) => tx.put('flags', 'p/f', { on: false }));
      expect(await storage.get('flags', 'p/f')).toEqual({ id: 'p/f', rev: 2, value: { on: false } });
    });

    it('keeps collections apart', async () => {
      await storage.transaction(async (tx) => {
        await tx.put('flags', 'same', 'a flag');
        await tx.put('segments', 'same', 'a segment');
      });
      expect((await storage.get('flags', 'same'))?.value).toBe('a flag');
      expect((await storage.get('segments', 'same'))?.value).toBe('a segment');
      expect(await storage.list('tokens')).toEqual([]);
    });

    it('returns values exactly as written: key order, unicode, NUL, numbers', async () => {
      const value = {
        zeta: 1,
        alpha: [0.1, -2.5e-8, 1e300, 9007199254740991, null, true],
        mid: { b: 'snow ☃ and 😀', a: 'nul \u0000 here', c: '' },
      };
      await storage.transaction((tx) => tx.put('flags', 'v', value));
      const read = await storage.get<typeof value>('flags', 'v');
      expect(read?.value).toEqual(value);
      expect(JSON.stringify(read?.value)).toBe(JSON.stringify(value));
    });

    it('lists in code point order with exact prefix ranges (% and _ are plain characters)', async () => {
      const ids = ['a', 'a%', 'a%b', 'a/1', 'a/2', 'a_', 'a_x', 'ab', 'a\uffff', 'a😀', 'B', 'b', 'é', '😀'];
      await storage.transaction(async (tx) => {
        for (const id of [...ids].reverse()) await tx.put('flags', id, id);
      });
      const all = (await storage.list<string>('flags')).map((d) => d.id);
      // Code point (= UTF-8 byte) order, which is not JavaScript's UTF-16 order for 'a\uffff' vs 'a😀'.
      expect(all).toEqual([...ids].sort(compareCodePoints));
      expect(all.indexOf('a\uffff')).toBeLessThan(all.indexOf('a😀'));
      const idsWith = async (prefix: string) => (await storage.list('flags', { prefix })).map((d) => d.id);
      expect(await idsWith('a_')).toEqual(['a_', 'a_x']);
      expect(await idsWith('a%')).toEqual(['a%', 'a%b']);
      expect(await idsWith('a/')).toEqual(['a/1', 'a/2']);
      expect(await idsWith('a')).toEqual(all.filter((id) => id.startsWith('a')));
      expect(await idsWith('a')).toContain('a😀');
      expect(await idsWith('😀')).toEqual(['😀']);
      expect(await idsWith('c')).toEqual([]);
      expect(await idsWith('')).toEqual(all);
    });

    it('pages with after and limit', async () => {
      await storage.transaction(async (tx) => {
        for (const id of ['p/e', 'p/a', 'p/d', 'q/a', 'p/c', 'p/b']) await tx.put('flags', id, { id });
      });
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await storage.list('flags', { prefix: 'p/', after, limit: 2 });
        if (page.length === 0) break;
        pages.push(page.map((d) => d.id));
        after = page.at(-1)!.id;
      }
      expect(pages).toEqual([['p/a', 'p/b'], ['p/c', 'p/d'], ['p/e']]);
      expect(await storage.list('flags', { limit: 0 })).toEqual([]);
      expect((await storage.list('flags', { after: 'p/e' })).map((d) => d.id)).toEqual(['q/a']);
    });

    it('checks revisions: expectRev 0 creates, a stale revision conflicts', async () => {
      await storage.transaction((tx) => tx.put('flags', 'f', 1, { expectRev: 0 }));

      const exists = await rejection(storage.transaction((tx) => tx.put('flags', 'f', 2, { expectRev: 0 })));
      expect(exists).toBeInstanceOf(ConflictError);
      expect(exists).toMatchObject({ collection: 'flags', id: 'f', expectedRev: 0, actualRev: 1 });

      await storage.transaction((tx) => tx.put('flags', 'f', 3, { expectRev: 1 }));
      const stale = await rejection(storage.transaction((tx) => tx.put('flags', 'f', 4, { expectRev: 1 })));
      expect(stale).toBeInstanceOf(ConflictError);
      expect(stale).toMatchObject({ expectedRev: 1, actualRev: 2 });

      const missing = await rejection(
        storage.transaction((tx) => tx.put('flags', 'nope', 5, { expectRev: 3 })),
      );
      expect(missing).toMatchObject({ name: 'ConflictError', expectedRev: 3, actualRev: 0 });
      expect(await storage.get('flags', 'nope')).toBeUndefined();

      expect(await storage.get('flags', 'f')).toEqual({ id: 'f', rev: 2, value: 3 });
    });

    it('deletes, with optional revision checks', async () => {
      await storage.transaction((tx) => tx.put('flags', 'f', 'v'));
      await storage.transaction((tx) => tx.put('flags', 'f', 'v2'));

      const stale = await rejection(storage.transaction((tx) => tx.delete('flags', 'f', { expectRev: 1 })));
      expect(stale).toMatchObject({ name: 'ConflictError', expectedRev: 1, actualRev: 2 });
      const notNew = await rejection(storage.transaction((tx) => tx.delete('flags', 'f', { expectRev: 0 })));
      expect(notNew).toBeInstanceOf(ConflictError);
      expect(await storage.get('flags', 'f')).toMatchObject({ rev: 2 });

      expect(await storage.transaction((tx) => tx.delete('flags', 'f', { expectRev: 2 }))).toBe(true);
      expect(await storage.get('flags', 'f')).toBeUndefined();
      expect(await storage.transaction((tx) => tx.delete('flags', 'f'))).toBe(false);
      expect(await storage.transaction((tx) => tx.delete('flags', 'f', { expectRev: 0 }))).toBe(false);
      const gone = await rejection(storage.transaction((tx) => tx.delete('flags', 'f', { expectRev: 2 })));
      expect(gone).toMatchObject({ name: 'ConflictError', actualRev: 0 });

      // Re-created documents start over.
      expect(
        await storage.transaction((tx) => tx.put('flags', 'f', 'again', { expectRev: 0 })),
      ).toMatchObject({
        rev: 1,
      });
    });
  });

  describe('transactions', () => {
    it('returns the function result and sees its own writes', async () => {
      const result = await storage.transaction(async (tx) => {
        await tx.put('flags', 'p/a', 1);
        await tx.put('flags', 'p/b', 2);
        await tx.delete('flags', 'p/a');
        return { got: await tx.get('flags', 'p/b'), listed: (await tx.list('flags')).map((d) => d.id) };
      });
      expect(result).toEqual({ got: { id: 'p/b', rev: 1, value: 2 }, listed: ['p/b'] });
    });

    it('rolls back every write when the function throws', async () => {
      await storage.transaction((tx) => tx.put('flags', 'kept', 'original'));
      const error = await rejection(
        storage.transaction(async (tx) => {
          await tx.put('flags', 'new', 'partial');
          await tx.put('flags', 'kept', 'changed');
          await tx.delete('flags', 'kept');
          await tx.append('audit', 'p/', { what: 'partial' });
          throw new Error('boom');
        }),
      );
      expect(error).toMatchObject({ message: 'boom' });
      expect(await storage.get('flags', 'new')).toBeUndefined();
      expect(await storage.get('flags', 'kept')).toEqual({ id: 'kept', rev: 1, value: 'original' });
      expect(await storage.queryLog('audit', {})).toEqual([]);
    });

    it('rolls back earlier writes when a later write conflicts', async () => {
      await storage.transaction((tx) => tx.put('flags', 'existing', 1));
      const error = await rejection(
        storage.transaction(async (tx) => {
          await tx.put('flags', 'first', 1, { expectRev: 0 });
          await tx.put('flags', 'existing', 2, { expectRev: 0 });
        }),
      );
      expect(error).toBeInstanceOf(ConflictError);
      expect(await storage.get('flags', 'first')).toBeUndefined();
    });

    it('stays usable after failed transactions', async () => {
      for (let i = 0; i < 3; i++) {
        await rejection(storage.transaction(async () => Promise.reject(new Error(`fail ${i}`))));
      }
      await storage.transaction((tx) => tx.put('flags', 'after', true));
      expect(await storage.get('flags', 'after')).toMatchObject({ value: true });
    });

    it('ends 20 concurrent optimistic increments at exactly 20', async () => {
      await Promise.all(Array.from({ length: 20 }, () => increment(storage, 'counter')));
      expect(await storage.get('flags', 'counter')).toEqual({ id: 'counter', rev: 20, value: { n: 20 } });
    });

    it('serialises transactions: unconditional read-modify-writes lose nothing', async () => {
      await Promise.all(
        Array.from({ length: 20 }, () =>
          storage.transaction(async (tx) => {
            const doc = await tx.get<number>('flags', 'blind');
            await tx.put('flags', 'blind', (doc?.value ?? 0) + 1);
          }),
        ),
      );
      expect(await storage.get('flags', 'blind')).toEqual({ id: 'blind', rev: 20, value: 20 });
    });
  });

  describe('logs', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('appends and reads newest first, with growing ids', async () => {
      const first = await storage.transaction((tx) => tx.append('audit', 'p/e/f', { n: 1 }));
      const second = await storage.transaction((tx) => tx.append('audit', 'p/e/g', { n: 2 }));
      expect(second.id).toBeGreaterThan(first.id);
      expect(first).toMatchObject({ value: { n: 1 } });
      expect(typeof first.at).toBe('number');
      const entries = await storage.queryLog('audit', {});
      expect(entries).toEqual([second, first]);
      expect(entries.every((e) => typeof e.id === 'number' && typeof e.at === 'number')).toBe(true);
      expect(await storage.queryLog('webhook_deliveries', {})).toEqual([]);
    });

    it('filters by scope prefix and time, and pages backwards', async () => {
      // Both backends stamp entries with the application clock, so a fake Date controls `at`.
      vi.useFakeTimers({ toFake: ['Date'] });
      const scopes = ['p/e/f', 'p/e/g', 'p/f:x', 'p2/e/f', 'p_/e', 'p/e/f'];
      const appended = [];
      for (const [i, scope] of scopes.entries()) {
        vi.setSystemTime(1_000 * (i + 1));
        appended.push(await storage.transaction((tx) => tx.append('audit', scope, { i })));
      }
      vi.useRealTimers();
      const indexes = (entries: { value: unknown }[]) => entries.map((e) => (e.value as { i: number }).i);

      expect(indexes(await storage.queryLog('audit', { scopePrefix: 'p/' }))).toEqual([5, 2, 1, 0]);
      expect(indexes(await storage.queryLog('audit', { scopePrefix: 'p/e/' }))).toEqual([5, 1, 0]);
      expect(indexes(await storage.queryLog('audit', { scopePrefix: 'p_' }))).toEqual([4]);
      expect(indexes(await storage.queryLog('audit', { since: 2_000, until: 4_000 }))).toEqual([2, 1]);
      expect(indexes(await storage.queryLog('audit', { scopePrefix: 'p/', since: 3_000 }))).toEqual([5, 2]);
      expect(appended.map((e) => e.at)).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 6_000]);

      const pages: number[][] = [];
      let before: number | undefined;
      for (;;) {
        const page = await storage.queryLog('audit', { before, limit: 4 });
        if (page.length === 0) break;
        pages.push(indexes(page));
        before = page.at(-1)!.id;
      }
      expect(pages).toEqual([
        [5, 4, 3, 2],
        [1, 0],
      ]);
    });
  });

  describe('counters', () => {
    const row = (key: string, variation: string, hour: number, count: number): CounterRow => ({
      env: 'p/prod',
      kind: 'eval',
      key,
      variation,
      hour,
      count,
    });
    const HOUR = 3_600_000;
    const T = 1_700_002_800_000; // an hour boundary

    it('adds, accumulates and sums duplicates within one call', async () => {
      await storage.addCounts([row('f', '0', T, 3), row('f', '1', T, 1)]);
      await storage.addCounts([row('f', '0', T, 2), row('f', '0', T, 5), row('f', '1', T + HOUR, 4)]);
      await storage.addCounts([]);
      expect(
        await storage.queryCounts({ env: 'p/prod', kind: 'eval', since: T, until: T + 2 * HOUR }),
      ).toEqual([row('f', '0', T, 10), row('f', '1', T, 1), row('f', '1', T + HOUR, 4)]);
    });

    it('queries by environment, kind, key and half-open time range, ordered by key, hour, variation', async () => {
      await storage.addCounts([
        row('g', 'default', T, 1),
        row('f', '1', T + HOUR, 2),
        row('f', '0', T + HOUR, 3),
        row('f', '0', T, 4),
        row('f', '0', T + 2 * HOUR, 5),
        { ...row('f', '0', T, 6), env: 'p/test' },
        { ...row('buy', '', T, 7), kind: 'custom' },
      ]);
      const all = await storage.queryCounts({ env: 'p/prod', kind: 'eval', since: T, until: T + 2 * HOUR });
      expect(all).toEqual([
        row('f', '0', T, 4),
        row('f', '0', T + HOUR, 3),
        row('f', '1', T + HOUR, 2),
        row('g', 'default', T, 1),
      ]);
      expect(all.every((r) => typeof r.hour === 'number' && typeof r.count === 'number')).toBe(true);
      expect(
        await storage.queryCounts({
          env: 'p/prod',
          kind: 'eval',
          key: 'f',
          since: T + HOUR,
          until: T + 3 * HOUR,
        }),
      ).toEqual([row('f', '0', T + HOUR, 3), row('f', '1', T + HOUR, 2), row('f', '0', T + 2 * HOUR, 5)]);
      expect(await storage.queryCounts({ env: 'p/prod', kind: 'custom', since: 0, until: T + HOUR })).toEqual(
        [{ ...row('buy', '', T, 7), kind: 'custom' }],
      );
      expect(
        await storage.queryCounts({ env: 'p/test', kind: 'eval', key: 'g', since: 0, until: T * 2 }),
      ).toEqual([]);
    });
  });

  describe('notifications', () => {
    it('delivers after commit, in order, once per change', async () => {
      const r = record(storage);
      await storage.transaction(async (tx) => {
        tx.notify(flagChange('a'));
        tx.notify(flagChange('b', 'prod'));
        await tx.put('flags', 'a', 1);
        expect(r.seen).toEqual([]);
      });
      await storage.transaction(async (tx) => tx.notify({ projectKey: 'p', kind: 'project', key: 'p' }));
      const marker = await settle(storage, r);
      expect(r.seen).toEqual([
        flagChange('a'),
        flagChange('b', 'prod'),
        { projectKey: 'p', kind: 'project', key: 'p' },
        marker,
      ]);
    });

    it('delivers nothing for a rolled-back transaction', async () => {
      const r = record(storage);
      await rejection(
        storage.transaction(async (tx) => {
          tx.notify(flagChange('lost'));
          throw new Error('rolled back');
        }),
      );
      await rejection(
        storage.transaction(async (tx) => {
          tx.notify(flagChange('lost too'));
          await tx.put('flags', 'x', 1, { expectRev: 7 });
        }),
      );
      const marker = await settle(storage, r);
      expect(r.seen).toEqual([marker]);
    });

    it('delivers to every subscriber once and stops after unsubscribe', async () => {
      const one = record(storage);
      const two = record(storage);
      await storage.transaction(async (tx) => tx.notify(flagChange('a')));
      const m1 = await settle(storage, one, two);
      expect(one.seen).toEqual([flagChange('a'), m1]);
      expect(two.seen).toEqual([flagChange('a'), m1]);

      one.unsubscribe();
      await storage.transaction(async (tx) => tx.notify(flagChange('b')));
      const m2 = await settle(storage, two);
      expect(one.seen).toEqual([flagChange('a'), m1]);
      expect(two.seen).toEqual([flagChange('a'), m1, flagChange('b'), m2]);
    });

    it('isolates a throwing listener: the commit stands and others still hear it', async () => {
      storage.subscribe(() => {
        throw new Error('listener bug');
      });
      const r = record(storage);
      const result = await storage.transaction(async (tx) => {
        await tx.put('flags', 'f', 1);
        tx.notify(flagChange('f'));
        return 'committed';
      });
      expect(result).toBe('committed');
      const marker = await settle(storage, r);
      expect(r.seen).toEqual([flagChange('f'), marker]);
      expect(fx.errors).toContain('a change listener threw');
    });
  });

  describe('lifecycle', () => {
    it('migrates again as a no-op', async () => {
      await storage.transaction((tx) => tx.put('flags', 'f', 'kept'));
      await storage.migrate();
      await storage.migrate();
      expect(await storage.get('flags', 'f')).toEqual({ id: 'f', rev: 1, value: 'kept' });
      await storage.transaction((tx) => tx.append('audit', 's', 1));
      expect(await storage.queryLog('audit', {})).toHaveLength(1);
    });

    // Defined only where it applies (an in-memory database ends with its instance), so nothing is skipped.
    if (backend.persistent) {
      it('keeps data for the next instance on the same database', async () => {
        if (!fx.openAnother) throw new Error(`${backend.name} has no second instance`);
        await storage.transaction(async (tx) => {
          await tx.put('flags', 'f', 'persisted');
          await tx.append('audit', 's', 'entry');
        });
        await storage.addCounts([{ env: 'p/e', kind: 'eval', key: 'f', variation: '0', hour: 0, count: 2 }]);
        await storage.close();
        const next = await fx.openAnother();
        expect(await next.get('flags', 'f')).toEqual({ id: 'f', rev: 1, value: 'persisted' });
        expect(
          await next.transaction((tx) => tx.put('flags', 'f', 'updated', { expectRev: 1 })),
        ).toMatchObject({
          rev: 2,
        });
        expect((await next.queryLog('audit', {})).map((e) => e.value)).toEqual(['entry']);
        expect(await next.queryCounts({ env: 'p/e', kind: 'eval', since: 0, until: 1 })).toHaveLength(1);
      });
    }

    it('closes after queued transactions finish, then refuses work; close is idempotent', async () => {
      const pending = storage.transaction(async (tx) => {
        await tx.put('flags', 'f', 1);
        return 'finished';
      });
      await storage.close();
      await expect(pending).resolves.toBe('finished');
      await expect(storage.get('flags', 'f')).rejects.toThrow();
      await storage.close();
    });
  });
});

/** Sorts like SQLite's BINARY and PostgreSQL's "C" collation: by code point, not UTF-16 unit. */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

describe('PostgreSQL replicas', () => {
  let schema: string;
  const opened: PostgresStorage[] = [];
  let errors: string[];

  const replica = (options: { url?: string; schema?: string } = {}) => {
    const storage = new PostgresStorage(options.url ?? DATABASE_URL, {
      schema: options.schema ?? schema,
      onError: (message) => errors.push(message),
    });
    opened.push(storage);
    return storage;
  };

  beforeAll(async () => {
    await admin();
  });

  beforeEach(() => {
    schema = freshSchema();
    errors = [];
  });

  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close();
    await dropSchema(schema);
  });

  it('migrates once when two replicas start together', async () => {
    const a = replica();
    const b = replica();
    await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
    const applied = await (await admin()).query(`SELECT version FROM ${schema}.migrations`);
    expect(applied.rows).toEqual([{ version: 1 }]);
  });

  it('delivers a change committed on one replica to subscribers on both, once each', async () => {
    const a = replica();
    const b = replica();
    await a.migrate();
    await b.migrate();
    const onA = record(a);
    const onB = record(b);
    // Both replicas must be listening before the first change: a transaction waits only for its own
    // replica's listener, so without this B could miss A's first notice on a slow machine. Each marker
    // proves one listener; once both arrived nothing older is in flight, and the logs start clean.
    await settle(a, onA);
    await settle(b, onA, onB);
    onA.seen.length = 0;
    onB.seen.length = 0;
    await a.transaction(async (tx) => {
      await tx.put('flags', 'p/f', { on: true });
      tx.notify(flagChange('f', 'prod'));
    });
    await b.transaction(async (tx) => tx.notify(flagChange('g')));
    const marker = await settle(a, onA, onB);
    expect(onA.seen).toEqual([flagChange('f', 'prod'), flagChange('g'), marker]);
    expect(onB.seen).toEqual(onA.seen);
    // What the notice announced is readable on the other replica by the time it arrives.
    expect(await b.get('flags', 'p/f')).toMatchObject({ value: { on: true } });
  });

  it('lets exactly one of two conflicting concurrent writes win', async () => {
    const a = replica();
    const b = replica();
    await a.migrate();
    await b.migrate();
    await a.transaction((tx) => tx.put('flags', 'f', 'v1'));

    for (const [id, expectRev] of [
      ['f', 1],
      ['new', 0],
    ] as const) {
      const results = await Promise.allSettled([
        a.transaction((tx) => tx.put('flags', id, 'from a', { expectRev })),
        b.transaction((tx) => tx.put('flags', id, 'from b', { expectRev })),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      const winner = (won[0] as PromiseFulfilledResult<{ value: string }>).value.value;
      expect(await a.get('flags', id)).toEqual({ id, rev: expectRev + 1, value: winner });
    }
  });

  it('counts every increment made through both replicas', async () => {
    const a = replica();
    const b = replica();
    await a.migrate();
    await b.migrate();
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? a : b, 'counter')));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).transaction(async (tx) => {
          const doc = await tx.get<number>('flags', 'blind');
          await tx.put('flags', 'blind', (doc?.value ?? 0) + 1);
        }),
      ),
    );
    expect(await b.get('flags', 'counter')).toMatchObject({ rev: 20, value: { n: 20 } });
    expect(await b.get('flags', 'blind')).toMatchObject({ rev: 20, value: 20 });
  });

  it('rejects a stale write even against a writer that bypasses the transaction lock', async () => {
    const a = replica();
    await a.migrate();
    await a.transaction((tx) => tx.put('flags', 'f', 'v1'));
    const pool = await admin();

    for (const [id, expectRev, sql] of [
      ['f', 1, `UPDATE ${schema}.docs SET rev = rev + 1, value = '"raw"' WHERE id = 'f'`],
      ['g', 0, `INSERT INTO ${schema}.docs (collection, id, rev, value) VALUES ('flags', 'g', 1, '"raw"')`],
    ] as const) {
      const raw = await pool.connect();
      try {
        await raw.query('BEGIN');
        await raw.query(sql);
        // The replica's write now waits on the raw writer's row lock, then must see its result.
        const write = a.transaction((tx) => tx.put('flags', id, 'from a', { expectRev }));
        const settled = vi.fn();
        write.then(settled, settled);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(settled).not.toHaveBeenCalled();
        await raw.query('COMMIT');
        const error = await rejection(write);
        expect(error).toBeInstanceOf(ConflictError);
        expect(error).toMatchObject({ expectedRev: expectRev, actualRev: expectRev + 1 });
      } finally {
        raw.release();
      }
      expect(await a.get('flags', id)).toMatchObject({ rev: expectRev + 1, value: 'raw' });
    }
  });

  it('ignores notices from other schemas on the same database', async () => {
    const a = replica();
    const otherSchema = freshSchema();
    const other = replica({ schema: otherSchema });
    try {
      await a.migrate();
      await other.migrate();
      const onOther = record(other);
      const onA = record(a);
      await a.transaction(async (tx) => tx.notify(flagChange('not yours')));
      await settle(a, onA);
      const marker = await settle(other, onOther);
      expect(onOther.seen).toEqual([marker]);
    } finally {
      await other.close();
      await dropSchema(otherSchema);
    }
  });

  it('widens a notice too large for NOTIFY to its project', async () => {
    const a = replica();
    await a.migrate();
    const r = record(a);
    await a.transaction(async (tx) =>
      tx.notify({ projectKey: 'p', envKey: 'e', kind: 'flag', key: 'k'.repeat(9_000) }),
    );
    const marker = await settle(a, r);
    expect(r.seen).toEqual([{ projectKey: 'p', kind: 'project', key: 'p' }, marker]);
  });

  it('refuses a transaction writer used after its transaction', async () => {
    const a = replica();
    await a.migrate();
    let leaked: Parameters<Parameters<Storage['transaction']>[0]>[0] | undefined;
    await a.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.put('flags', 'late', 1)).rejects.toThrow('already finished');
    expect(() => leaked!.notify(flagChange('late'))).toThrow('already finished');
  });

  it('reconnects the listener after its connection is killed, and reports the loss to every callback', async () => {
    const appName = `flagstaff_test_listener_${process.pid}_${Date.now()}`;
    const url = `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}application_name=${appName}`;
    let restored = 0;
    const a = new PostgresStorage(url, {
      schema,
      onError: (message) => errors.push(message),
      onListenerRestored: () => restored++,
    });
    opened.push(a);
    // Registered callbacks are told as well as the option's; one throwing must not stop the others.
    let registered = 0;
    let unregistered = 0;
    a.onListenerRestored(() => {
      throw new Error('a broken callback');
    });
    a.onListenerRestored(() => registered++);
    a.onListenerRestored(() => unregistered++)();
    await a.migrate();
    const r = record(a);
    await settle(a, r);

    const killed = await (await admin()).query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
      [appName],
    );
    expect(killed.rowCount).toBe(1);
    await vi.waitFor(() => expect(restored).toBe(1), { timeout: 10_000, interval: 20 });
    expect([registered, unregistered]).toEqual([1, 0]);
    expect(errors).toContain('a listener-restored callback threw');
    expect(errors.some((m) => m.startsWith('the change listener connection failed'))).toBe(true);

    r.seen.length = 0;
    await a.transaction(async (tx) => tx.notify(flagChange('after reconnect')));
    const marker = await settle(a, r);
    expect(r.seen).toEqual([flagChange('after reconnect'), marker]);
  });
});

describe('openStorage', () => {
  it('opens SQLite in <dataDir>/flagstaff.db without a database URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flagstaff-open-'));
    try {
      const storage = await openStorage({ dataDir: join(dir, 'nested') });
      expect(storage).toBeInstanceOf(SqliteStorage);
      expect(storage.backend).toBe('sqlite');
      expect(existsSync(join(dir, 'nested', 'flagstaff.db'))).toBe(true);
      await storage.transaction((tx) => tx.put('flags', 'f', 1));
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens PostgreSQL for postgres:// and postgresql:// URLs, migrated', async () => {
    await admin();
    for (const url of [DATABASE_URL, DATABASE_URL.replace(/^postgres(ql)?:/, 'postgresql:')]) {
      const schema = freshSchema();
      const storage = await openStorage({ databaseUrl: url, schema, dataDir: '/nonexistent' });
      try {
        expect(storage).toBeInstanceOf(PostgresStorage);
        expect(storage.backend).toBe('postgres');
        await storage.transaction((tx) => tx.put('flags', 'f', 1));
      } finally {
        await storage.close();
        await dropSchema(schema);
      }
    }
  });

  it('refuses other database URLs instead of falling back to SQLite', async () => {
    await expect(openStorage({ databaseUrl: 'mysql://localhost/flagstaff' })).rejects.toThrow('postgres://');
  });

  it('refuses schema names that are not plain identifiers', () => {
    expect(() => new PostgresStorage(DATABASE_URL, { schema: 'Robert"; DROP' })).toThrow('Invalid');
  });
});
