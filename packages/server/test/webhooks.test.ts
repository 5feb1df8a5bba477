import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommittedChange } from '../src/context.js';
import type { AuditEntry, Webhook } from '../src/domain/types.js';
import {
  type DeliveryRecord,
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  webhookRoutes,
} from '../src/webhooks/index.js';
import { type Seeded, seed } from './support/eventsSeed.js';

/** A local webhook receiver: records requests, answers with queued statuses (then 200). */
interface Receiver {
  url: string;
  requests: { headers: IncomingHttpHeaders; body: string }[];
  answers: number[];
  /** Requests are held without an answer while true. */
  hang: boolean;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const held: (() => void)[] = [];
  const receiver: Receiver = {
    url: '',
    requests: [],
    answers: [],
    hang: false,
    close: async () => {
      for (const release of held) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (receiver.hang) {
        held.push(() => res.destroy());
        return;
      }
      const status = receiver.answers.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status >= 400 ? `receiver says ${status}` : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}

const silent = { warn() {} };
const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

let s: Seeded;
let app: FastifyInstance;
let receiver: Receiver;
const dispatchers: WebhookDispatcher[] = [];

beforeEach(async () => {
  s = await seed();
  app = Fastify();
  await app.register(webhookRoutes(s.ctx), { prefix: '/api/v1' });
  await app.ready();
  receiver = await startReceiver();
});

afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.close();
  await app.close();
  await receiver.close();
  await s.storage.close();
});

const api = (
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  token = s.tokens.admin,
) =>
  app.inject({
    method,
    url: `/api/v1${url}`,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });

async function createHook(body: Record<string, unknown> = {}): Promise<Webhook> {
  const res = await api('POST', '/projects/shop/webhooks', { name: 'sync', url: receiver.url, ...body });
  expect(res.statusCode).toBe(201);
  return res.json();
}

function dispatcher(options: WebhookDispatcherOptions = {}) {
  const d = new WebhookDispatcher(s.ctx, { retryDelaysMs: [20, 20, 20], logger: silent, ...options });
  dispatchers.push(d);
  return d;
}

const change = (over: Partial<CommittedChange> = {}): CommittedChange => ({
  projectKey: 'shop',
  envKey: 'prod',
  kind: 'flag',
  key: 'checkout',
  action: 'update',
  actor: { kind: 'token', id: 't1', name: 'ci' },
  comment: 'ship it',
  current: { key: 'checkout', version: 2, on: true },
  previous: { key: 'checkout', version: 1, on: false },
  ...over,
});

async function deliveries(id: string, query = ''): Promise<(DeliveryRecord & { id: number; at: number })[]> {
  const res = await api(
    'GET',
    `/projects/shop/webhooks/${id}/deliveries${query}`,
    undefined,
    s.tokens.reader,
  );
  expect(res.statusCode).toBe(200);
  return res.json().items;
}

