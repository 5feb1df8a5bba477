import { Buffer } from 'node:buffer';
import pg from 'pg';
import { prefixEnd } from './range.js';
import {
  type ChangeNotice,
  type Collection,
  ConflictError,
  type CounterRow,
  type Doc,
  type ListOptions,
  type LogEntry,
  type LogName,
  type LogQuery,
  type PutOptions,
  type Storage,
  type StorageWriter,
} from './types.js';

// Each entry upgrades the schema by one version; applied entries are recorded, never edited.
//
// `value` is TEXT holding the JSON exactly as JSON.stringify wrote it, not JSONB: nothing queries
// inside documents, and JSONB would reorder object keys, reject "\u0000" in strings and re-render
// numbers, so the same document could read back differently from the SQLite backend.
// Every text column that is compared or ordered uses the "C" collation: byte order, which is the
// order SQLite uses and which prefix ranges (range.ts) rely on, whatever the database's locale.
const MIGRATIONS: string[] = [
  `CREATE TABLE docs (
     collection TEXT COLLATE "C" NOT NULL,
     id TEXT COLLATE "C" NOT NULL,
     rev INTEGER NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (collection, id)
   );
   CREATE TABLE logs (
     id BIGSERIAL PRIMARY KEY,
     log TEXT COLLATE "C" NOT NULL,
     scope TEXT COLLATE "C" NOT NULL,
     at BIGINT NOT NULL,
     value TEXT NOT NULL
   );
   CREATE INDEX logs_by_scope ON logs (log, scope, id);
   CREATE TABLE counters (
     env TEXT COLLATE "C" NOT NULL,
     kind TEXT COLLATE "C" NOT NULL,
     key TEXT COLLATE "C" NOT NULL,
     variation TEXT COLLATE "C" NOT NULL,
     hour BIGINT NOT NULL,
     count BIGINT NOT NULL,
     PRIMARY KEY (env, kind, key, variation, hour)
   );`,
];

/** The NOTIFY channel; database-wide, so payloads carry the schema and listeners drop other schemas'. */
const CHANNEL = 'flagstaff_changes';
/** PostgreSQL rejects NOTIFY payloads of 8000 bytes or more (the default page size). */
const MAX_PAYLOAD_BYTES = 7999;
/** An idle transaction holds the write lock for every replica; a stuck one is cut off after this. */
const IDLE_IN_TRANSACTION_MS = 30_000;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 30_000;

export interface PostgresStorageOptions {
  /**
   * The schema holding the tables (created on migrate if missing), selected through `search_path` on
   * every connection. A lowercase unquoted identifier; default `public`.
   */
  schema?: string;
  /** Pool size for reads and transactions (the change listener has its own connection); default 10. */
  poolSize?: number;
  /** Reports failures that must not crash the service (listener drops, idle connection errors). */
  onError?: (message: string, error: unknown) => void;
  /**
   * Called when the change listener is back after its connection dropped: notifications sent in the
   * gap are lost, so caches fed by `subscribe` should be refreshed from the database.
   */
  onListenerRestored?: () => void;
}

interface Envelope {
  schema: string;
  change: ChangeNotice;
}

type Queryable = pg.Pool | pg.PoolClient;

/**
 * The shared backend: any number of replicas on one PostgreSQL database.
 *
 * Transactions are serialised across all replicas by a transaction-scoped advisory lock (per schema),
 * so they behave exactly like the SQLite backend's: a read-modify-write inside `transaction` never
 * loses an update even without `expectRev`. Writes are few (admin changes, audit and delivery logs),
 * so one writer at a time costs little; plain reads and counters never take the lock. Revision checks
 * are still single atomic statements, correct without the lock too.
 *
 * Change notices are delivered only through NOTIFY, to this replica's listeners as to every other's:
 * one path means each committed change reaches each listener exactly once and in commit order, and
 * a change is never announced before other replicas can read it.
 */
