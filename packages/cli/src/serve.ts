// `flagstaff serve`: the flag service as a deployment runs it (a container on ECS, a VM), configured
// by environment variables only, with none of `flagstaff dev`'s demo data, relay or local DynamoDB.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ApiToken,
  buildFlagService,
  DEFAULT_DATA_DIR,
  findToken,
  hashToken,
  openStorage,
  type Storage,
} from '@flagstaff/server';

export interface ServeConfig {
  port: number;
  host: string;
  /** PostgreSQL when set (from DATABASE_URL or the PG* variables); SQLite in `dataDir` otherwise. */
  databaseUrl?: string;
  dataDir: string;
  /** A secret that must exist as an admin API token, so a fresh deployment can be administered. */
  adminToken?: string;
  heartbeatIntervalMs?: number;
  /** Fastify's JSON request logs. */
  logger: boolean;
}

export interface ServeOverrides {
  port?: string;
  host?: string;
  dataDir?: string;
}

export const DEFAULT_SERVE_PORT = 8040;
/** Long enough that a guessed or truncated value is refused; generated secrets are much longer. */
const MIN_ADMIN_TOKEN_LENGTH = 20;
const ADMIN_TOKEN_NAME = 'FLAGSTAFF_ADMIN_TOKEN';

/**
 * Reads the configuration from the environment (and command-line overrides). Throws one error listing
 * every problem, so a misconfigured container says everything that is wrong in its first log line.
 */
