import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Context, ContextError, type Flag } from '@flagstaff/eval';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LDOptions } from '../src/api/options.js';
import {
  createEventProcessor,
  type EventProcessor,
  type EventProcessorOptions,
} from '../src/events/index.js';
import { HttpStatusError } from '../src/http/request.js';
import type { Config } from '../src/options/config.js';
import { type EventsServer, eventsConfig, startEventsServer } from './support/eventsServer.js';

// Transport (spec §6.1): headers, retries, failures, capacity, timers and process lifetime.

function ctx(input: unknown): Context {
  const context = Context.from(input);
  if (context instanceof ContextError) throw new Error(context.message);
  return context;
}

const user = ctx({ kind: 'user', key: 'u1' });
const flag: Flag = {
  key: 'f1',
  version: 1,
  on: true,
  variations: [false, true],
  fallthrough: { variation: 1 },
};

let server: EventsServer;
const open: EventProcessor[] = [];

beforeEach(async () => {
  server = await startEventsServer();
});

afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  await server.close();
  vi.restoreAllMocks();
});

function processor(
  options: LDOptions = {},
  overrides: Partial<Config> = {},
  processorOptions: EventProcessorOptions = {},
): EventProcessor {
  const p = createEventProcessor(eventsConfig(server.url, options, overrides), {
    retryDelayMs: 20,
    ...processorOptions,
  });
  open.push(p);
  return p;
}

function recordSome(p: EventProcessor, identifies: number): void {
  for (let i = 0; i < identifies; i++) p.recordIdentify(ctx({ kind: 'user', key: `id${i}` }));
}