export class PostgresStorage implements Storage {
  readonly backend = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly clientConfig: pg.ClientConfig;
  private readonly schema: string;
  private readonly onError: (message: string, error: unknown) => void;
  private readonly listeners = new Set<{ listener: (change: ChangeNotice) => void }>();
  private readonly restoredCallbacks = new Set<{ callback: () => void }>();
  /** In-process queue: a replica holds at most one pool connection waiting for the write lock. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  private listenClient: pg.Client | undefined;
  private listenerStarted = false;
  private listenerEverUp = false;
  /** Settles when the current LISTEN attempt has succeeded or failed; never rejects. */
  private listenerReady: Promise<void> = Promise.resolve();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempts = 0;

  constructor(
    connectionString: string,
    private readonly options: PostgresStorageOptions = {},
  ) {
    const schema = options.schema ?? 'public';
    // Restricting the name keeps it safe to splice into SQL and into the startup options unquoted.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new Error(`Invalid PostgreSQL schema name "${schema}": use lowercase letters, digits and _`);
    }
    this.schema = schema;
    this.onError = options.onError ?? ((message, error) => console.error(`[flagstaff] ${message}`, error));
    this.clientConfig = {
      connectionString,
      application_name: 'flagstaff',
      // A startup parameter rather than `SET` after connecting: it applies before the first query on
      // every connection, the pool's and the listener's alike. (An `options` parameter in the URL
      // replaces it, so do not put one there.)
      options: `-c search_path=${schema}`,
      // Detects a silently dead listener connection, which otherwise never sends and never notices.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    };
    this.pool = new pg.Pool({ ...this.clientConfig, max: options.poolSize ?? 10 });
    // An idle pooled connection that dies emits here; without a handler the process would crash.
    this.pool.on('error', (err) => this.onError('an idle PostgreSQL connection failed', err));
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    let healthy = false;
    try {
      // A session lock, so a second replica starting at the same moment waits here and then finds
      // nothing left to do instead of applying the same migrations concurrently.
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [this.lockName('migrate')]);
      // Checked first because CREATE SCHEMA IF NOT EXISTS still demands CREATE on the database.
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${this.schema}`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const row = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM migrations');
      const current = row.rows[0]?.v ?? 0;
      for (let version = current + 1; version <= MIGRATIONS.length; version++) {
        // DDL is transactional in PostgreSQL: a failing migration leaves no half-built schema.
        await client.query('BEGIN');
        await client.query(MIGRATIONS[version - 1]!);
        await client.query('INSERT INTO migrations (version, applied_at) VALUES ($1, $2)', [
          version,
          Date.now(),
        ]);
        await client.query('COMMIT');
      }
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [this.lockName('migrate')]);
      healthy = true;
    } finally {
      // After a failure the session may be mid-transaction and still hold the lock: closing the
      // connection instead of pooling it rolls back and releases both.
      client.release(!healthy);
    }
  }

  async get<T>(collection: Collection, id: string): Promise<Doc<T> | undefined> {
    return getDoc<T>(this.pool, collection, id);
  }

  async list<T>(collection: Collection, options: ListOptions = {}): Promise<Doc<T>[]> {
    return listDocs<T>(this.pool, collection, options);
  }

  transaction<T>(fn: (tx: StorageWriter) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('PostgresStorage is closed'));
    const run = this.queue.then(() => this.runTransaction(fn));
    this.queue = run.catch(() => {});
    return run;
  }

  private async runTransaction<T>(fn: (tx: StorageWriter) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const pending = new Map<string, ChangeNotice>();
    const state = { finished: false };
    let healthy = true;
    try {
      await client.query(
        `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${IDLE_IN_TRANSACTION_MS}; ` +
          `SELECT pg_advisory_xact_lock(hashtextextended('${this.lockName('write')}', 0))`,
      );
      const result = await fn(this.writer(client, pending, state));
      if (pending.size > 0) {
        // A listener this replica started just now must be listening before we commit, or a change
        // committed right after `subscribe` returned would miss it.
        await this.listenerReady;
        await client.query(
          'SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS n(payload, i) ORDER BY i',
          [CHANNEL, [...pending.keys()]],
        );
      }
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        healthy = false;
        this.onError('ROLLBACK failed; discarding the connection', rollbackError);
      });
      throw err;
    } finally {
      state.finished = true;
      client.release(!healthy);
    }
  }

  private writer(client: pg.PoolClient, pending: Map<string, ChangeNotice>, state: { finished: boolean }) {
    // After the transaction the connection goes back to the pool: a leaked `tx` must not write there.
    const live = (): pg.PoolClient => {
      if (state.finished) throw new Error('The transaction has already finished');
      return client;
    };
    const writer: StorageWriter = {
      get: async (collection, id) => getDoc(live(), collection, id),
      list: async (collection, options = {}) => listDocs(live(), collection, options),
      put: async <T>(collection: Collection, id: string, value: T, options: PutOptions = {}) => {
        const db = live();
        const json = JSON.stringify(value);
        const expected = options.expectRev;
        // Each branch checks and writes in one statement, so a concurrent writer cannot slip between
        // the check and the write: UPDATE re-evaluates `rev = $4` after waiting for a competing row
        // lock, and INSERT ... DO NOTHING waits for a competing insert to commit or roll back.
        const result =
          expected === undefined
            ? await db.query<{ rev: number }>(
                'INSERT INTO docs (collection, id, rev, value) VALUES ($1, $2, 1, $3) ' +
                  'ON CONFLICT (collection, id) DO UPDATE SET rev = docs.rev + 1, value = EXCLUDED.value ' +
                  'RETURNING rev',
                [collection, id, json],
              )
            : expected === 0
              ? await db.query<{ rev: number }>(
                  'INSERT INTO docs (collection, id, rev, value) VALUES ($1, $2, 1, $3) ' +
                    'ON CONFLICT (collection, id) DO NOTHING RETURNING rev',
                  [collection, id, json],
                )
              : await db.query<{ rev: number }>(
                  'UPDATE docs SET rev = rev + 1, value = $3 WHERE collection = $1 AND id = $2 AND rev = $4 ' +
                    'RETURNING rev',
                  [collection, id, json, expected],
                );
        const written = result.rows[0];
        if (!written) {
          const actual = (await getDoc(db, collection, id))?.rev ?? 0;
          throw new ConflictError(collection, id, expected ?? 0, actual);
        }
        return { id, rev: written.rev, value };
      },
      delete: async (collection, id, options = {}) => {
        const db = live();
        const expected = options.expectRev;
        if (expected === 0) {
          // "Must not exist": nothing to delete, unless it does exist, which is the conflict.
          const actual = (await getDoc(db, collection, id))?.rev ?? 0;
          if (actual !== 0) throw new ConflictError(collection, id, 0, actual);
          return false;
        }
        const result =
          expected === undefined
            ? await db.query('DELETE FROM docs WHERE collection = $1 AND id = $2', [collection, id])
            : await db.query('DELETE FROM docs WHERE collection = $1 AND id = $2 AND rev = $3', [
                collection,
                id,
                expected,
              ]);
        if ((result.rowCount ?? 0) > 0) return true;
        if (expected === undefined) return false;
        const actual = (await getDoc(db, collection, id))?.rev ?? 0;
        throw new ConflictError(collection, id, expected, actual);
      },
      append: async <T>(log: LogName, scope: string, value: T) => {
        // The application clock, as in the SQLite backend, so both record the same `at` for a write.
        const at = Date.now();
        const result = await live().query<{ id: string }>(
          'INSERT INTO logs (log, scope, at, value) VALUES ($1, $2, $3, $4) RETURNING id',
          [log, scope, at, JSON.stringify(value)],
        );
        return { id: Number(result.rows[0]!.id), at, value } as LogEntry<T>;
      },
      notify: (change) => {
        live();
        const payload = this.payload(change);
        // Keyed by payload: PostgreSQL folds identical notifications in a transaction anyway.
        if (payload !== undefined) pending.set(payload, change);
      },
    };
    return writer;
  }

  /** The NOTIFY payload for a change, widened to its whole project if it would not fit. */
  private payload(change: ChangeNotice): string | undefined {
    const encode = (c: ChangeNotice) => JSON.stringify({ schema: this.schema, change: c } satisfies Envelope);
    let payload = encode(change);
    if (Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES) return payload;
    // Listeners re-read what changed, so announcing the project is correct, only broader.
    payload = encode({ projectKey: change.projectKey, kind: 'project', key: change.projectKey });
    if (Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES) return payload;
    this.onError(
      'a change notice is too large for NOTIFY and was dropped',
      new Error(`project key of ${change.projectKey.length} characters`),
    );
    return undefined;
  }

  async queryLog<T>(log: LogName, query: LogQuery): Promise<LogEntry<T>[]> {
    const where = ['log = $1'];
    const params: unknown[] = [log];
    const add = (condition: string, value: unknown) => {
      params.push(value);
      where.push(`${condition} $${params.length}`);
    };
    if (query.scopePrefix) {
      add('scope >=', query.scopePrefix);
      const end = prefixEnd(query.scopePrefix);
      if (end !== undefined) add('scope <', end);
    }
    if (query.since !== undefined) add('at >=', query.since);
    if (query.until !== undefined) add('at <', query.until);
    if (query.before !== undefined) add('id <', query.before);
    params.push(Math.max(1, Math.min(query.limit ?? 100, 1000)));
    const result = await this.pool.query<{ id: string; at: string; value: string }>(
      `SELECT id, at, value FROM logs WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    // BIGINT arrives as a string (it may exceed 2^53); ids and epoch milliseconds never do.
    return result.rows.map((r) => ({ id: Number(r.id), at: Number(r.at), value: JSON.parse(r.value) as T }));
  }