export function serveConfig(env: NodeJS.ProcessEnv, overrides: ServeOverrides = {}): ServeConfig {
  const problems: string[] = [];
  const rawPort = overrides.port ?? env.PORT ?? String(DEFAULT_SERVE_PORT);
  const port = Number(rawPort);
  if (rawPort.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`PORT must be a port number (0-65535), got "${rawPort}"`);
  }
  // All interfaces, as the relay: a container's port is only reachable that way. `flagstaff dev` keeps
  // 127.0.0.1 because it prints an admin token and serves demo data.
  const host = overrides.host ?? (env.HOST || '0.0.0.0');

  let databaseUrl: string | undefined;
  try {
    databaseUrl = databaseUrlFrom(env);
  } catch (err) {
    problems.push((err as Error).message);
  }

  const adminToken = env.FLAGSTAFF_ADMIN_TOKEN?.trim() || undefined;
  if (adminToken !== undefined && adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    problems.push(`FLAGSTAFF_ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
  }

  let heartbeatIntervalMs: number | undefined;
  if (env.HEARTBEAT_INTERVAL) {
    heartbeatIntervalMs = parseDuration(env.HEARTBEAT_INTERVAL);
    if (heartbeatIntervalMs === undefined || heartbeatIntervalMs <= 0) {
      problems.push(
        `HEARTBEAT_INTERVAL must be a positive duration (30s, 1m), got "${env.HEARTBEAT_INTERVAL}"`,
      );
    }
  }

  if (problems.length > 0) throw new Error(problems.join('\n'));
  return {
    port,
    host,
    databaseUrl,
    dataDir: resolve(overrides.dataDir ?? (env.FLAGSTAFF_DATA_DIR || DEFAULT_DATA_DIR)),
    adminToken,
    heartbeatIntervalMs,
    logger: !['0', 'false'].includes((env.FLAGSTAFF_LOG_REQUESTS ?? 'true').toLowerCase()),
  };
}

/**
 * DATABASE_URL as given, else a URL assembled from libpq's variables. PGHOST/PGPORT/PGUSER/PGPASSWORD/
 * PGDATABASE are what an ECS task gets from the fields of an RDS-managed secret, which holds the
 * parts rather than a URL. PGSSLMODE becomes `sslmode`, as node-postgres reads it from the URL.
 */
export function databaseUrlFrom(env: NodeJS.ProcessEnv): string | undefined {
  const direct = env.DATABASE_URL?.trim();
  if (direct) return direct;
  const host = env.PGHOST?.trim();
  if (!host) return undefined;
  const port = env.PGPORT?.trim() || '5432';
  if (!/^\d{1,5}$/.test(port)) throw new Error(`PGPORT must be a port number, got "${port}"`);
  const user = env.PGUSER?.trim() || 'postgres';
  // libpq's default database is the user's name.
  const database = env.PGDATABASE?.trim() || user;
  const password = env.PGPASSWORD ? `:${encodeURIComponent(env.PGPASSWORD)}` : '';
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const url = new URL(`postgres://${encodeURIComponent(user)}${password}@${hostPart}:${port}/`);
  url.pathname = `/${encodeURIComponent(database)}`;
  if (env.PGSSLMODE?.trim()) url.searchParams.set('sslmode', env.PGSSLMODE.trim());
  return url.toString();
}

/** Where the data is, for logs: never the password. */
export function describeStorage(config: ServeConfig): string {
  if (!config.databaseUrl) return `SQLite in ${config.dataDir}`;
  try {
    const url = new URL(config.databaseUrl);
    return `PostgreSQL at ${url.host}${url.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

export interface RunningService {
  url: string;
  storage: Storage;
  /** What became of FLAGSTAFF_ADMIN_TOKEN, when one is configured. */
  adminToken?: AdminTokenOutcome;
  close(): Promise<void>;
}

/** Opens (and migrates) the storage, registers the admin token, and listens. */
export async function startServe(config: ServeConfig): Promise<RunningService> {
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  let service: Awaited<ReturnType<typeof buildFlagService>> | undefined;
  try {
    const adminToken = config.adminToken ? await ensureAdminToken(storage, config.adminToken) : undefined;
    service = await buildFlagService({
      storage,
      logger: config.logger,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
    });
    await service.app.listen({ port: config.port, host: config.host });
    const address = service.app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const running = service;
    return {
      url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
      storage,
      adminToken,
      close: async () => {
        await running.close();
        await storage.close();
      },
    };
  } catch (err) {
    await service?.close().catch(() => {});
    await storage.close().catch(() => {});
    throw err;
  }
}

export type AdminTokenOutcome = 'created' | 'exists' | 'revoked';

/**
 * Makes the given secret a valid admin token unless it already is one. A token that was revoked stays
 * revoked: restarting with an old secret must not undo a revocation. Replicas starting together may race
 * to create it; the loser finds the winner's token.
 */
export async function ensureAdminToken(storage: Storage, secret: string): Promise<AdminTokenOutcome> {
  const hash = hashToken(secret);
  const existing = await storage.get<ApiToken>('tokens', hash);
  if (existing) return existing.value.revoked ? 'revoked' : 'exists';
  // Stored as createToken stores its tokens (by hash, with a hint), but with the secret given rather
  // than a generated one, since the deployment holds it in its secret store.
  const token: ApiToken = {
    id: hash.slice(0, 16),
    name: ADMIN_TOKEN_NAME,
    role: 'admin',
    hint: secret.slice(0, 8),
    createdAt: Date.now(),
    revoked: false,
  };
  try {
    await storage.transaction((tx) => tx.put('tokens', hash, token, { expectRev: 0 }));
  } catch (err) {
    if ((err as Error).name === 'ConflictError' && (await findToken(storage, secret))) return 'exists';
    throw err;
  }
  return 'created';
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `1m`, `1h` (the relay's units; one unit is enough here) or plain milliseconds. */
function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const match = DURATION.exec(value);
  return match ? Number(match[1]) * UNIT_MS[match[2]!]! : undefined;
}

export const SERVE_USAGE = `Usage: flagstaff serve [--port N] [--host ADDR] [--data-dir DIR]

Runs the flag service for production, configured by environment variables:
  PORT                   port (default 8040)             HOST  address (default 0.0.0.0)
  DATABASE_URL           postgres:// URL; or PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE
  FLAGSTAFF_DATA_DIR     SQLite directory when no PostgreSQL is configured (default ./.flagstaff)
  FLAGSTAFF_ADMIN_TOKEN  a secret (20+ characters) registered as an admin API token if it is not one
  HEARTBEAT_INTERVAL     SDK stream heartbeat (default 3m); keep it below a load balancer's idle timeout
  FLAGSTAFF_LOG_REQUESTS false to turn off the JSON request log
`;

/** `flagstaff serve`: runs until SIGTERM/SIGINT; resolves with an exit code only when it cannot start. */
export async function runServe(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  let config: ServeConfig;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(SERVE_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new Error(`Unexpected argument "${positionals[0]}"`);
    config = serveConfig(env, { port: values.port, host: values.host, dataDir: values['data-dir'] });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${SERVE_USAGE}`);
    return 2;
  }

  let running: RunningService;
  try {
    running = await startServe(config);
  } catch (err) {
    process.stderr.write(`flagstaff serve: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  if (running.adminToken === 'revoked') {
    process.stderr.write('FLAGSTAFF_ADMIN_TOKEN names a revoked token: it stays revoked\n');
  } else if (running.adminToken) {
    const state = running.adminToken === 'created' ? 'registered' : 'already registered';
    process.stdout.write(`Admin token from FLAGSTAFF_ADMIN_TOKEN: ${state}\n`);
  }
  // Last, so that whoever waits for this line (a test, a wrapper script) has seen the lines above.
  process.stdout.write(`Flagstaff flag service listening on ${running.url} (${describeStorage(config)})\n`);

  let stopping = false;
  const stop = (signal: string) => {
    // A second signal while closing means the operator does not want to wait.
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write(`${signal}: closing streams and the database\n`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return undefined;
}
