import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LDLogger, LDOptions } from '@flagstaff/node-server-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { boolFlag, type HandlerTestServer, startHandlerTestServer } from './handler-server.js';

type HandlerModule = typeof import('../src/handler.js');

const context = { kind: 'user', key: 'user-1' };
let server: HandlerTestServer;
let mod: HandlerModule;
let warnings: string[];
let logger: LDLogger;

beforeEach(async () => {
  server = await startHandlerTestServer({ 'flag-a': boolFlag('flag-a', true) });
  // The wrapper keeps its client in module scope (one per execution environment); a fresh module
  // per test is a fresh environment.
  vi.resetModules();
  mod = await import('../src/handler.js');
  warnings = [];
  logger = {
    error: (...a) => warnings.push(a.join(' ')),
    warn: (...a) => warnings.push(a.join(' ')),
    info: () => {},
    debug: () => {},
  };
});

afterEach(async () => {
  try {
    await mod.getClient().close();
  } catch {
    // no client was created
  }
  await server.close();
});

function sdkOptions(url = server.url): LDOptions {
  // A long flush interval, so that only the wrapper's flushes deliver events within a test.
  return { baseUri: url, streamUri: url, eventsUri: url, diagnosticOptOut: true, flushInterval: 300 };
}

describe('withFlags', () => {
  it("delivers every evaluation before each invocation returns (flush: 'invocation')", async () => {
    const handler = mod.withFlags(
      async (event: { n: number }) => ({
        n: event.n,
        value: await mod.getClient().boolVariation('flag-a', context, false),
      }),
      { sdkKey: 'sdk-test', sdkOptions: sdkOptions(), logger },
    );
    for (let i = 1; i <= 20; i++) {
      const result = await handler({ n: i }, {});
      expect(result).toEqual({ n: i, value: true });
      expect(server.evaluationCount()).toBe(i);
    }
    expect(warnings).toEqual([]);
  });

  it('serves defaults after the init timeout when the flag service is unreachable', async () => {
    const unreachable = 'http://127.0.0.1:1';
    const handler = mod.withFlags(async () => mod.getClient().boolVariation('flag-a', context, false), {
      sdkKey: 'sdk-test',
      sdkOptions: { ...sdkOptions(unreachable), eventsUri: server.url },
      initTimeoutMs: 200,
      logger,
    });
    const started = Date.now();
    await expect(handler({}, {})).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(warnings.some((w) => w.includes('not available after 200 ms'))).toBe(true);
    expect(mod.getDataAge()).toBeUndefined();
  });

  it('flushes when the handler throws, then rethrows its error', async () => {
    const failure = new Error('boom');
    const handler = mod.withFlags(
      async () => {
        await mod.getClient().boolVariation('flag-a', context, false);
        throw failure;
      },
      { sdkOptions: sdkOptions(), logger },
    );
    vi.stubEnv('FLAGSTAFF_SDK_KEY', 'sdk-from-env');
    try {
      await expect(handler({}, {})).rejects.toBe(failure);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(server.evaluationCount()).toBe(1);
  });

  it("treats flush: 'extension' as 'invocation' and warns once when the extension is not running", async () => {
    vi.stubEnv('FLAGSTAFF_EXTENSION_DIR', '/nonexistent/flagstaff-extension');
    const options = { sdkKey: 'sdk-test', sdkOptions: sdkOptions(), logger, flush: 'extension' as const };
    const handler = mod.withFlags(
      async () => mod.getClient().boolVariation('flag-a', context, false),
      options,
    );
    mod.withFlags(async () => 0, options);
    await handler({}, {});
    expect(server.evaluationCount()).toBe(1);
    vi.unstubAllEnvs();
    expect(warnings.filter((w) => w.includes('extension'))).toHaveLength(1);
  });

  it('ages the data and re-creates the client once it is older than maxDataAgeMs', async () => {
    const ages: (number | undefined)[] = [];
    const handler = mod.withFlags(
      async () => {
        ages.push(mod.getDataAge());
        return mod.getClient();
      },
      { sdkKey: 'sdk-test', sdkOptions: sdkOptions(), logger, maxDataAgeMs: 400 },
    );
    const first = await handler({}, {});
    expect(server.streamConnections()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const staleAge = mod.getDataAge();
    // Past the 400 ms limit (with room for a timer firing a little early by Date.now()'s clock).
    expect(staleAge).toBeGreaterThan(400);

    const second = await handler({}, {});
    expect(second).not.toBe(first);
    expect(second.initialized()).toBe(true);
    expect(server.streamConnections()).toBe(2);
    // Inside the refreshed invocation the data was fresh again.
    expect(ages[1]).toBeLessThan(staleAge!);
    expect(ages[1]).toBeLessThan(400);
  });

  it("delivers buffered evaluations on SIGTERM and exits 0 (flush: 'shutdown')", async () => {
    const invocations = 7;
    const child = spawn(
      process.execPath,
      [
        '--conditions=flagstaff-source',
        '--import',
        'tsx',
        fileURLToPath(new URL('./handler-shutdown-child.ts', import.meta.url)),
      ],
      {
        env: { ...process.env, FLAGS_URL: server.url, INVOCATIONS: String(invocations) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        if (c.toString().includes('ready')) resolve();
      });
      void exited.then((code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    });
    // Nothing is delivered per invocation under this policy.
    expect(server.evaluationCount()).toBe(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(server.evaluationCount()).toBe(invocations);
  });
});
