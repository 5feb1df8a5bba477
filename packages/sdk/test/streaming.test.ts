import { spawn } from 'node:child_process';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataSource } from '../src/api/dataSource.js';
import type { LDOptions } from '../src/api/options.js';
import { InvalidDataError } from '../src/datasource/payload.js';
import { type StreamingInternals, streamingDataSource } from '../src/datasource/streaming.js';
import { HttpStatusError } from '../src/http/request.js';
import { SDK_NAME, SDK_VERSION } from '../src/version.js';
import {
  flag,
  type Handler,
  openSse,
  SDK_KEY,
  segment,
  sleep,
  sse,
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
  internals: StreamingInternals = {},
): Promise<Running> {
  const server = await startServer(handler);
  cleanups.push(() => server.close());
  const ctx = testContext(server.url, options);
  const source = streamingDataSource(ctx, internals);
  cleanups.push(() => source.stop());
  source.start();
  return { server, ctx, source };
}

const putOf = (flags: Record<string, unknown>, segments: Record<string, unknown> = {}) =>
  sse('put', { path: '/', data: { flags, segments } });

/** Answers each connection with the next entry: a status code, or SSE text to write on an open stream. */
function sequence(...answers: (number | string | ((res: http.ServerResponse) => void))[]): Handler {
  return (_req, res, index) => {
    const answer = answers[Math.min(index, answers.length - 1)];
    if (typeof answer === 'number') {
      res.writeHead(answer, { 'content-type': 'text/plain' });
      res.end('no');
    } else if (typeof answer === 'string') {
      openSse(res);
      res.write(answer);
    } else if (answer !== undefined) {
      answer(res);
    }
  };
}

