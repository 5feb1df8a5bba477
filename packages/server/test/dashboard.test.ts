// The dashboard's two seams in the service: the built single-page app served at `/` (with the history
// fallback kept away from the API and the SDK routes), and the admin change stream the app follows
// for live updates. A stand-in build (index.html, a hashed asset, a favicon) keeps this file
// independent of Vite; packages/dashboard/test drives the real build in Chromium.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFlagService, type FlagService } from '../src/app.js';
import { isPageRequest } from '../src/dashboard/index.js';
import { createToken } from '../src/domain/tokens.js';
import { SqliteStorage } from '../src/storage/sqlite.js';
import { SseClient } from './support/sseClient.js';

const INDEX =
  '<!doctype html><title>Flagstaff</title><script type="module" src="/assets/app-1a2b3c.js"></script>';
let dist: string;

beforeAll(() => {
  dist = mkdtempSync(join(tmpdir(), 'flagstaff-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'app-1a2b3c.js'), 'console.log("app")');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
});
afterAll(() => rmSync(dist, { recursive: true, force: true }));

const open: { service: FlagService; storage: SqliteStorage }[] = [];
afterEach(async () => {
  for (const { service, storage } of open.splice(0)) {
    await service.close();
    await storage.close();
  }
});

async function start(options: Partial<Parameters<typeof buildFlagService>[0]> = {}) {
  const storage = new SqliteStorage(':memory:');
  await storage.migrate();
  const service = await buildFlagService({ storage, ...options });
  open.push({ service, storage });
  const token = await storage.transaction(async (tx) => (await createToken(tx, 'admin', 'admin')).secret);
  return { service, storage, token };
}

const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('serving the dashboard', () => {
  it('serves index.html at / with a content security policy, and hashed assets as immutable', async () => {
    const { service } = await start({ dashboard: { dir: dist } });
    expect(service.dashboardDir).toBe(dist);
    const index = await service.app.inject({ url: '/', headers: html });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect(index.body).toBe(INDEX);
    const asset = await service.app.inject({ url: '/assets/app-1a2b3c.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['content-type']).toContain('javascript');
    const icon = await service.app.inject({ url: '/favicon.svg' });
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect((await service.app.inject({ url: '/assets/missing.js' })).statusCode).toBe(404);
  });

  it('answers page paths with index.html, and never API, SDK or non-page requests', async () => {
    const { service } = await start({ dashboard: { dir: dist } });
    for (const url of ['/projects/demo/flags', '/projects/demo/flags/new-search?env=test', '/sign-in']) {
      const res = await service.app.inject({ url, headers: html });
      expect({ url, status: res.statusCode, body: res.body }).toEqual({ url, status: 200, body: INDEX });
    }
    // The admin API keeps its JSON 404 even for a browser.
    const api = await service.app.inject({ url: '/api/v1/nothing-here', headers: html });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: 'not_found' });
    // Mistyped SDK and event routes stay plain 404s an SDK can log.
    for (const url of [
      '/flags/x',
      '/sdk/latest-nothing',
      '/msdk/evalx',
      '/eval',
      '/meval',
      '/mping/x',
      '/bulk/x',
      '/mobile/x',
      '/events/x',
      '/health/x',
      '/ping',
    ]) {
      const res = await service.app.inject({ url, headers: html });
      expect({ url, status: res.statusCode, html: res.body.includes('<title>') }).toEqual({
        url,
        status: 404,
        html: false,
      });
    }
    // Not a page load: JSON clients and other methods get Fastify's 404.
    const json = await service.app.inject({ url: '/projects/demo', headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(404);
    expect(json.json()).toEqual({
      message: 'Route GET:/projects/demo not found',
      error: 'Not Found',
      statusCode: 404,
    });
    expect(
      (await service.app.inject({ method: 'POST', url: '/projects/demo', headers: html })).statusCode,
    ).toBe(404);
    // HEAD follows GET.
    expect(
      (await service.app.inject({ method: 'HEAD', url: '/projects/demo/audit', headers: html })).statusCode,
    ).toBe(200);
  });

  it('classifies page requests by method, Accept header and first path segment', () => {
    const request = (method: string, url: string, accept?: string) =>
      ({ method, url, headers: accept ? { accept } : {} }) as Parameters<typeof isPageRequest>[0];
    expect(isPageRequest(request('GET', '/projects/p/flags', 'text/html'))).toBe(true);
    expect(isPageRequest(request('GET', '/projects/p/flags'))).toBe(false);
    expect(isPageRequest(request('DELETE', '/projects/p/flags', 'text/html'))).toBe(false);
    expect(isPageRequest(request('GET', '/all/x', 'text/html'))).toBe(false);
    expect(isPageRequest(request('GET', '/apis', 'text/html'))).toBe(true);
  });

  it('runs without a UI when turned off, and refuses a configured directory without index.html', async () => {
    const { service } = await start({ dashboard: false });
    expect(service.dashboardDir).toBeUndefined();
    expect((await service.app.inject({ url: '/', headers: html })).statusCode).toBe(404);
    const storage = new SqliteStorage(':memory:');
    await storage.migrate();
    const empty = mkdtempSync(join(tmpdir(), 'flagstaff-empty-'));
    try {
      await expect(buildFlagService({ storage, dashboard: { dir: empty } })).rejects.toThrow(
        /index\.html does not exist/,
      );
    } finally {
      await storage.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('finds the build through FLAGSTAFF_DASHBOARD_DIR by default', async () => {
    const previous = process.env.FLAGSTAFF_DASHBOARD_DIR;
    process.env.FLAGSTAFF_DASHBOARD_DIR = dist;
    try {
      const { service } = await start();
      expect(service.dashboardDir).toBe(dist);
      expect((await service.app.inject({ url: '/projects/x/flags', headers: html })).body).toBe(INDEX);
    } finally {
      if (previous === undefined) delete process.env.FLAGSTAFF_DASHBOARD_DIR;
      else process.env.FLAGSTAFF_DASHBOARD_DIR = previous;
    }
  });
});

describe('admin change stream', () => {
  async function listening(heartbeatMs?: number) {
    const started = await start({ dashboard: false, adminStreamHeartbeatMs: heartbeatMs });
    await started.service.app.listen({ port: 0, host: '127.0.0.1' });
    const address = started.service.app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${started.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      const text = await res.text();
      return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    };
    await call('POST', '/projects', { key: 'shop', name: 'Shop' });
    await call('POST', '/projects', { key: 'other', name: 'Other' });
    return { ...started, url, call };
  }

  it('needs a token and an existing project', async () => {
    const { url, token } = await listening();
    expect((await fetch(`${url}/api/v1/projects/shop/stream`)).status).toBe(401);
    const missing = await fetch(`${url}/api/v1/projects/nope/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('not_found');
    const bad = await fetch(`${url}/api/v1/projects/${encodeURIComponent('no pe')}/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);
  });

  it("tells of the project's flag, segment and environment changes, and nothing of other projects", async () => {
    const { url, token, call } = await listening();
    const stream = await SseClient.open(`${url}/api/v1/projects/shop/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect((await stream.next()).event).toBe('ready');

    await call('POST', '/projects/other/flags', { key: 'elsewhere', name: 'Elsewhere' });
    await call('POST', '/projects/shop/flags', { key: 'beta', name: 'Beta' });
    const created = [await stream.nextJson(), await stream.nextJson()];
    expect(created.map((e) => e.event)).toEqual(['change', 'change']);
    expect(
      created.map((e) => e.data).sort((a, b) => String(a.envKey).localeCompare(String(b.envKey))),
    ).toEqual([
      { kind: 'flag', key: 'beta', envKey: 'production' },
      { kind: 'flag', key: 'beta', envKey: 'test' },
    ]);
    await call('PATCH', '/projects/shop/environments/test/flags/beta', {
      instructions: [{ kind: 'turnFlagOn' }],
    });
    expect(await stream.nextJson()).toEqual({
      event: 'change',
      data: { kind: 'flag', key: 'beta', envKey: 'test' },
    });
    await call('POST', '/projects/shop/environments/test/segments', { key: 'testers', name: 'Testers' });
    expect(await stream.nextJson()).toEqual({
      event: 'change',
      data: { kind: 'segment', key: 'testers', envKey: 'test' },
    });
    await call('POST', '/projects/shop/environments/production/keys/sdkKey/rotate', {});
    expect((await stream.nextJson()).data).toMatchObject({ kind: 'environment', envKey: 'production' });
    // Nothing of project "other" came through.
    expect(stream.events.filter((e) => e.data.includes('elsewhere'))).toEqual([]);
  });

  it('sends heartbeats, and ends the stream at the next heartbeat once its token is revoked', async () => {
    const { url, storage, call } = await listening(50);
    const reader = await storage.transaction(async (tx) => createToken(tx, 'watcher', 'reader'));
    const stream = await SseClient.open(`${url}/api/v1/projects/shop/stream`, {
      headers: { authorization: `Bearer ${reader.secret}` },
    });
    expect((await stream.next()).event).toBe('ready');
    await stream.until(() => stream.comments >= 2, 5000, 'two heartbeats');
    expect(stream.isEnded).toBe(false);
    await call('DELETE', `/tokens/${reader.token.id}`);
    await stream.ended;
  });

  it('ends open streams when the service closes', async () => {
    const { url, token, service } = await listening();
    const stream = await SseClient.open(`${url}/api/v1/projects/shop/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect((await stream.next()).event).toBe('ready');
    await service.close();
    await stream.ended;
  });
});
