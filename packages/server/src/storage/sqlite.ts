import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
const MIGRATIONS: string[] = [
  `CREATE TABLE docs (
     collection TEXT NOT NULL,
     id TEXT NOT NULL,
     rev INTEGER NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (collection, id)
   );
   CREATE TABLE logs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     log TEXT NOT NULL,
     scope TEXT NOT NULL,
     at INTEGER NOT NULL,
     value TEXT NOT NULL
   );
   CREATE INDEX logs_by_scope ON logs (log, scope, id);
   CREATE TABLE counters (
     env TEXT NOT NULL,
     kind TEXT NOT NULL,
     key TEXT NOT NULL,
     variation TEXT NOT NULL,
     hour INTEGER NOT NULL,
     count INTEGER NOT NULL,
     PRIMARY KEY (env, kind, key, variation, hour)
   );`,
];

export interface SqliteStorageOptions {
  /** Reports failures that must not reach the caller (a throwing change listener); default console.error. */
  onError?: (message: string, error: unknown) => void;
}

/**
 * The embedded backend: one SQLite file in WAL mode (or `:memory:`). better-sqlite3 is synchronous,
 * so every statement completes before the next runs; transactions are serialised through a queue,
 * and a transaction function must only await storage calls (which resolve at once), never other I/O,
 * or other requests' statements could run inside it.
 */
export class SqliteStorage implements Storage {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly changes = new EventEmitter();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onError: (message: string, error: unknown) => void;

  constructor(file: string, options: SqliteStorageOptions = {}) {
    this.onError = options.onError ?? ((message, error) => console.error(`[flagstaff] ${message}`, error));
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.changes.setMaxListeners(0);
  }

