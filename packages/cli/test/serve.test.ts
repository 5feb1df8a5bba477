// `flagstaff serve`, the production entry of the flag service: configuration from the environment, the
// admin token a deployment starts with, SQLite and PostgreSQL (as ECS passes an RDS secret's fields),
// replicas starting together, and a clean exit on SIGTERM. The command runs as a real process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStorage } from '@flagstaff/server';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrlFrom, ensureAdminToken, serveConfig } from '../src/serve.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const DATABASE_URL = process.env.FLAGSTAFF_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN_TOKEN = 'serve-test-admin-token-0123456789';

const dirs: string[] = [];
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'flagstaff-serve-'));
  dirs.push(dir);
  return dir;
};

interface Served {
  url: string;
  output: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `flagstaff serve` from the sources, as `npm start` runs the CLI, and waits for its URL. */
function serve(env: Record<string, string>): Promise<Served> {
  const child = spawn(
    process.execPath,
    ['--conditions=flagstaff-source', '--import', 'tsx', 'packages/cli/src/run.ts', 'serve'],
    {
      cwd: REPO,
      // Only what the test sets, plus PATH/HOME: a DATABASE_URL or PG* of the caller must not leak in.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  exited.then(() => children.delete(child));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        resolve({
          url: match[1]!,
          output: () => out,
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then((code) => reject(new Error(`flagstaff serve exited (${code}) before listening:\n${out}`)));
  });
}

async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('serve configuration', () => {
  it('prefers DATABASE_URL and otherwise assembles a URL from the PG* variables', () => {
    expect(databaseUrlFrom({ DATABASE_URL: 'postgres://a@b/c', PGHOST: 'ignored' })).toBe('postgres://a@b/c');
    expect(databaseUrlFrom({})).toBeUndefined();
    const url = databaseUrlFrom({
      PGHOST: 'db.cluster-x.us-east-1.rds.amazonaws.com',
      PGPORT: '5433',
      PGUSER: 'flag staff',
      PGPASSWORD: 'p@ss:w/rd?#%',
      PGDATABASE: 'flagstaff',
      PGSSLMODE: 'verify-full',
    })!;
    const parsed = new URL(url);
    expect(parsed.hostname).toBe('db.cluster-x.us-east-1.rds.amazonaws.com');
    expect(parsed.port).toBe('5433');
    expect(decodeURIComponent(parsed.username)).toBe('flag staff');
    expect(decodeURIComponent(parsed.password)).toBe('p@ss:w/rd?#%');
    expect(parsed.pathname).toBe('/flagstaff');
    expect(parsed.searchParams.get('sslmode')).toBe('verify-full');
    // libpq's defaults: port 5432, database named after the user; an IPv6 host gets brackets.
    expect(databaseUrlFrom({ PGHOST: '::1', PGUSER: 'app' })).toBe('postgres://app@[::1]:5432/app');
  });

  it('defaults to all interfaces on 8040 with SQLite in FLAGSTAFF_DATA_DIR', () => {
    const config = serveConfig({ FLAGSTAFF_DATA_DIR: '/tmp/somewhere' });
    expect(config).toMatchObject({ port: 8040, host: '0.0.0.0', dataDir: '/tmp/somewhere', logger: true });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
    expect(serveConfig({ HEARTBEAT_INTERVAL: '30s' }).heartbeatIntervalMs).toBe(30_000);
    expect(serveConfig({ PORT: '9000' }, { port: '9001', host: '127.0.0.1' })).toMatchObject({
      port: 9001,
      host: '127.0.0.1',
    });
  });

  it('reports every problem at once', () => {
    expect(() =>
      serveConfig({
        PORT: 'eighty',
        PGHOST: 'db',
        PGPORT: 'x',
        FLAGSTAFF_ADMIN_TOKEN: 'short',
        HEARTBEAT_INTERVAL: 'soon',
      }),
    ).toThrowError(
      /PORT must be a port number[\s\S]*PGPORT[\s\S]*at least 20 characters[\s\S]*HEARTBEAT_INTERVAL/,
    );
  });
});

describe('the admin token from FLAGSTAFF_ADMIN_TOKEN', () => {
  it('is created once, found again, and never brought back after a revocation', async () => {
    const storage = await openStorage({ dataDir: tempDir() });
    try {
      expect(await ensureAdminToken(storage, ADMIN_TOKEN)).toBe('created');
      expect(await ensureAdminToken(storage, ADMIN_TOKEN)).toBe('exists');
      expect(await storage.list('tokens', { limit: 10 })).toHaveLength(1);
      const [doc] = await storage.list<{ revoked: boolean }>('tokens', { limit: 1 });
      await storage.transaction((tx) =>
        tx.put('tokens', doc!.id, { ...doc!.value, revoked: true }, { expectRev: doc!.rev }),
      );
      expect(await ensureAdminToken(storage, ADMIN_TOKEN)).toBe('revoked');
      expect(await storage.list('tokens', { limit: 10 })).toHaveLength(1);
    } finally {
      await storage.close();
    }
  });
});

describe('flagstaff serve on SQLite', () => {
  it('serves the admin API with the configured token, keeps data across restarts and exits 0 on SIGTERM', async () => {
    const dataDir = tempDir();
    const env = {
      FLAGSTAFF_DATA_DIR: dataDir,
      FLAGSTAFF_ADMIN_TOKEN: ADMIN_TOKEN,
      FLAGSTAFF_LOG_REQUESTS: 'false',
    };
    const first = await serve(env);
    try {
      expect(first.output()).toContain(`SQLite in ${dataDir}`);
      expect(first.output()).toContain('FLAGSTAFF_ADMIN_TOKEN: registered');
      expect(first.output()).not.toContain(ADMIN_TOKEN);
      const health = await fetch(`${first.url}/health`);
      expect(await health.json()).toEqual({ status: 'ok', storage: 'sqlite' });
      expect((await api(first.url, 'not-a-token', 'GET', '/projects')).status).toBe(401);
      const created = await api(first.url, ADMIN_TOKEN, 'POST', '/projects', { key: 'shop', name: 'Shop' });
      expect(created.status).toBe(201);
    } finally {
      expect(await first.stop('SIGTERM')).toBe(0);
    }
    expect(first.output()).toContain('SIGTERM: closing streams and the database');

    const second = await serve(env);
    try {
      expect(second.output()).toContain('FLAGSTAFF_ADMIN_TOKEN: already registered');
      const projects = await api(second.url, ADMIN_TOKEN, 'GET', '/projects');
      expect((projects.body.items as { key: string }[]).map((p) => p.key)).toEqual(['shop']);
    } finally {
      expect(await second.stop('SIGINT')).toBe(0);
    }
  });

  it('refuses a bad configuration with exit code 2 and every problem listed', async () => {
    await expect(serve({ PORT: 'x', FLAGSTAFF_ADMIN_TOKEN: 'short' })).rejects.toThrowError(
      /exited \(2\)[\s\S]*PORT must be a port number[\s\S]*at least 20 characters/,
    );
  });
});

describe('flagstaff serve on PostgreSQL', () => {
  /** A database of its own, so the migrations, the token and the LISTEN channel start from nothing. */
  async function freshDatabase(): Promise<{ name: string; drop(): Promise<void> }> {
    const name = `flagstaff_serve_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await admin.connect();
    } catch (err) {
      throw new Error(`PostgreSQL is not reachable at ${DATABASE_URL} (${(err as Error).message})`);
    }
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return {
      name,
      drop: async () => {
        const client = new pg.Client({ connectionString: DATABASE_URL });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await client.end();
      },
    };
  }

  it('runs two replicas from the PG* variables of an RDS secret, sharing data and one admin token', async () => {
    const db = await freshDatabase();
    const server = new URL(DATABASE_URL);
    // What ECS puts in the task from the fields of the Aurora secret (trust auth here: no password).
    const env = {
      PGHOST: server.hostname,
      PGPORT: server.port || '5432',
      PGUSER: decodeURIComponent(server.username) || 'postgres',
      PGDATABASE: db.name,
      FLAGSTAFF_ADMIN_TOKEN: ADMIN_TOKEN,
      FLAGSTAFF_LOG_REQUESTS: 'false',
    };
    const started: Served[] = [];
    try {
      // Started together: both migrate (under PostgreSQL's advisory lock) and race to create the token.
      started.push(...(await Promise.all([serve(env), serve(env)])));
      const [a, b] = started as [Served, Served];
      for (const replica of [a, b]) {
        expect(replica.output()).toContain(`PostgreSQL at ${env.PGHOST}:${env.PGPORT}/${db.name}`);
        expect(replica.output()).toMatch(/FLAGSTAFF_ADMIN_TOKEN: (registered|already registered)/);
        expect(await (await fetch(`${replica.url}/health`)).json()).toEqual({
          status: 'ok',
          storage: 'postgres',
        });
      }
      const tokens = await api(b.url, ADMIN_TOKEN, 'GET', '/tokens');
      expect(tokens.body.items).toHaveLength(1);

      expect((await api(a.url, ADMIN_TOKEN, 'POST', '/projects', { key: 'shop', name: 'Shop' })).status).toBe(
        201,
      );
      const seen = await api(b.url, ADMIN_TOKEN, 'GET', '/projects/shop/environments');
      expect((seen.body.items as { key: string }[]).map((e) => e.key).sort()).toEqual(['production', 'test']);
    } finally {
      const codes = await Promise.all(started.map((replica) => replica.stop('SIGTERM')));
      expect(codes).toEqual(started.map(() => 0));
      await db.drop();
    }
  });

  it('uses DATABASE_URL as given', async () => {
    const db = await freshDatabase();
    const url = new URL(DATABASE_URL);
    url.pathname = `/${db.name}`;
    let served: Served | undefined;
    try {
      served = await serve({ DATABASE_URL: url.toString(), FLAGSTAFF_LOG_REQUESTS: 'false' });
      expect(await (await fetch(`${served.url}/health`)).json()).toEqual({
        status: 'ok',
        storage: 'postgres',
      });
      const check = new pg.Client({ connectionString: url.toString() });
      await check.connect();
      const applied = await check.query('SELECT count(*)::int AS n FROM migrations');
      await check.end();
      expect(applied.rows[0].n).toBeGreaterThan(0);
    } finally {
      expect(await served?.stop('SIGTERM')).toBe(0);
      await db.drop();
    }
  });
});
