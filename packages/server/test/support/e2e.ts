// The whole service as an operator runs it, for the end-to-end tests: `buildFlagService` over a real
// storage (a SQLite file, or PostgreSQL in a throwaway schema), listening on a real port, driven only
// through HTTP. Also what several tests share: the admin API client, the scenario every test builds
// through it, the SDKs under test, and a TCP gate that can cut a replica off from PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flagstaff from '@flagstaff/node-server-sdk';
import * as official from '@launchdarkly/node-server-sdk';
import pg from 'pg';
import { expect } from 'vitest';
import { buildFlagService, type FlagService } from '../../src/app.js';
import { createToken } from '../../src/domain/tokens.js';
import { openStorage, type Storage } from '../../src/storage/index.js';
import type { Answer } from './adminApp.js';

export type { Answer } from './adminApp.js';

// As in storage.test.ts: PostgreSQL is part of the test environment, so an unreachable server fails
// the PostgreSQL tests (with this URL in the message) rather than skipping them.
export const DATABASE_URL =
  process.env.FLAGSTAFF_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Deadlines are generous on purpose: the tests run on a small shared machine, and each wait ends as
// soon as its condition holds, so a long deadline costs nothing when things work.
export const WAIT_MS = 30_000;
export const waitOptions = { timeout: WAIT_MS, interval: 50 } as const;

// ---------------------------------------------------------------------------------------------------
// Backends

/** A migrated storage and whatever shares its data (another replica's connection), for one test file. */
export interface BackendFixture {
  storage: Storage;
  /** Another storage on the same data: a second replica. */
  openAnother(options?: { databaseUrl?: string; onError?: (message: string) => void }): Promise<Storage>;
  /** PostgreSQL only: the schema holding the tables. */
  schema?: string;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: 'SQLite' | 'PostgreSQL';
  open(): Promise<BackendFixture>;
}

let schemaCount = 0;

/** A pool for test bookkeeping (schemas, pg_stat_activity), after checking the server answers. */
export async function adminPool(): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL} (${(err as Error).message}). ` +
        'The end-to-end tests need it: start PostgreSQL or set FLAGSTAFF_TEST_DATABASE_URL.',
    );
  }
  return pool;
}

export const backends: Backend[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'flagstaff-e2e-'));
      const opened: Storage[] = [await openStorage({ dataDir: dir })];
      return {
        storage: opened[0]!,
        async openAnother() {
          const another = await openStorage({ dataDir: dir });
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
    async open() {
      const admin = await adminPool();
      const schema = `flagstaff_e2e_${process.pid}_${Date.now().toString(36)}_${++schemaCount}`;
      const opened: Storage[] = [];
      try {
        opened.push(await openStorage({ databaseUrl: DATABASE_URL, schema }));
      } catch (err) {
        await admin.end();
        throw err;
      }
      return {
        storage: opened[0]!,
        schema,
        async openAnother(options = {}) {
          const another = await openStorage({
            databaseUrl: options.databaseUrl ?? DATABASE_URL,
            schema,
            onError: options.onError,
          });
          opened.push(another);
          return another;
        },
        async cleanup() {
          try {
            for (const storage of opened) await storage.close();
            await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          } finally {
            await admin.end();
          }
        },
      };
    },
  },
];

/** Creates an admin API token straight in storage: the one bootstrap step HTTP cannot do. */
export function bootstrapAdminToken(storage: Storage): Promise<string> {
  return storage.transaction(async (tx) => (await createToken(tx, 'e2e admin', 'admin')).secret);
}

// ---------------------------------------------------------------------------------------------------
// The service over HTTP

export interface RunningService {
  service: FlagService;
  /** `http://127.0.0.1:<port>`: what SDKs get as baseUri, streamUri and eventsUri. */
  url: string;
  api: AdminClient;
  close(): Promise<void>;
}