  async addCounts(rows: CounterRow[]): Promise<void> {
    // One statement cannot update the same row twice (ON CONFLICT would fail), so sum duplicates first;
    // sorting makes concurrent batches from several replicas lock rows in one order, never deadlocking.
    const sums = new Map<string, CounterRow>();
    for (const row of rows) {
      const cell = JSON.stringify([row.env, row.kind, row.key, row.variation, row.hour]);
      const existing = sums.get(cell);
      if (existing) existing.count += row.count;
      else sums.set(cell, { ...row });
    }
    if (sums.size === 0) return;
    const cells = [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
    await this.pool.query(
      'INSERT INTO counters (env, kind, key, variation, hour, count) ' +
        'SELECT env, kind, key, variation, hour, count FROM unnest($1::text[], $2::text[], $3::text[], ' +
        '$4::text[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS c(env, kind, key, variation, hour, count, i) ' +
        'ORDER BY i ' +
        'ON CONFLICT (env, kind, key, variation, hour) DO UPDATE SET count = counters.count + EXCLUDED.count',
      [
        cells.map((c) => c.env),
        cells.map((c) => c.kind),
        cells.map((c) => c.key),
        cells.map((c) => c.variation),
        cells.map((c) => c.hour),
        cells.map((c) => c.count),
      ],
    );
  }

  async queryCounts(query: {
    env: string;
    kind: CounterRow['kind'];
    key?: string;
    since: number;
    until: number;
  }): Promise<CounterRow[]> {
    const params: unknown[] = [query.env, query.kind, query.since, query.until];
    let sql =
      'SELECT env, kind, key, variation, hour, count FROM counters ' +
      'WHERE env = $1 AND kind = $2 AND hour >= $3 AND hour < $4';
    if (query.key !== undefined) {
      params.push(query.key);
      sql += ' AND key = $5';
    }
    const result = await this.pool.query<
      Omit<CounterRow, 'hour' | 'count'> & { hour: string; count: string }
    >(`${sql} ORDER BY key, hour, variation`, params);
    return result.rows.map((r) => ({ ...r, hour: Number(r.hour), count: Number(r.count) }));
  }

  subscribe(listener: (change: ChangeNotice) => void): () => void {
    const entry = { listener };
    this.listeners.add(entry);
    this.startListener();
    return () => {
      this.listeners.delete(entry);
    };
  }

  onListenerRestored(callback: () => void): () => void {
    // Wrapped, so the same function registered twice is called twice and unregistered once each.
    const entry = { callback };
    this.restoredCallbacks.add(entry);
    return () => {
      this.restoredCallbacks.delete(entry);
    };
  }

  private startListener(): void {
    if (this.listenerStarted || this.closing) return;
    this.listenerStarted = true;
    this.listenerReady = this.connectListener();
  }

  private async connectListener(): Promise<void> {
    // Its own client outside the pool: LISTEN belongs to a session, which must stay open indefinitely.
    const client = new pg.Client(this.clientConfig);
    this.listenClient = client;
    client.on('notification', (message) => this.deliver(message));
    client.on('error', (err) => this.listenerLost(client, err));
    client.on('end', () => this.listenerLost(client, new Error('the connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      this.listenerLost(client, err);
      return;
    }
    if (this.listenClient !== client) return; // lost or closed while connecting
    this.reconnectAttempts = 0;
    if (this.listenerEverUp) this.listenerRestored();
    this.listenerEverUp = true;
  }

  /** Tells the option's callback and every registered one; a throwing one must not stop the others. */
  private listenerRestored(): void {
    const callbacks = [
      this.options.onListenerRestored,
      ...[...this.restoredCallbacks].map((e) => e.callback),
    ];
    for (const callback of callbacks) {
      try {
        callback?.();
      } catch (err) {
        this.onError('a listener-restored callback threw', err);
      }
    }
  }

  /** Handles every way the listener can fail (connect, LISTEN, error, end), once per client. */
  private listenerLost(client: pg.Client, err: unknown): void {
    if (this.listenClient !== client) return;
    this.listenClient = undefined;
    // The error handler stays attached: a late error from a dead client must not become uncaught.
    client.end().catch(() => {});
    if (this.closing) return;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.reconnectAttempts);
    this.reconnectAttempts++;
    this.onError(`the change listener connection failed; reconnecting in ${Math.round(delay)} ms`, err);
    // Jitter, so replicas that lost the database together do not all return in the same instant.
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = undefined;
        if (this.closing) return;
        this.listenerReady = this.connectListener();
      },
      delay * (0.5 + Math.random() / 2),
    );
    // A pending reconnect alone should not keep the process alive.
    this.reconnectTimer.unref();
  }

