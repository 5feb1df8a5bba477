import { join } from 'node:path';
import { PostgresStorage } from './postgres.js';
import { SqliteStorage } from './sqlite.js';
import type { Storage } from './types.js';

export { PostgresStorage, type PostgresStorageOptions } from './postgres.js';
export { SqliteStorage, type SqliteStorageOptions } from './sqlite.js';
export * from './types.js';

export const DEFAULT_DATA_DIR = './.flagstaff';

export interface OpenStorageOptions {
  /** A `postgres://` or `postgresql://` URL (usually `DATABASE_URL`): selects the PostgreSQL backend. */
  databaseUrl?: string;
  /** Where the SQLite database lives when there is no database URL; default `./.flagstaff`. */
  dataDir?: string;
  /** The SQLite file itself (or `:memory:`), overriding `dataDir`. */
  file?: string;
  /** PostgreSQL only: the schema holding the tables; default `public`. */
  schema?: string;
  /** Reports failures that must not crash the service; default console.error. */
  onError?: (message: string, error: unknown) => void;
  /** PostgreSQL only: the change listener is back after a drop; notices sent meanwhile were lost. */
  onListenerRestored?: () => void;
}

/** Opens and migrates the configured backend: PostgreSQL when a database URL is given, else SQLite. */
export async function openStorage(options: OpenStorageOptions = {}): Promise<Storage> {
  const url = options.databaseUrl?.trim();
  let storage: Storage;
  if (url) {
    // Refused rather than ignored: falling back to SQLite would silently split replicas' data.
    if (!/^postgres(ql)?:\/\//i.test(url)) {
      throw new Error('The database URL must start with postgres:// or postgresql://');
    }
    storage = new PostgresStorage(url, {
      schema: options.schema,
      onError: options.onError,
      onListenerRestored: options.onListenerRestored,
    });
  } else {
    const file = options.file ?? join(options.dataDir ?? DEFAULT_DATA_DIR, 'flagstaff.db');
    storage = new SqliteStorage(file, { onError: options.onError });
  }
  try {
    await storage.migrate();
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
  return storage;
}
