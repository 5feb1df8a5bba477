import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataSource } from '../src/api/dataSource.js';
import type { LDOptions } from '../src/api/options.js';
import { InvalidDataError } from '../src/datasource/payload.js';
import { type PollingInternals, pollingDataSource } from '../src/datasource/polling.js';
import { HttpStatusError } from '../src/http/request.js';
import { SDK_NAME, SDK_VERSION } from '../src/version.js';
import {
  flag,
  type Handler,
  SDK_KEY,
  segment,
  sleep,
  startServer,
  type TestContext,
  type TestServer,
  testContext,
  waitFor,
} from './support/dataSourceHarness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Running {
  server: TestServer;
  ctx: TestContext;
  source: DataSource;
}

async function run(
  handler: Handler,
  options: LDOptions = {},
  internals: PollingInternals = { intervalMs: 50 },
): Promise<Running> {
  const server = await startServer(handler);
  cleanups.push(() => server.close());
  const ctx = testContext(server.url, { stream: false, ...options });
  const source = pollingDataSource(ctx, internals);
  cleanups.push(() => source.stop());
  source.start();
  return { server, ctx, source };
}

function json(res: http.ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function status(res: http.ServerResponse, code: number): void {
  res.writeHead(code);
  res.end();
}

describe('polling data source', () => {
  it('requests /sdk/latest-all with the SDK headers and filter, and applies the data', async () => {
    const data = { flags: { a: flag('a', 1) }, segments: { s: segment('s', 1, ['u']) } };
    const { server, ctx } = await run((_req, res) => json(res, data), { payloadFilterKey: 'web' });
    await waitFor(() => ctx.statusLog.readyCount >= 1, 'ready');
    const [request] = server.requests;
    expect(request?.method).toBe('GET');
    expect(request?.url).toBe('/sdk/latest-all?filter=web');
    expect(request?.headers.authorization).toBe(SDK_KEY);
    expect(request?.headers['user-agent']).toBe(`${SDK_NAME}/${SDK_VERSION}`);
    expect(request?.headers['if-none-match']).toBeUndefined();
    expect(ctx.updates.inits[0]).toEqual(data);
  });

  it('treats missing maps as empty and has no filter parameter by default', async () => {
    const { server, ctx } = await run((_req, res) => json(res, { flags: { a: flag('a', 1) } }));
    await waitFor(() => ctx.statusLog.readyCount >= 1, 'ready');
    expect(server.requests[0]?.url).toBe('/sdk/latest-all');
    expect(ctx.updates.inits[0]).toEqual({ flags: { a: flag('a', 1) }, segments: {} });
  });

  it('sends If-None-Match with the last ETag and does not re-init on 304', async () => {
    let version = 1;
    const { server, ctx } = await run((req, res) => {
      const etag = `"v${version}"`;
      if (req.headers['if-none-match'] === etag) return status(res, 304);
      json(res, { flags: { a: flag('a', version) }, segments: {} }, { etag });
    });
    await waitFor(() => server.requests.length >= 4, 'four polls');
    expect(ctx.updates.inits).toHaveLength(1);
    expect(server.requests.slice(1, 4).map((r) => r.headers['if-none-match'])).toEqual([
      '"v1"',
      '"v1"',
      '"v1"',
    ]);
    version = 2;
    await waitFor(() => ctx.updates.inits.length === 2, 'second init after the data changed');
    expect(ctx.updates.inits[1]?.flags.a?.version).toBe(2);
    const count = server.requests.length;
    await waitFor(() => server.requests.length >= count + 2, 'two more polls');
    expect(server.requests.at(-1)?.headers['if-none-match']).toBe('"v2"');
    expect(ctx.updates.inits).toHaveLength(2);
    expect(ctx.statusLog.interrupted).toEqual([]);
  });

  it('stops for good on 401, reporting that the SDK key was rejected', async () => {
    const { server, ctx } = await run((_req, res) => status(res, 401));
    await waitFor(() => ctx.statusLog.failed.length === 1, 'failed');
    expect(ctx.statusLog.failed[0]).toBeInstanceOf(HttpStatusError);
    expect(ctx.statusLog.failed[0]?.message).toContain('401');
    expect(ctx.statusLog.failed[0]?.message).toContain('SDK key was rejected');
    // Four intervals: further polls would have happened by now.
    await sleep(200);
    expect(server.requests).toHaveLength(1);
    expect(ctx.statusLog.readyCount).toBe(0);
  });

  it('stops for good on 404 too', async () => {
    const { server, ctx } = await run((_req, res) => status(res, 404));
    await waitFor(() => ctx.statusLog.failed.length === 1, 'failed');
    expect(ctx.statusLog.failed[0]?.message).toContain('404');
    await sleep(200);
    expect(server.requests).toHaveLength(1);
  });

  it('retries recoverable statuses at the next interval, then succeeds', async () => {
    const answers = [503, 429, 500];
    const { server, ctx } = await run((_req, res, index) => {
      const code = answers[index];
      if (code !== undefined) return status(res, code);
      json(res, { flags: {}, segments: {} });
    });
    await waitFor(() => ctx.statusLog.readyCount >= 1, 'ready');
    expect(server.requests.length).toBeGreaterThanOrEqual(4);
    expect(ctx.statusLog.interrupted.map((e) => (e as HttpStatusError).status)).toEqual([503, 429, 500]);
    expect(ctx.statusLog.failed).toEqual([]);
  });

  it('logs invalid JSON or schema-invalid data, keeps no ETag for it, and retries', async () => {
    const bodies = ['{"flags": ', JSON.stringify({ flags: { a: { key: 'a', version: 'one' } } })];
    const { server, ctx } = await run((_req, res, index) =>
      json(res, bodies[index] ?? { flags: { a: flag('a', 1) } }, { etag: `"e${index}"` }),
    );
    await waitFor(() => ctx.statusLog.readyCount >= 1, 'ready');
    expect(ctx.statusLog.interrupted).toHaveLength(2);
    expect(ctx.statusLog.interrupted.every((e) => e instanceof InvalidDataError)).toBe(true);
    expect(ctx.logLines.filter((l) => l.level === 'error')).toHaveLength(2);
    expect(server.requests.slice(0, 3).map((r) => r.headers['if-none-match'])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(ctx.updates.inits).toEqual([{ flags: { a: flag('a', 1) }, segments: {} }]);
  });

  it('retries after a network error', async () => {
    let first = true;
    const { ctx } = await run((req, res) => {
      if (first) {
        first = false;
        req.socket.destroy();
        return;
      }
      json(res, { flags: {} });
    });
    await waitFor(() => ctx.statusLog.readyCount >= 1, 'ready');
    expect(ctx.statusLog.interrupted).toHaveLength(1);
  });

  it('fails for good on a URI or SDK key Node cannot send', async () => {
    for (const [sdkKey, uri] of [
      ['key\nwith-newline', 'http://127.0.0.1:9'],
      [SDK_KEY, 'not a uri'],
    ] as const) {
      const ctx = testContext(uri, { stream: false });
      ctx.config.sdkKey = sdkKey;
      const source = pollingDataSource(ctx, { intervalMs: 20 });
      cleanups.push(() => source.stop());
      source.start();
      await waitFor(() => ctx.statusLog.failed.length === 1, `failed for ${uri}`);
      await sleep(60);
      expect(ctx.statusLog.failed).toHaveLength(1);
      expect(ctx.statusLog.interrupted).toEqual([]);
    }
  });

  it('polls once per interval, measured from the start of the previous request', async () => {
    // Each response takes at least 60 ms of the 150 ms interval, so the wait after it is at most 91 ms
    // (Date.now() may round the 60 ms down to 59); waiting a whole interval after the response would be 150.
    const { server, ctx } = await run(
      (_req, res) => {
        setTimeout(() => json(res, { flags: {} }), 60);
      },
      {},
      { intervalMs: 150 },
    );
    await waitFor(() => server.requests.length >= 4, 'four polls');
    const waits = ctx.logLines
      .flatMap((l) => /^Next poll in (\d+) ms$/.exec(l.message)?.[1] ?? [])
      .map(Number);
    expect(waits.length).toBeGreaterThanOrEqual(3);
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(91);
    // And it does not poll faster than the interval (half of it as slack for request delivery time).
    const starts = server.requests.map((r) => r.at);
    for (let i = 1; i < starts.length; i++) {
      expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(75);
    }
  });

  it('uses the configured pollInterval when no override is given', async () => {
    const { server, ctx } = await run((_req, res) => json(res, { flags: {} }), { pollInterval: 30 }, {});
    await waitFor(() => ctx.statusLog.readyCount >= 1, 'ready');
    await sleep(100);
    expect(server.requests).toHaveLength(1);
  });

  it('stop() cancels the next poll and aborts a poll in flight', async () => {
    const { server, ctx, source } = await run(() => {
      // Never answers: the request stays in flight until stop() aborts it.
    });
    await waitFor(() => server.requests.length === 1, 'first poll');
    source.stop();
    await server.requests[0]?.closed;
    await sleep(150);
    expect(server.requests).toHaveLength(1);
    expect(ctx.statusLog.interrupted).toEqual([]);
    expect(ctx.statusLog.readyCount).toBe(0);
  });

  it('stop() after a successful poll leaves no further polls', async () => {
    const { server, ctx, source } = await run((_req, res) => json(res, { flags: {} }));
    await waitFor(() => ctx.statusLog.readyCount >= 1, 'ready');
    source.stop();
    const count = server.requests.length;
    await sleep(150);
    expect(server.requests).toHaveLength(count);
  });
});
