import Fastify, { type FastifyInstance } from 'fastify';
import { adminApi, registerOpenApi } from '../../src/api/index.js';
import type { CommittedChange, ServerContext } from '../../src/context.js';
import { createToken } from '../../src/domain/tokens.js';
import type { Role } from '../../src/domain/types.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import type { ChangeNotice } from '../../src/storage/types.js';

export interface Answer {
  status: number;
  // Tests read answers loosely: each assertion names the fields it expects.
  // biome-ignore lint/suspicious/noExplicitAny: answers are arbitrary JSON
  body: any;
  headers: Record<string, unknown>;
}

export interface CallOptions {
  /** A token secret, a role name for the harness's own tokens, or null for no Authorization header. */
  token?: string | Role | null;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An admin API over in-memory SQLite, with a token of each role and a controllable clock. */
export interface AdminHarness {
  app: FastifyInstance;
  storage: SqliteStorage;
  ctx: ServerContext;
  clock: { now: number };
  committed: CommittedChange[];
  notices: ChangeNotice[];
  tokens: Record<Role, string>;
  call(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    options?: CallOptions,
  ): Promise<Answer>;
  close(): Promise<void>;
}

export async function adminApp(): Promise<AdminHarness> {
  const storage = new SqliteStorage(':memory:');
  await storage.migrate();
  const clock = { now: 1_700_000_000_000 };
  const committed: CommittedChange[] = [];
  const notices: ChangeNotice[] = [];
  storage.subscribe((n) => notices.push(n));
  const ctx: ServerContext = { storage, now: () => clock.now, onCommitted: (c) => committed.push(c) };
  const tokens = {} as Record<Role, string>;
  for (const role of ['reader', 'writer', 'admin'] as const) {
    tokens[role] = await storage.transaction(
      async (tx) => (await createToken(tx, `${role} token`, role)).secret,
    );
  }
  const app = Fastify();
  await registerOpenApi(app);
  await app.register(adminApi(ctx), { prefix: '/api/v1' });
  await app.ready();

  const call: AdminHarness['call'] = async (method, url, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? 'admin' : options.token;
    if (token !== null) {
      headers.authorization = `Bearer ${token in tokens ? tokens[token as Role] : token}`;
    }
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await app.inject({
      method,
      url: url.startsWith('/api') ? url : `/api/v1${url}`,
      headers,
      payload,
    });
    const text = res.body;
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: tests asserting JSON answers will fail on the text.
    }
    return { status: res.statusCode, body, headers: res.headers };
  };

  return {
    app,
    storage,
    ctx,
    clock,
    committed,
    notices,
    tokens,
    call,
    close: async () => {
      await app.close();
      await storage.close();
    },
  };
}