describe('streaming data source', () => {
  it('requests /all with the SDK headers and filter, and applies the first put', async () => {
    const { server, ctx } = await run(sequence(putOf({ a: flag('a', 1) }, { s: segment('s', 2, ['u1']) })), {
      payloadFilterKey: 'mobile.only-1',
    });
    await waitFor(() => ctx.statusLog.readyCount === 1, 'ready');
    const [request] = server.requests;
    expect(request?.method).toBe('GET');
    expect(request?.url).toBe('/all?filter=mobile.only-1');
    expect(request?.headers.authorization).toBe(SDK_KEY);
    expect(request?.headers['user-agent']).toBe(`${SDK_NAME}/${SDK_VERSION}`);
    expect(request?.headers.accept).toBe('text/event-stream');
    expect(ctx.updates.inits).toEqual([
      { flags: { a: flag('a', 1) }, segments: { s: segment('s', 2, ['u1']) } },
    ]);
    expect(ctx.statusLog.interrupted).toEqual([]);
    expect(ctx.streamInits).toEqual([
      { timestamp: expect.any(Number), failed: false, durationMillis: expect.any(Number) },
    ]);
  });

  it('omits the filter parameter when no filter is set, and accepts a put without path or maps', async () => {
    const { server, ctx } = await run(sequence(sse('put', { data: { flags: { a: flag('a', 1) } } })));
    await waitFor(() => ctx.statusLog.readyCount === 1, 'ready');
    expect(server.requests[0]?.url).toBe('/all');
    expect(ctx.updates.inits).toEqual([{ flags: { a: flag('a', 1) }, segments: {} }]);
  });

  it('sends wrapper and application tag headers from the config', async () => {
    const { server, ctx } = await run(sequence(putOf({})), {
      wrapperName: 'my-wrapper',
      wrapperVersion: '2.0',
      application: { id: 'svc', version: '1.2.3' },
    });
    await waitFor(() => ctx.statusLog.readyCount === 1, 'ready');
    expect(server.requests[0]?.headers['x-launchdarkly-wrapper']).toBe('my-wrapper/2.0');
    expect(server.requests[0]?.headers['x-launchdarkly-tags']).toBe(
      'application-id/svc application-version/1.2.3',
    );
  });

  it('applies patches and deletes in stream order, ignoring unknown events, paths and comments', async () => {
    const stream =
      putOf({ a: flag('a', 1) }) +
      ':heartbeat\n\n' +
      sse('patch', { path: '/flags/a', data: flag('a', 2, 'two') }) +
      sse('patch', { path: '/segments/s', data: segment('s', 3) }) +
      sse('some-new-event', 'not json at all') +
      sse('some-other-event', { path: '/flags/a', data: 'whatever' }) +
      sse('patch', { path: '/widgets/w', data: { anything: true } }) +
      sse('delete', { path: '/teams/t', version: 1 }) +
      sse('delete', { path: '/flags/a', version: 4 }) +
      ': another heartbeat\n' +
      sse('patch', { path: '/flags/b', data: flag('b', 1) });
    const { server, ctx } = await run(sequence(stream));
    await waitFor(() => ctx.updates.upserts.length === 4, 'four upserts');
    await sleep(50);
    expect(ctx.updates.calls.map((c) => c.op)).toEqual(['init', 'upsert', 'upsert', 'upsert', 'upsert']);
    expect(ctx.updates.upserts).toEqual([
      { kind: 'flags', item: flag('a', 2, 'two') },
      { kind: 'segments', item: segment('s', 3) },
      { kind: 'flags', item: { key: 'a', version: 4, deleted: true } },
      { kind: 'flags', item: flag('b', 1) },
    ]);
    expect(server.requests).toHaveLength(1);
    expect(ctx.statusLog.interrupted).toEqual([]);
  });

  it('stores a patched item under the key its path names', async () => {
    const { ctx } = await run(
      sequence(putOf({}) + sse('patch', { path: '/flags/right', data: flag('wrong', 1) })),
    );
    await waitFor(() => ctx.updates.upserts.length === 1, 'upsert');
    expect(ctx.updates.upserts[0]?.item.key).toBe('right');
    expect(ctx.logLines.some((l) => l.level === 'warn' && l.message.includes('"wrong"'))).toBe(true);
  });

  it('hands out-of-order patches to the store in order, and the versioned store keeps the newest', async () => {
    const stream =
      putOf({ a: flag('a', 1) }) +
      sse('patch', { path: '/flags/a', data: flag('a', 5, 'five') }) +
      sse('patch', { path: '/flags/a', data: flag('a', 3, 'three') }) +
      sse('delete', { path: '/flags/a', version: 4 }) +
      sse('delete', { path: '/flags/b', version: 2 }) +
      sse('patch', { path: '/flags/b', data: flag('b', 1) }) +
      sse('patch', { path: '/flags/c', data: flag('c', 1) }) +
      sse('delete', { path: '/flags/c', version: 2 }) +
      sse('patch', { path: '/flags/c', data: flag('c', 3, 'back') });
    const { ctx } = await run(sequence(stream));
    await waitFor(() => ctx.updates.upserts.length === 8, 'eight upserts');
    await sleep(20);
    expect(ctx.updates.upserts.map(({ item }) => `${item.key}@${item.version}`)).toEqual([
      'a@5',
      'a@3',
      'a@4',
      'b@2',
      'b@1',
      'c@1',
      'c@2',
      'c@3',
    ]);
    expect(ctx.updates.items.flags.get('a')).toEqual(flag('a', 5, 'five'));
    expect(ctx.updates.items.flags.get('b')).toEqual({ key: 'b', version: 2, deleted: true });
    expect(ctx.updates.items.flags.get('c')).toEqual(flag('c', 3, 'back'));
  });

  it('reconnects with a new put after the server drops the stream', async () => {
    const { server, ctx } = await run(
      sequence(
        (res) => {
          openSse(res);
          res.write(putOf({ a: flag('a', 1) }));
          setTimeout(() => res.end(), 30);
        },
        putOf({ a: flag('a', 2) }),
      ),
    );
    await waitFor(() => ctx.updates.inits.length === 2, 'second put');
    expect(server.requests).toHaveLength(2);
    expect(ctx.updates.inits.map((d) => d.flags.a?.version)).toEqual([1, 2]);
    expect(ctx.statusLog.interrupted).toHaveLength(1);
    expect(ctx.statusLog.readyCount).toBe(2);
    expect(ctx.streamInits.map((i) => i.failed)).toEqual([false, false]);
  });

  it.each([401, 403])('stops for good on HTTP %i, reporting that the SDK key was rejected', async (code) => {
    const { server, ctx } = await run(sequence(code));
    await waitFor(() => ctx.statusLog.failed.length === 1, 'failed');
    const error = ctx.statusLog.failed[0];
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(code);
    expect(error?.message).toContain(String(code));
    expect(error?.message).toContain('SDK key was rejected');
    // Ten times the reconnect delay: a retry would have happened by now.
    await sleep(100);
    expect(server.requests).toHaveLength(1);
    expect(ctx.statusLog.interrupted).toEqual([]);
    expect(ctx.statusLog.readyCount).toBe(0);
    expect(ctx.streamInits.map((i) => i.failed)).toEqual([true]);
    expect(ctx.logLines.some((l) => l.level === 'error' && l.message.includes(String(code)))).toBe(true);
  });

  it('stops on other 4xx such as 404 with an error naming the status', async () => {
    const { server, ctx } = await run(sequence(404));
    await waitFor(() => ctx.statusLog.failed.length === 1, 'failed');
    expect(ctx.statusLog.failed[0]?.message).toContain('404');
    expect(ctx.statusLog.failed[0]?.message).not.toContain('SDK key');
    await sleep(100);
    expect(server.requests).toHaveLength(1);
  });

  it('retries 503 and the other recoverable statuses, then succeeds', async () => {
    const { server, ctx } = await run(sequence(503, 400, 408, 429, 500, putOf({ a: flag('a', 1) })));
    await waitFor(() => ctx.statusLog.readyCount === 1, 'ready');
    expect(server.requests).toHaveLength(6);
    expect(ctx.statusLog.interrupted.map((e) => (e as HttpStatusError).status)).toEqual([
      503, 400, 408, 429, 500,
    ]);
    expect(ctx.statusLog.failed).toEqual([]);
    expect(ctx.streamInits.map((i) => i.failed)).toEqual([true, true, true, true, true, false]);
  });

  it('reconnects after a network error (connection refused)', async () => {
    const server = await startServer(sequence(putOf({ a: flag('a', 1) })));
    const url = server.url;
    await server.close();
    const ctx = testContext(url);
    const source = streamingDataSource(ctx);
    cleanups.push(() => source.stop());
    source.start();
    await waitFor(() => ctx.statusLog.interrupted.length >= 2, 'two interruptions');
    expect(ctx.statusLog.failed).toEqual([]);
  });

  it('fails for good, without throwing, on a URI or SDK key Node cannot send', async () => {
    for (const [sdkKey, uri] of [
      ['key\nwith-newline', 'http://127.0.0.1:9'],
      [SDK_KEY, 'not a uri'],
      [SDK_KEY, 'ftp://127.0.0.1:9'],
    ] as const) {
      const ctx = testContext(uri);
      ctx.config.sdkKey = sdkKey;
      const source = streamingDataSource(ctx);
      cleanups.push(() => source.stop());
      expect(() => source.start()).not.toThrow();
      expect(ctx.statusLog.failed).toEqual([]);
      await waitFor(() => ctx.statusLog.failed.length === 1, `failed for ${uri}`);
      expect(ctx.statusLog.interrupted).toEqual([]);
    }
  });

  const badEvents: [string, string][] = [
    ['malformed JSON in a put', 'event: put\ndata: {"path": "/", "data": {\n\n'],
    ['a put whose flags are an array', sse('put', { path: '/', data: { flags: [] } })],
    ['a put without data', sse('put', { path: '/' })],
    ['a put with a flag missing its version', sse('put', { data: { flags: { a: { key: 'a', on: true } } } })],
    ['malformed JSON in a patch', 'event: patch\ndata: nope\n\n'],
    [
      'a patch with a schema-invalid flag',
      sse('patch', { path: '/flags/a', data: { ...flag('a', 1), on: 'yes' } }),
    ],
    ['a patch with a schema-invalid segment', sse('patch', { path: '/segments/s', data: { key: 's' } })],
    ['a patch without path', sse('patch', { data: flag('a', 1) })],
    ['a delete without version', sse('delete', { path: '/flags/a' })],
    ['a delete with a fractional version', sse('delete', { path: '/flags/a', version: 1.5 })],
  ];
  it.each(badEvents)('drops the connection and reconnects on %s', async (_name, bad) => {
    const first = bad.startsWith('event: put') ? bad : putOf({ a: flag('a', 1) }) + bad;
    const { server, ctx } = await run(sequence(first, putOf({ a: flag('a', 2) })));
    await waitFor(
      () => ctx.updates.inits.some((d) => d.flags.a?.version === 2),
      'put on the second connection',
    );
    expect(server.requests).toHaveLength(2);
    await server.requests[0]?.closed;
    expect(ctx.statusLog.interrupted).toHaveLength(1);
    expect(ctx.statusLog.interrupted[0]).toBeInstanceOf(InvalidDataError);
    expect(ctx.updates.upserts).toEqual([]);
    expect(ctx.logLines.some((l) => l.level === 'error' && l.message.includes('stream'))).toBe(true);
    expect(ctx.statusLog.failed).toEqual([]);
  });

  it('does not apply events that followed invalid data on the same connection', async () => {
    const stream =
      putOf({ a: flag('a', 1) }) +
      'event: patch\ndata: {bad\n\n' +
      sse('patch', { path: '/flags/a', data: flag('a', 9) });
    const { ctx } = await run(sequence(stream, putOf({ a: flag('a', 2) })));
    await waitFor(() => ctx.updates.inits.length === 2, 'second put');
    await sleep(20);
    expect(ctx.updates.upserts).toEqual([]);
  });

  it('decodes UTF-8 split across TCP writes, including inside a character and a CRLF', async () => {
    const text = putOf({ a: flag('a', 1, 'h\u00e9llo \u2713 \u{1F600}') }).replaceAll('\n', '\r\n');
    const bytes = Buffer.from(text, 'utf8');
    const splitInChar = bytes.indexOf(Buffer.from('\u2713', 'utf8')) + 1;
    const splitInCrlf = bytes.indexOf(Buffer.from('\r\n', 'utf8')) + 1;
    const { ctx } = await run(
      sequence((res) => {
        openSse(res);
        const cuts = [0, splitInCrlf, splitInChar, bytes.length];
        for (let i = 1; i < cuts.length; i++) {
          setTimeout(() => res.write(bytes.subarray(cuts[i - 1], cuts[i])), 20 * i);
        }
      }),
    );
    await waitFor(() => ctx.statusLog.readyCount === 1, 'ready');
    expect(ctx.updates.inits[0]?.flags.a?.variations[0]).toBe('h\u00e9llo \u2713 \u{1F600}');
  });

  it('reconnects when no byte arrives within the read timeout', async () => {
    const { server, ctx } = await run(
      sequence(putOf({ a: flag('a', 1) }), putOf({ a: flag('a', 2) })),
      {},
      {
        readTimeoutMs: 200,
      },
    );
    await waitFor(() => ctx.updates.inits.length === 2, 'second put');
    expect(server.requests).toHaveLength(2);
    await server.requests[0]?.closed;
    expect(ctx.statusLog.interrupted[0]?.message).toContain('no data');
  });

  it('also times out a server that accepts the request but never answers', async () => {
    const { server, ctx } = await run(
      sequence(() => {}, putOf({ a: flag('a', 1) })),
      {},
      { readTimeoutMs: 200 },
    );
    await waitFor(() => ctx.statusLog.readyCount === 1, 'ready');
    expect(server.requests).toHaveLength(2);
  });

  it('keeps the stream while heartbeat comments arrive more often than the read timeout', async () => {
    let heartbeats = 0;
    const { server, ctx } = await run(
      sequence((res) => {
        openSse(res);
        res.write(putOf({ a: flag('a', 1) }));
        const timer = setInterval(() => {
          heartbeats += 1;
          res.write(':\n');
        }, 50);
        res.on('close', () => clearInterval(timer));
      }),
      {},
      { readTimeoutMs: 500 },
    );
    // 20 heartbeats span about two read timeouts.
    await waitFor(() => heartbeats >= 20, 'twenty heartbeats');
    expect(server.requests).toHaveLength(1);
    expect(ctx.statusLog.interrupted).toEqual([]);
  });

  it('stop() closes the connection and nothing reconnects', async () => {
    const { server, ctx, source } = await run(sequence(putOf({ a: flag('a', 1) })));
    await waitFor(() => ctx.statusLog.readyCount === 1, 'ready');
    source.stop();
    await server.requests[0]?.closed;
    source.stop();
    await sleep(100);
    expect(server.requests).toHaveLength(1);
    expect(ctx.statusLog.interrupted).toEqual([]);
  });

  it('stop() during a reconnect wait cancels the reconnect', async () => {
    const { server, ctx, source } = await run(sequence(503), { streamInitialReconnectDelay: 0.1 });
    await waitFor(() => ctx.statusLog.interrupted.length === 1, 'interrupted');
    source.stop();
    await sleep(250);
    expect(server.requests).toHaveLength(1);
  });

  it('uses the delay from an SSE retry field as the new backoff base', async () => {
    const { server, ctx } = await run(
      sequence((res) => {
        openSse(res);
        res.end(`retry: 5\n${putOf({})}`);
      }),
      { streamInitialReconnectDelay: 60 },
      { random: () => 0 },
    );
    await waitFor(() => server.requests.length >= 2, 'a reconnect within the 5 ms retry delay');
    expect(ctx.logLines.some((l) => l.message.includes('will retry the stream connection in 5 ms'))).toBe(
      true,
    );
  });

  it('never keeps a process alive: open stream, after stop(), and while waiting to reconnect', async () => {
    const child = fileURLToPath(new URL('./support/streamChild.ts', import.meta.url));
    const server = await startServer((req, res) => {
      if (req.url?.startsWith('/retrying')) {
        res.writeHead(503);
        res.end();
        return;
      }
      openSse(res);
      res.write(putOf({ a: flag('a', 1) }));
    });
    cleanups.push(() => server.close());
    const runChild = (mode: string) =>
      new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const proc = spawn(
          process.execPath,
          ['--conditions=flagstaff-source', '--import', 'tsx', child, `${server.url}/${mode}`, mode],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let stdout = '';
        proc.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        const timer = setTimeout(() => {
          proc.kill();
          reject(new Error(`child in mode ${mode} did not exit; output: ${stdout}`));
        }, 15_000);
        proc.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout });
        });
      });
    const [idle, stopped, retrying] = await Promise.all([
      runChild('idle'),
      runChild('stop'),
      runChild('retrying'),
    ]);
    expect(idle).toEqual({ code: 0, stdout: 'ready\n' });
    expect(stopped).toEqual({ code: 0, stdout: 'ready\n' });
    expect(retrying).toEqual({ code: 0, stdout: 'interrupted\n' });
    await Promise.all(server.requests.map((r) => r.closed));
  });
});