  private deliver(message: pg.Notification): void {
    if (message.channel !== CHANNEL || !message.payload) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message.payload) as Envelope;
    } catch (err) {
      this.onError('ignored a malformed change notification', err);
      return;
    }
    // Other schemas (other deployments or test runs sharing the database) use the same channel.
    if (envelope?.schema !== this.schema || typeof envelope.change?.projectKey !== 'string') return;
    for (const { listener } of [...this.listeners]) {
      try {
        listener(envelope.change);
      } catch (err) {
        this.onError('a change listener threw', err);
      }
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.listeners.clear();
      this.restoredCallbacks.clear();
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      const listener = this.listenClient;
      this.listenClient = undefined;
      await listener?.end().catch(() => {});
      await this.listenerReady;
      // Transactions already queued still run to completion before the pool goes.
      await this.queue.catch(() => {});
      await this.pool.end();
    })();
    return this.closing;
  }

  private lockName(purpose: 'migrate' | 'write'): string {
    return `flagstaff:${purpose}:${this.schema}`;
  }
}

async function getDoc<T>(db: Queryable, collection: Collection, id: string): Promise<Doc<T> | undefined> {
  const result = await db.query<{ rev: number; value: string }>(
    'SELECT rev, value FROM docs WHERE collection = $1 AND id = $2',
    [collection, id],
  );
  const row = result.rows[0];
  return row ? { id, rev: row.rev, value: JSON.parse(row.value) as T } : undefined;
}

async function listDocs<T>(db: Queryable, collection: Collection, options: ListOptions): Promise<Doc<T>[]> {
  const where = ['collection = $1'];
  const params: unknown[] = [collection];
  const add = (condition: string, value: unknown) => {
    params.push(value);
    where.push(`${condition} $${params.length}`);
  };
  if (options.prefix) {
    add('id >=', options.prefix);
    const end = prefixEnd(options.prefix);
    if (end !== undefined) add('id <', end);
  }
  if (options.after !== undefined) add('id >', options.after);
  let limit = '';
  if (options.limit !== undefined) {
    params.push(Math.max(0, Math.floor(options.limit)));
    limit = ` LIMIT $${params.length}`;
  }
  const result = await db.query<{ id: string; rev: number; value: string }>(
    `SELECT id, rev, value FROM docs WHERE ${where.join(' AND ')} ORDER BY id${limit}`,
    params,
  );
  return result.rows.map((r) => ({ id: r.id, rev: r.rev, value: JSON.parse(r.value) as T }));
}