describe('webhook routes', () => {
  it('creates a webhook with a generated secret shown once', async () => {
    const created = await createHook();
    expect(created).toMatchObject({ projectKey: 'shop', name: 'sync', url: receiver.url, enabled: true });
    expect(created.id).toMatch(/^wh_[0-9a-f]{16}$/);
    expect(created.secret).toMatch(/^whsec_.{32}$/);
    const stored = await s.storage.get<Webhook>('webhooks', `shop/${created.id}`);
    expect(stored?.value.secret).toBe(created.secret);

    const list = await api('GET', '/projects/shop/webhooks', undefined, s.tokens.reader);
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual(
      [{ ...created, secret: undefined }].map(({ secret: _, ...rest }) => rest),
    );
    const one = await api('GET', `/projects/shop/webhooks/${created.id}`, undefined, s.tokens.reader);
    expect(one.json().secret).toBeUndefined();
    expect(JSON.stringify(list.json()) + one.body).not.toContain(created.secret);

    const own = await createHook({ secret: 'my-own-secret', enabled: false });
    expect(own.secret).toBe('my-own-secret');
    expect(own.enabled).toBe(false);
  });

  it('needs admin to change webhooks and reader to see them', async () => {
    const hook = await createHook();
    for (const token of [s.tokens.reader, s.tokens.writer]) {
      expect(
        (await api('POST', '/projects/shop/webhooks', { name: 'x', url: receiver.url }, token)).statusCode,
      ).toBe(403);
      expect(
        (await api('PATCH', `/projects/shop/webhooks/${hook.id}`, { name: 'y' }, token)).statusCode,
      ).toBe(403);
      expect((await api('DELETE', `/projects/shop/webhooks/${hook.id}`, undefined, token)).statusCode).toBe(
        403,
      );
    }
    expect((await api('GET', '/projects/shop/webhooks', undefined, 'nope')).statusCode).toBe(401);
    expect(
      (await api('GET', `/projects/shop/webhooks/${hook.id}/deliveries`, undefined, 'nope')).statusCode,
    ).toBe(401);
    expect((await api('GET', '/projects/shop/webhooks', undefined, s.prod.sdkKey)).statusCode).toBe(401);
  });

  it('validates bodies, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ url: receiver.url }, 'name'],
      [{ name: ' ', url: receiver.url }, 'name'],
      [{ name: 'x' }, 'url'],
      [{ name: 'x', url: 'ftp://example.com/hook' }, 'url'],
      [{ name: 'x', url: 'javascript:alert(1)' }, 'url'],
      [{ name: 'x', url: '/relative' }, 'url'],
      [{ name: 'x', url: receiver.url, enabled: 'yes' }, 'enabled'],
      [{ name: 'x', url: receiver.url, secret: '' }, 'secret'],
      [{ name: 'x', url: receiver.url, events: ['*'] }, 'events'],
      [[1], 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await api('POST', '/projects/shop/webhooks', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'invalid_request', field });
    }
    expect((await api('POST', '/projects/nope/webhooks', { name: 'x', url: receiver.url })).statusCode).toBe(
      404,
    );
  });

  it('updates (merge object or JSON Patch) and deletes, with audit entries that hold no secret', async () => {
    const hook = await createHook();
    const patched = await api('PATCH', `/projects/shop/webhooks/${hook.id}`, {
      name: 'renamed',
      enabled: false,
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ id: hook.id, name: 'renamed', enabled: false });
    expect(patched.json().secret).toBeUndefined();
    const jsonPatch = await api('PATCH', `/projects/shop/webhooks/${hook.id}`, [
      { op: 'replace', path: '/url', value: 'https://example.com/other' },
    ]);
    expect(jsonPatch.json().url).toBe('https://example.com/other');
    const bad = await api('PATCH', `/projects/shop/webhooks/${hook.id}`, { url: 'file:///etc/passwd' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('url');
    expect(
      (await api('PATCH', '/projects/shop/webhooks/wh_0000000000000000', { name: 'x' })).statusCode,
    ).toBe(404);

    expect((await api('DELETE', `/projects/shop/webhooks/${hook.id}`)).statusCode).toBe(204);
    expect((await api('DELETE', `/projects/shop/webhooks/${hook.id}`)).statusCode).toBe(404);
    expect(
      (await api('GET', `/projects/shop/webhooks/${hook.id}`, undefined, s.tokens.reader)).statusCode,
    ).toBe(404);

    const audit = await s.storage.queryLog<AuditEntry>('audit', { scopePrefix: 'shop/' });
    expect(audit.map((e) => e.value.action)).toEqual(['delete', 'update', 'update', 'create']);
    expect(audit[0]?.value).toMatchObject({
      actor: { kind: 'token', name: 'admin' },
      resource: { kind: 'webhook' },
    });
    expect(JSON.stringify(audit)).not.toContain(hook.secret);
  });
});