  // Prepared statements by SQL text: preparing costs more than running a simple statement, and the
  // same few statements run on every request. Bounded because some SQL embeds a LIMIT.
  private readonly statements = new Map<string, Database.Statement>();

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      if (this.statements.size >= 200) this.statements.clear();
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  async migrate(): Promise<void> {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    const row = this.db.prepare('SELECT MAX(version) AS v FROM migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version - 1]!);
        this.db
          .prepare('INSERT INTO migrations (version, applied_at) VALUES (?, ?)')
          .run(version, Date.now());
      })();
    }
  }

  async get<T>(collection: Collection, id: string): Promise<Doc<T> | undefined> {
    return this.getSync<T>(collection, id);
  }

  private getSync<T>(collection: Collection, id: string): Doc<T> | undefined {
    const row = this.statement('SELECT rev, value FROM docs WHERE collection = ? AND id = ?').get(
      collection,
      id,
    ) as { rev: number; value: string } | undefined;
    return row ? { id, rev: row.rev, value: JSON.parse(row.value) as T } : undefined;
  }

  async list<T>(collection: Collection, options: ListOptions = {}): Promise<Doc<T>[]> {
    const where = ['collection = ?'];
    const params: unknown[] = [collection];
    if (options.prefix) {
      // A range instead of LIKE: ids may contain % and _, and the range uses the primary key.
      where.push('id >= ?');
      params.push(options.prefix);
      const end = prefixEnd(options.prefix);
      if (end !== undefined) {
        where.push('id < ?');
        params.push(end);
      }
    }
    if (options.after !== undefined) {
      where.push('id > ?');
      params.push(options.after);
    }
    const limit = options.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(options.limit))}` : '';
    const rows = this.statement(
      `SELECT id, rev, value FROM docs WHERE ${where.join(' AND ')} ORDER BY id${limit}`,
    ).all(...params) as { id: string; rev: number; value: string }[];
    return rows.map((r) => ({ id: r.id, rev: r.rev, value: JSON.parse(r.value) as T }));
  }

  transaction<T>(fn: (tx: StorageWriter) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const pending: ChangeNotice[] = [];
      const tx = this.writer(pending);
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(tx);
        this.db.exec('COMMIT');
        for (const change of pending) this.deliver(change);
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private writer(pending: ChangeNotice[]): StorageWriter {
    return {
      get: (collection, id) => this.get(collection, id),
      list: (collection, options) => this.list(collection, options),
      put: async <T>(collection: Collection, id: string, value: T, options: PutOptions = {}) => {
        const current = this.getSync(collection, id);
        const actual = current?.rev ?? 0;
        if (options.expectRev !== undefined && options.expectRev !== actual) {
          throw new ConflictError(collection, id, options.expectRev, actual);
        }
        const rev = actual + 1;
        this.statement(
          'INSERT INTO docs (collection, id, rev, value) VALUES (?, ?, ?, ?) ' +
            'ON CONFLICT (collection, id) DO UPDATE SET rev = excluded.rev, value = excluded.value',
        ).run(collection, id, rev, JSON.stringify(value));
        return { id, rev, value };
      },
      delete: async (collection, id, options = {}) => {
        const actual = this.getSync(collection, id)?.rev ?? 0;
        if (options.expectRev !== undefined && options.expectRev !== actual) {
          throw new ConflictError(collection, id, options.expectRev, actual);
        }
        return (
          this.statement('DELETE FROM docs WHERE collection = ? AND id = ?').run(collection, id).changes > 0
        );
      },
      append: async <T>(log: LogName, scope: string, value: T) => {
        const at = Date.now();
        const info = this.statement('INSERT INTO logs (log, scope, at, value) VALUES (?, ?, ?, ?)').run(
          log,
          scope,
          at,
          JSON.stringify(value),
        );
        return { id: Number(info.lastInsertRowid), at, value } as LogEntry<T>;
      },
      notify: (change) => {
        pending.push(change);
      },
    };
  }

  async queryLog<T>(log: LogName, query: LogQuery): Promise<LogEntry<T>[]> {
    const where = ['log = ?'];
    const params: unknown[] = [log];
    if (query.scopePrefix) {
      where.push('scope >= ?');
      params.push(query.scopePrefix);
      const end = prefixEnd(query.scopePrefix);
      if (end !== undefined) {
        where.push('scope < ?');
        params.push(end);
      }
    }
    if (query.since !== undefined) {
      where.push('at >= ?');
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push('at < ?');
      params.push(query.until);
    }
    if (query.before !== undefined) {
      where.push('id < ?');
      params.push(query.before);
    }
    const limit = Math.max(1, Math.min(query.limit ?? 100, 1000));
    const rows = this.statement(
      `SELECT id, at, value FROM logs WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ${limit}`,
    ).all(...params) as { id: number; at: number; value: string }[];
    return rows.map((r) => ({ id: r.id, at: r.at, value: JSON.parse(r.value) as T }));
  }

  async addCounts(rows: CounterRow[]): Promise<void> {
    const upsert = this.statement(
      'INSERT INTO counters (env, kind, key, variation, hour, count) VALUES (?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (env, kind, key, variation, hour) DO UPDATE SET count = count + excluded.count',
    );
    this.db.transaction(() => {
      for (const r of rows) upsert.run(r.env, r.kind, r.key, r.variation, r.hour, r.count);
    })();
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
      'SELECT env, kind, key, variation, hour, count FROM counters WHERE env = ? AND kind = ? AND hour >= ? AND hour < ?';
    if (query.key !== undefined) {
      sql += ' AND key = ?';
      params.push(query.key);
    }
    return this.statement(`${sql} ORDER BY key, hour, variation`).all(...params) as CounterRow[];
  }

  /**
   * Calls each listener in turn, isolating their failures: the transaction has committed, so a throwing
   * listener must neither skip the others nor make the caller believe the write failed (and retry it).
   */
  private deliver(change: ChangeNotice): void {
    for (const listener of this.changes.listeners('change') as ((change: ChangeNotice) => void)[]) {
      try {
        listener(change);
      } catch (err) {
        this.onError('a change listener threw', err);
      }
    }
  }

  subscribe(listener: (change: ChangeNotice) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  onListenerRestored(_callback: () => void): () => void {
    // Notices go straight to this process's listeners: none can be lost, so none need restoring.
    return () => {};
  }

  async close(): Promise<void> {
    await this.queue.catch(() => {});
    this.changes.removeAllListeners();
    if (this.db.open) this.db.close();
  }
}
