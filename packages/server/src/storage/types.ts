/**
 * The flag service's storage seam: a small document store with optimistic versions, two append-only
 * logs, counters, and change notifications. Every domain object (projects, environments, flags,
 * targeting, segments, tokens, webhooks) is a JSON document in a named collection, so the SQLite and
 * PostgreSQL backends implement only these primitives and one shared test suite covers both.
 */

/** A stored document with the revision the store keeps for optimistic concurrency. */
export interface Doc<T> {
  id: string;
  /** Starts at 1 and grows by one on every write. */
  rev: number;
  value: T;
}

export type Collection =
  | 'projects'
  | 'environments'
  | 'credentials'
  | 'flags'
  | 'targeting'
  | 'segments'
  | 'tokens'
  | 'webhooks'
  /** Recently seen SDK contexts, one bounded document per environment (event ingestion). */
  | 'contexts';

export interface PutOptions {
  /**
   * Optimistic concurrency: the revision the caller read. `0` means the document must not exist yet;
   * undefined writes unconditionally. A mismatch rejects with ConflictError.
   */
  expectRev?: number;
}

export interface ListOptions {
  /** Only documents whose id starts with this. */
  prefix?: string;
  /** Ids strictly greater than this (paging); results are ordered by id. */
  after?: string;
  limit?: number;
}

/** One audit or delivery log entry as stored; `id` grows with time. */
export interface LogEntry<T> {
  id: number;
  at: number;
  value: T;
}

export type LogName = 'audit' | 'webhook_deliveries';

export interface LogQuery {
  /** Entries whose `scope` starts with this (e.g. `proj/` or `proj/env/flag:`). */
  scopePrefix?: string;
  since?: number;
  until?: number;
  /** Entries with an id below this (paging backwards, newest first). */
  before?: number;
  limit?: number;
}

/** A counter cell: evaluations or custom events per environment, key, variation and hour. */
export interface CounterKey {
  /** `projectKey/envKey`. */
  env: string;
  /** `eval` or `custom`. */
  kind: 'eval' | 'custom';
  /** Flag key or custom event key. */
  key: string;
  /** Variation index as a string, `default` for no variation, or `''` for custom events. */
  variation: string;
  /** Start of the hour, epoch ms. */
  hour: number;
}

export interface CounterRow extends CounterKey {
  count: number;
}

/** A change other replicas and SSE streams must hear about. Small: listeners re-read what changed. */
export interface ChangeNotice {
  projectKey: string;
  /** Absent for project-wide changes (flag definitions), which affect every environment. */
  envKey?: string;
  kind: 'flag' | 'segment' | 'environment' | 'project';
  key: string;
}

export interface StorageReader {
  get<T>(collection: Collection, id: string): Promise<Doc<T> | undefined>;
  list<T>(collection: Collection, options?: ListOptions): Promise<Doc<T>[]>;
}

export interface StorageWriter extends StorageReader {
  /** Writes a document; resolves with its new revision. */
  put<T>(collection: Collection, id: string, value: T, options?: PutOptions): Promise<Doc<T>>;
  delete(collection: Collection, id: string, options?: PutOptions): Promise<boolean>;
  /** Appends to a log; `scope` is what LogQuery.scopePrefix filters on. */
  append<T>(log: LogName, scope: string, value: T): Promise<LogEntry<T>>;
  /** Queued until the transaction commits, then delivered to every subscriber on every replica. */
  notify(change: ChangeNotice): void;
}

export interface Storage extends StorageReader {
  /** Creates or upgrades the schema; safe to call on every start. */
  migrate(): Promise<void>;
  /**
   * Runs `fn` atomically: its writes all commit or none do, and concurrent transactions are
   * serialised. Notifications are delivered after commit.
   */
  transaction<T>(fn: (tx: StorageWriter) => Promise<T>): Promise<T>;
  queryLog<T>(log: LogName, query: LogQuery): Promise<LogEntry<T>[]>;
  /** Adds to counters (creating rows as needed) in one write. */
  addCounts(rows: CounterRow[]): Promise<void>;
  queryCounts(query: {
    env: string;
    kind: CounterKey['kind'];
    key?: string;
    since: number;
    until: number;
  }): Promise<CounterRow[]>;
  /** Delivers changes committed by this or any other replica sharing the database. */
  subscribe(listener: (change: ChangeNotice) => void): () => void;
  /**
   * Calls `callback` whenever notices may have been lost: on PostgreSQL, each time the change listener
   * is back after its connection dropped. Whatever `subscribe` feeds (caches, SDK streams) should then
   * be refreshed from the store. Never called on SQLite, where notices cannot be lost. Returns the
   * function that unregisters it.
   */
  onListenerRestored(callback: () => void): () => void;
  close(): Promise<void>;
  readonly backend: 'sqlite' | 'postgres';
}

/** A write lost an optimistic-concurrency race: the caller must re-read and retry or report 409. */
export class ConflictError extends Error {
  constructor(
    readonly collection: Collection,
    readonly id: string,
    readonly expectedRev: number,
    readonly actualRev: number,
  ) {
    super(
      actualRev === 0
        ? `${collection} "${id}" does not exist`
        : expectedRev === 0
          ? `${collection} "${id}" already exists`
          : `${collection} "${id}" was changed by someone else (revision ${actualRev}, expected ${expectedRev})`,
    );
    this.name = 'ConflictError';
  }
}