describe('deliveries', () => {
  it('posts a signed JSON payload that a receiver can verify with the secret', async () => {
    const hook = await createHook();
    const d = dispatcher();
    d.handle(change());
    await d.idle();
    expect(receiver.requests).toHaveLength(1);
    const { headers, body } = receiver.requests[0]!;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['user-agent']).toBe('Flagstaff-Webhook/0.1');
    expect(headers['x-flagstaff-signature']).toBe(`sha256=${hmac(hook.secret, body)}`);
    expect(headers['x-ld-signature']).toBe(hmac(hook.secret, body));
    expect(headers['x-flagstaff-signature']).not.toBe(`sha256=${hmac('wrong secret', body)}`);
    const payload = JSON.parse(body);
    expect(payload).toEqual({
      kind: 'flag',
      action: 'update',
      project: 'shop',
      environment: 'prod',
      key: 'checkout',
      actor: { kind: 'token', id: 't1', name: 'ci' },
      comment: 'ship it',
      date: expect.any(Number),
      current: { key: 'checkout', version: 2, on: true },
      previous: { key: 'checkout', version: 1, on: false },
    });

    const log = await deliveries(hook.id);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      webhookId: hook.id,
      attempt: 1,
      status: 'succeeded',
      willRetry: false,
      responseCode: 200,
      url: receiver.url,
      event: { kind: 'flag', action: 'update', key: 'checkout', environment: 'prod' },
    });
    expect(log[0]?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('delivers segment changes and project-wide flag changes; ignores environment and project changes', async () => {
    await createHook();
    const d = dispatcher();
    d.handle(change({ kind: 'segment', key: 'beta', action: 'create', previous: undefined }));
    d.handle(change({ envKey: undefined, action: 'archive', comment: undefined }));
    d.handle(change({ kind: 'environment', key: 'prod' }));
    d.handle(change({ kind: 'project', key: 'shop' }));
    await d.idle();
    const payloads = receiver.requests.map((r) => JSON.parse(r.body));
    expect(payloads.map((p) => `${p.kind}:${p.key}:${p.action}`).sort()).toEqual([
      'flag:checkout:archive',
      'segment:beta:create',
    ]);
    const segment = payloads.find((p) => p.kind === 'segment');
    expect(segment.previous).toBeNull();
    const flag = payloads.find((p) => p.kind === 'flag');
    expect('environment' in flag).toBe(false);
    expect('comment' in flag).toBe(false);
  });

  it('retries after a 500 and logs both attempts, newest first', async () => {
    const hook = await createHook();
    receiver.answers.push(500);
    const d = dispatcher();
    d.handle(change());
    await d.idle();
    expect(receiver.requests).toHaveLength(2);
    // Same body and delivery id on the retry, so receivers can de-duplicate.
    expect(receiver.requests[1]?.body).toBe(receiver.requests[0]?.body);
    expect(receiver.requests[1]?.headers['x-flagstaff-delivery']).toBe(
      receiver.requests[0]?.headers['x-flagstaff-delivery'],
    );
    const log = await deliveries(hook.id);
    expect(log.map((e) => [e.attempt, e.status, e.responseCode, e.willRetry])).toEqual([
      [2, 'succeeded', 200, false],
      [1, 'failed', 500, true],
    ]);
    expect(log[1]).toMatchObject({ error: 'HTTP 500', responseExcerpt: 'receiver says 500' });
    expect(log[1]?.nextAttemptAt).toEqual(expect.any(Number));
    expect(log[0]?.deliveryId).toBe(log[1]?.deliveryId);
    // Paging backwards.
    const older = await deliveries(hook.id, `?limit=1&before=${log[0]?.id}`);
    expect(older.map((e) => e.attempt)).toEqual([1]);
  });

  it('retries 429 and network errors, gives up after the last backoff step', async () => {
    const hook = await createHook();
    receiver.answers.push(429, 503, 502, 500);
    const d = dispatcher({ retryDelaysMs: [5, 5, 5] });
    d.handle(change());
    await d.idle();
    expect(receiver.requests).toHaveLength(4);
    const log = await deliveries(hook.id);
    expect(log.map((e) => [e.attempt, e.responseCode, e.willRetry])).toEqual([
      [4, 500, false],
      [3, 502, true],
      [2, 503, true],
      [1, 429, true],
    ]);

    // Nothing listening: connection refused, retried.
    const closed = await startReceiver();
    await closed.close();
    const dead = await createHook({ url: closed.url });
    await api('PATCH', `/projects/shop/webhooks/${hook.id}`, { enabled: false });
    d.handle(change());
    await d.idle();
    const refused = await deliveries(dead.id);
    expect(refused).toHaveLength(4);
    expect(refused[0]).toMatchObject({ status: 'failed', willRetry: false });
    expect(refused[0]?.responseCode).toBeUndefined();
    expect(refused[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it('does not retry other 4xx answers', async () => {
    const hook = await createHook();
    receiver.answers.push(400);
    const d = dispatcher();
    d.handle(change());
    await d.idle();
    expect(receiver.requests).toHaveLength(1);
    const log = await deliveries(hook.id);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ attempt: 1, status: 'failed', responseCode: 400, willRetry: false });
  });

  it('calls only enabled webhooks of the changed project', async () => {
    const on = await createHook();
    const off = await createHook({ enabled: false });
    await s.storage.transaction((tx) =>
      tx.put('webhooks', 'other/wh_1111111111111111', {
        ...on,
        id: 'wh_1111111111111111',
        projectKey: 'other',
      }),
    );
    const d = dispatcher();
    d.handle(change());
    await d.idle();
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]?.headers['x-flagstaff-signature']).toBe(
      `sha256=${hmac(on.secret, receiver.requests[0]!.body)}`,
    );
    expect(await deliveries(off.id)).toEqual([]);
  });

  it('stops retrying a webhook disabled between attempts', async () => {
    const hook = await createHook();
    receiver.answers.push(500, 500, 500);
    const d = dispatcher({ retryDelaysMs: [200, 200, 200] });
    d.handle(change());
    await expect.poll(() => receiver.requests.length).toBe(1);
    await api('PATCH', `/projects/shop/webhooks/${hook.id}`, { enabled: false });
    await d.idle();
    expect(receiver.requests).toHaveLength(1);
  });

  it('never blocks or fails the caller: handle() returns at once, slow receivers time out', async () => {
    const hook = await createHook();
    receiver.hang = true;
    const d = dispatcher({ timeoutMs: 100, retryDelaysMs: [10] });
    // handle() is synchronous and returns nothing to await: the caller never waits for delivery.
    expect(d.handle(change())).toBeUndefined();
    expect(receiver.requests).toHaveLength(0);
    await d.idle();
    const log = await deliveries(hook.id);
    expect(log.map((e) => [e.attempt, e.error])).toEqual([
      [2, 'timed out after 100 ms'],
      [1, 'timed out after 100 ms'],
    ]);

    // A broken storage is reported to the logger, never thrown at the caller.
    const warnings: string[] = [];
    const broken = new WebhookDispatcher(
      { ...s.ctx, storage: { ...s.storage, list: () => Promise.reject(new Error('db down')) } as never },
      { logger: { warn: (m) => warnings.push(m) } },
    );
    expect(() => broken.handle(change())).not.toThrow();
    await broken.idle();
    expect(warnings).toEqual([expect.stringContaining('db down')]);
  });

  it('close() cancels pending retries', async () => {
    const hook = await createHook();
    receiver.answers.push(500);
    const d = dispatcher({ retryDelaysMs: [60_000] });
    d.handle(change());
    await expect.poll(async () => (await deliveries(hook.id)).length).toBe(1);
    const started = performance.now();
    await d.close();
    // The pending retry was due in 60 s: close() did not wait for it (a generous bound, not a speed test).
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(receiver.requests).toHaveLength(1);
    expect(await deliveries(hook.id)).toHaveLength(1);
    // A closed dispatcher ignores new changes.
    d.handle(change());
    await d.idle();
    expect(receiver.requests).toHaveLength(1);
  });

  it('pending retries do not keep the process alive', async () => {
    receiver.answers.push(500);
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const storageModule = fileURLToPath(new URL('../src/storage/sqlite.ts', import.meta.url));
    const webhooksModule = fileURLToPath(new URL('../src/webhooks/index.ts', import.meta.url));
    // The child delivers once (500), schedules a retry in 60 s, and has nothing else to do.
    const script = `
      import { SqliteStorage } from ${JSON.stringify(storageModule)};
      import { WebhookDispatcher } from ${JSON.stringify(webhooksModule)};
      const storage = new SqliteStorage(':memory:');
      await storage.migrate();
      await storage.transaction((tx) => tx.put('webhooks', 'shop/wh_1', {
        id: 'wh_1', projectKey: 'shop', name: 'n', url: ${JSON.stringify(receiver.url)},
        secret: 's', enabled: true, createdAt: 0,
      }));
      const d = new WebhookDispatcher({ storage, now: Date.now, onCommitted() {} }, { retryDelaysMs: [60000] });
      d.handle({ projectKey: 'shop', kind: 'flag', key: 'f', action: 'update',
        actor: { kind: 'system', id: 'system', name: 'system' } });
      while ((await storage.queryLog('webhook_deliveries', {})).length === 0) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const [entry] = await storage.queryLog('webhook_deliveries', {});
      process.stdout.write(JSON.stringify({ attempt: entry.value.attempt, willRetry: entry.value.willRetry }));
    `;
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--conditions=flagstaff-source', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ attempt: 1, willRetry: true });
    expect(receiver.requests).toHaveLength(1);
    // Well before the 60 s retry.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