function spyLogger() {
  return { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('request', () => {
  it('posts to /bulk with the analytics headers', async () => {
    const p = processor({ wrapperName: 'wrap', wrapperVersion: '2' });
    recordSome(p, 1);
    await p.flush();
    const [req] = server.bulk();
    expect(req!.method).toBe('POST');
    expect(req!.headers).toMatchObject({
      authorization: 'sdk-key-123456',
      'content-type': 'application/json',
      'x-launchdarkly-event-schema': '4',
      'x-launchdarkly-wrapper': 'wrap/2',
    });
    expect(req!.headers['user-agent']).toMatch(/^\S+\/\d+\.\d+\.\d+/);
    expect(req!.headers['x-launchdarkly-payload-id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(req!.headers['content-encoding']).toBeUndefined();
    recordSome(p, 1);
    await p.flush();
    const ids = server.bulk().map((r) => r.headers['x-launchdarkly-payload-id']);
    expect(new Set(ids).size).toBe(2);
  });

  it('gzips the payload when enableEventCompression is set', async () => {
    const p = processor({ enableEventCompression: true });
    recordSome(p, 2);
    expect(await p.flush()).toEqual({ delivered: 2, dropped: 0 });
    const [req] = server.bulk();
    expect(req!.headers['content-encoding']).toBe('gzip');
    expect(req!.raw[0]).toBe(0x1f);
    expect(req!.raw[1]).toBe(0x8b);
    expect((req!.json as unknown[]).length).toBe(2);
  });

  it('posts nothing for an empty flush', async () => {
    const p = processor();
    expect(await p.flush()).toEqual({ delivered: 0, dropped: 0 });
    expect(server.requests).toHaveLength(0);
  });

  it('counts the delivered events, the summary included', async () => {
    const p = processor();
    recordSome(p, 2);
    p.recordEvaluation({
      context: user,
      flagKey: 'f1',
      flag,
      value: true,
      default: false,
      variation: 1,
      reason: { kind: 'FALLTHROUGH' },
      withReason: false,
    });
    // identify x2, index for u1, summary.
    expect(await p.flush()).toEqual({ delivered: 4, dropped: 0 });
  });
});

describe('failures', () => {
  it('retries once after a recoverable status, with the same payload id', async () => {
    const p = processor({}, {}, { retryDelayMs: 60 });
    server.replyWith({ status: 503 });
    recordSome(p, 2);
    const started = Date.now();
    expect(await p.flush()).toEqual({ delivered: 2, dropped: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    const [first, second] = server.bulk();
    expect(server.bulk()).toHaveLength(2);
    expect(second!.headers['x-launchdarkly-payload-id']).toBe(first!.headers['x-launchdarkly-payload-id']);
    expect(second!.json).toEqual(first!.json);
  });

  it('retries after a network error', async () => {
    const p = processor();
    server.replyWith('destroy');
    recordSome(p, 1);
    expect(await p.flush()).toEqual({ delivered: 1, dropped: 0 });
    expect(server.bulk()).toHaveLength(2);
  });

  it.each([400, 408, 429, 500])('drops the payload when the retry after %i fails too', async (status) => {
    const logger = spyLogger();
    const p = processor({ logger });
    server.replyWith({ status }, { status });
    recordSome(p, 3);
    const result = await p.flush();
    expect(result.delivered).toBe(0);
    expect(result.dropped).toBe(3);
    expect(result.error).toBeInstanceOf(HttpStatusError);
    expect((result.error as HttpStatusError).status).toBe(status);
    expect(server.bulk()).toHaveLength(2);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    // Not permanent: the next payload goes out.
    recordSome(p, 1);
    expect(await p.flush()).toEqual({ delivered: 1, dropped: 0 });
  });

  it('drops a payload refused with 413 without retrying, and keeps sending', async () => {
    const p = processor();
    server.replyWith({ status: 413 });
    recordSome(p, 2);
    const result = await p.flush();
    expect(result).toMatchObject({ delivered: 0, dropped: 2 });
    expect((result.error as HttpStatusError).status).toBe(413);
    expect(server.bulk()).toHaveLength(1);
    recordSome(p, 1);
    expect(await p.flush()).toEqual({ delivered: 1, dropped: 0 });
  });

  it.each([401, 403])('stops sending for good after %i', async (status) => {
    const logger = spyLogger();
    const p = processor({ logger, flushInterval: 0.02 });
    server.replyWith({ status });
    recordSome(p, 2);
    const result = await p.flush();
    expect(result).toMatchObject({ delivered: 0, dropped: 2 });
    expect((result.error as HttpStatusError).status).toBe(status);
    recordSome(p, 2);
    const later = await p.flush();
    expect(later).toEqual({ delivered: 0, dropped: 0, error: result.error });
    await sleep(80);
    expect(server.bulk()).toHaveLength(1);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(await p.close()).toMatchObject({ error: result.error });
  });
});

describe('capacity', () => {
  it('drops events beyond capacity, counts them and warns once per episode', async () => {
    const logger = spyLogger();
    const p = processor({ capacity: 3, logger });
    recordSome(p, 5);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(await p.flush()).toEqual({ delivered: 3, dropped: 2 });
    expect((server.bulk()[0]!.json as unknown[]).length).toBe(3);
    // Summary counters are not limited by the capacity.
    for (let i = 0; i < 10; i++) {
      p.recordEvaluation({
        context: ctx({ kind: 'user', key: `s${i}` }),
        flagKey: `flag${i}`,
        flag: { ...flag, key: `flag${i}` },
        value: true,
        default: false,
        variation: 1,
        reason: { kind: 'FALLTHROUGH' },
        withReason: false,
      });
    }
    expect(logger.warn).toHaveBeenCalledTimes(2);
    const result = await p.flush();
    expect(result).toEqual({ delivered: 4, dropped: 7 });
    const summary = (server.bulk()[1]!.json as { kind: string; features: object }[]).at(-1)!;
    expect(summary.kind).toBe('summary');
    expect(Object.keys(summary.features)).toHaveLength(10);
  });

  it('reports events dropped since the previous flush only', async () => {
    const p = processor({ capacity: 1 });
    recordSome(p, 3);
    expect(await p.flush()).toEqual({ delivered: 1, dropped: 2 });
    expect(await p.flush()).toEqual({ delivered: 0, dropped: 0 });
  });
});

describe('flush scheduling', () => {
  it('flushes automatically every flushInterval', async () => {
    const p = processor({ flushInterval: 0.03 });
    recordSome(p, 1);
    await server.waitFor('/bulk', 1);
    recordSome(p, 1);
    await server.waitFor('/bulk', 2);
    expect(server.bulk().map((r) => (r.json as unknown[]).length)).toEqual([1, 1]);
  });

  it('runs concurrent flushes one after another, each with everything recorded before it', async () => {
    const p = processor();
    server.replyWith({ status: 202, delayMs: 150 }, { status: 202, delayMs: 50 });
    recordSome(p, 1);
    const first = p.flush();
    recordSome(p, 2);
    const second = p.flush();
    const third = p.flush();
    await sleep(50);
    expect(server.bulk()).toHaveLength(1);
    expect(await first).toEqual({ delivered: 1, dropped: 0 });
    expect(await second).toEqual({ delivered: 2, dropped: 0 });
    expect(await third).toEqual({ delivered: 2, dropped: 0 });
    expect(server.bulk()).toHaveLength(2);
    expect(server.maxConcurrent()).toBe(1);
  });

  it('posts nothing from the timer while a flush is delivering', async () => {
    const p = processor({ flushInterval: 0.01 }, {}, { retryDelayMs: 100 });
    server.replyWith({ status: 503 }, { status: 202, delayMs: 100 });
    recordSome(p, 1);
    let done = false;
    let requestsWhenDone = 0;
    const flushing = p.flush().then((result) => {
      done = true;
      requestsWhenDone = server.bulk().length;
      return result;
    });
    let recorded = 0;
    while (!done) {
      recordSome(p, 1);
      recorded++;
      await sleep(15);
    }
    // The flush's own attempt and retry, nothing from the 10 ms timer.
    expect(requestsWhenDone).toBe(2);
    expect(await flushing).toEqual({ delivered: 1, dropped: 0 });
    expect(server.maxConcurrent()).toBe(1);
    // The timer resumes afterwards and sends what was recorded meanwhile.
    await server.waitFor('/bulk', 3);
    await p.close();
    const later = server.bulk().slice(2);
    expect(recorded).toBeGreaterThan(5);
    expect(later.flatMap((r) => r.json as unknown[])).toHaveLength(recorded);
  });

  it('does not queue a timer flush right behind a flush that is delivering', async () => {
    // Ticks at 300, 600, 900 ms; the flush runs from 0 to about 700 ms. A tick that queued a flush
    // behind it would post at once when it ends: in Lambda, just as the environment freezes.
    const p = processor({ flushInterval: 0.3 });
    server.replyWith({ status: 202, delayMs: 700 });
    recordSome(p, 1);
    const flushing = p.flush();
    recordSome(p, 1);
    await flushing;
    await sleep(100);
    expect(server.bulk()).toHaveLength(1);
    await server.waitFor('/bulk', 2);
  });
});

describe('close', () => {
  it('flushes, stops every timer and ignores later records', async () => {
    const setSpy = vi.spyOn(globalThis, 'setInterval');
    const clearSpy = vi.spyOn(globalThis, 'clearInterval');
    const before = process.getActiveResourcesInfo().length;
    const p = processor(
      { flushInterval: 0.02, diagnosticOptOut: false },
      { diagnosticRecordingIntervalMs: 20, contextKeysFlushIntervalMs: 20 },
    );
    const timers = setSpy.mock.results.map((r) => r.value);
    expect(timers).toHaveLength(3);
    await server.waitFor('/diagnostic', 1);
    recordSome(p, 2);
    expect(await p.close()).toEqual({ delivered: 2, dropped: 0 });
    const cleared = clearSpy.mock.calls.map((c) => c[0]);
    for (const timer of timers) expect(cleared).toContain(timer);
    expect(await p.close()).toEqual({ delivered: 2, dropped: 0 });

    recordSome(p, 1);
    expect(await p.flush()).toEqual({ delivered: 0, dropped: 0 });
    const posted = server.requests.length;
    await sleep(100);
    expect(server.requests).toHaveLength(posted);
    // Idle keep-alive sockets belong to the shared agent and the test server, not the processor.
    server.dropConnections();
    await sleep(20);
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(before);
  });

  it('a no-op processor when events are off', async () => {
    for (const options of [{ sendEvents: false }, { offline: true }]) {
      const setSpy = vi.spyOn(globalThis, 'setInterval');
      const p = processor({ ...options, diagnosticOptOut: false });
      recordSome(p, 1);
      p.recordStreamInit?.({ timestamp: 1, failed: false, durationMillis: 1 });
      expect(await p.flush()).toEqual({ delivered: 0, dropped: 0 });
      expect(await p.close()).toEqual({ delivered: 0, dropped: 0 });
      expect(setSpy).not.toHaveBeenCalled();
      setSpy.mockRestore();
    }
    await sleep(30);
    expect(server.requests).toHaveLength(0);
  });
});

describe('process lifetime', () => {
  // A child process whose only work is an awaited flush: neither the request nor the wait before
  // its retry may let it exit early, while the unref'd timers must not keep it alive afterwards.
  it('keeps the process alive for an awaited flush, and not a moment longer', async () => {
    server.replyWith({ status: 503, delayMs: 100 }, { status: 202, delayMs: 100 });
    const script = `
      import { Context } from '@flagstaff/eval';
      import { createEventProcessor } from './src/events/index.ts';
      import { buildConfig } from './src/options/config.ts';
      const logger = { error() {}, warn() {}, info() {}, debug() {} };
      const config = buildConfig('key', { eventsUri: ${JSON.stringify(server.url)}, logger, flushInterval: 60 });
      const p = createEventProcessor(config, { retryDelayMs: 200 });
      p.recordIdentify(Context.from({ kind: 'user', key: 'child' }));
      p.flush().then((r) => console.log(JSON.stringify(r)));
    `;
    const cwd = fileURLToPath(new URL('..', import.meta.url));
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
    expect(JSON.parse(stdout)).toEqual({ delivered: 1, dropped: 0 });
    expect(server.bulk()).toHaveLength(2);
    // Diagnostics on (the default), and the process still exited once the flush was done.
    expect(server.diagnostic().length).toBeLessThanOrEqual(1);
  });
});