/** Builds the service on `storage` and listens on a free port; the caller still owns the storage. */
export async function startService(storage: Storage, adminToken: string): Promise<RunningService> {
  const service = await buildFlagService({ storage, logger: false });
  const url = await service.app.listen({ port: 0, host: '127.0.0.1' });
  return { service, url, api: new AdminClient(url, adminToken), close: () => service.close() };
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** The admin API over real HTTP with fetch, authenticated with a token (the admin's by default). */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  /** Any request; `token: null` sends no Authorization header. Paths are relative to `/api/v1`. */
  async call(method: Method, path: string, options: { body?: unknown; token?: string | null } = {}) {
    return request(this.baseUrl, method, `/api/v1${path}`, {
      body: options.body,
      authorization: options.token === null ? undefined : `Bearer ${options.token ?? this.token}`,
    });
  }

  /** A request that must succeed with `status`; the answer's body. Fails with the body otherwise. */
  // biome-ignore lint/suspicious/noExplicitAny: answers are arbitrary JSON, read loosely by the tests
  async expect(status: number, method: Method, path: string, body?: unknown): Promise<any> {
    const answer = await this.call(method, path, { body });
    if (answer.status !== status) {
      throw new Error(
        `${method} ${path}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    }
    return answer.body;
  }

  /** Semantic-patch instructions on a flag's targeting in one environment; the new targeting. */
  // biome-ignore lint/suspicious/noExplicitAny: see expect
  instruct(project: string, env: string, flag: string, ...instructions: object[]): Promise<any> {
    return this.expect(200, 'PATCH', `/projects/${project}/environments/${env}/flags/${flag}`, {
      instructions,
    });
  }
}

/** One HTTP request with fetch; a JSON body is parsed, anything else is kept as text. */
export async function request(
  baseUrl: string,
  method: Method,
  path: string,
  options: { body?: unknown; authorization?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: assertions expecting JSON fail on the text, which then shows in the message.
  }
  return { status: res.status, body, headers: Object.fromEntries(res.headers) };
}

// ---------------------------------------------------------------------------------------------------
// The scenario

export interface Keys {
  sdkKey: string;
  mobileKey: string;
  clientSideId: string;
}

export interface Scenario {
  project: string;
  production: Keys;
  test: Keys;
}

/** The boolean flag: fallthrough false; users with an @example.com email get true through a rule. */
export const BOOLEAN_FLAG = 'new-checkout';
export const EMAIL_RULE = 'example-staff';
/** The multivariate flag: blue by default, red for the `beta` segment; visible to client-side SDKs. */
export const MULTI_FLAG = 'banner';
export const SEGMENT_RULE = 'beta-testers';
export const SEGMENT = 'beta';

export const contexts = {
  /** Matches the email rule. */
  staff: { kind: 'user', key: 'alice', email: 'alice@example.com' },
  /** Matches nothing: fallthrough for both flags. */
  outsider: { kind: 'user', key: 'bob', email: 'bob@elsewhere.org' },
  /** In the `beta` segment. */
  beta: { kind: 'user', key: 'tama', email: 'tama@elsewhere.org' },
} as const;

/**
 * Builds the test data the way a user would, through the admin API only: a project (with its default
 * environments production and test), a boolean flag with an email rule, a multivariate flag with a
 * rule on a segment, both turned on in production and left off in test.
 */
export async function createScenario(api: AdminClient, project: string): Promise<Scenario> {
  const created = await api.expect(201, 'POST', '/projects', { key: project, name: `E2E ${project}` });
  const envs = created.environments as (Keys & { key: string })[];
  expect(envs.map((e) => e.key).sort()).toEqual(['production', 'test']);
  const keysOf = (key: string): Keys => {
    const env = envs.find((e) => e.key === key)!;
    return { sdkKey: env.sdkKey, mobileKey: env.mobileKey, clientSideId: env.clientSideId };
  };

  const bool = await api.expect(201, 'POST', `/projects/${project}/flags`, {
    key: BOOLEAN_FLAG,
    name: 'New checkout',
    // Off and fallthrough both serve false, so only the rule serves true.
    defaults: { onVariation: 1, offVariation: 1 },
  });
  expect(bool).toMatchObject({ kind: 'boolean', variations: [{ value: true }, { value: false }] });
  const withRule = await api.instruct(project, 'production', BOOLEAN_FLAG, {
    kind: 'addRule',
    id: EMAIL_RULE,
    clauses: [{ contextKind: 'user', attribute: 'email', op: 'endsWith', values: ['@example.com'] }],
    variation: 0,
  });
  expect(withRule).toMatchObject({ on: false, version: 2, rules: [{ id: EMAIL_RULE, variation: 0 }] });
  expect(await api.instruct(project, 'production', BOOLEAN_FLAG, { kind: 'turnFlagOn' })).toMatchObject({
    on: true,
    version: 3,
  });

  const multi = await api.expect(201, 'POST', `/projects/${project}/flags`, {
    key: MULTI_FLAG,
    name: 'Banner colour',
    variations: [{ value: 'blue' }, { value: 'green' }, { value: 'red' }],
    clientSideAvailability: { usingEnvironmentId: true, usingMobileKey: false },
  });
  expect(multi).toMatchObject({ kind: 'multivariate' });
  await api.expect(201, 'POST', `/projects/${project}/environments/production/segments`, {
    key: SEGMENT,
    name: 'Beta testers',
    included: [contexts.beta.key],
  });
  const segmentRule = await api.instruct(
    project,
    'production',
    MULTI_FLAG,
    { kind: 'addRule', id: SEGMENT_RULE, clauses: [{ op: 'segmentMatch', values: [SEGMENT] }], variation: 2 },
    { kind: 'turnFlagOn' },
  );
  expect(segmentRule).toMatchObject({ on: true, version: 2, fallthrough: { variation: 0 } });

  return { project, production: keysOf('production'), test: keysOf('test') };
}

// ---------------------------------------------------------------------------------------------------
// SDKs

/** The part of the client API both SDKs share and these tests use. */
export interface SdkClient {
  waitForInitialization(options?: { timeout?: number }): Promise<unknown>;
  variationDetail(
    key: string,
    context: object,
    defaultValue: unknown,
  ): Promise<{ value: unknown; variationIndex?: number | null; reason: unknown }>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  flush(): Promise<unknown>;
  close(): unknown;
}

export interface SdkOptions {
  baseUri: string;
  streamUri: string;
  eventsUri: string;
  stream: boolean;
  sendEvents: boolean;
  diagnosticOptOut: boolean;
  logger: typeof silentLogger;
}

export const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };

export interface Sdk {
  name: string;
  /** Short, for project keys. */
  id: string;
  init(sdkKey: string, options: SdkOptions): SdkClient;
}

export const sdks: Sdk[] = [
  {
    name: 'official @launchdarkly/node-server-sdk v9',
    id: 'official',
    init: (key, options) => official.init(key, options) as unknown as SdkClient,
  },
  {
    name: '@flagstaff/node-server-sdk',
    id: 'flagstaff',
    init: (key, options) => flagstaff.init(key, options) as unknown as SdkClient,
  },
];

/** Options pointing every SDK endpoint at one service, streaming, with events on but no diagnostics. */
export function sdkOptions(url: string, overrides: Partial<SdkOptions> = {}): SdkOptions {
  return {
    baseUri: url,
    streamUri: url,
    eventsUri: url,
    stream: true,
    sendEvents: true,
    diagnosticOptOut: true,
    logger: silentLogger,
    ...overrides,
  };
}

/**
 * Resolves on the client's next `update:<key>` event. Call it before making the change, so that an
 * update arriving before the change's HTTP answer is not missed.
 */
export function nextUpdate(client: SdkClient, key: string, timeoutMs = WAIT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const listener = () => {
      clearTimeout(timer);
      client.off(`update:${key}`, listener);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off(`update:${key}`, listener);
      reject(new Error(`no update:${key} event within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on(`update:${key}`, listener);
  });
}

/** A context for the GET evaluation routes: JSON in base64url. */
export function encodeContext(context: object): string {
  return Buffer.from(JSON.stringify(context)).toString('base64url');
}

export const HOUR_MS = 3_600_000;
export const hourOf = (time: number) => Math.floor(time / HOUR_MS) * HOUR_MS;

// ---------------------------------------------------------------------------------------------------
// A TCP gate in front of PostgreSQL

/**
 * A TCP proxy to PostgreSQL that can stop letting new connections through while existing ones keep
 * working. A storage connected through it can then be kept from reconnecting its change listener,
 * which makes "a change committed while the listener is down" a certainty instead of a race against
 * the storage's reconnect delay.
 */
export class PostgresGate {
  private accepting = true;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(databaseUrl: string): Promise<PostgresGate> {
    const target = new URL(databaseUrl);
    const host = target.hostname || '127.0.0.1';
    const port = Number(target.port || 5432);
    let gate: PostgresGate | undefined;
    const server = createServer((client) => gate!.accept(client, host, port));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the gate has no TCP port');
    gate = new PostgresGate(server, address.port);
    return gate;
  }

  /** `databaseUrl` going through the gate, with extra query parameters (e.g. application_name). */
  url(databaseUrl: string, params: Record<string, string> = {}): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  }

  /** New connections are cut at once (the client sees the connection end); open ones are untouched. */
  shut(): void {
    this.accepting = false;
  }

  reopen(): void {
    this.accepting = true;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (!this.accepting) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(port, host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    }
    // Either side failing ends both, as a dropped connection would.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
