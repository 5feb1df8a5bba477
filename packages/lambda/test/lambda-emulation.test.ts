// The Lambda kit under the Lambda emulation (./emulator): the real runtime client (aws-lambda-ric), the
// layer as built and unpacked to a stand-in /opt, its external extension started as Lambda starts it,
// freezes between invocations and AWS's shutdown rules. For every flush policy: N invocations, a
// freeze, a shutdown, then the events counted at the flag service's ingestion. None may be lost.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, type Storage } from '@flagstaff/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type AdminClient,
  bootstrapAdminToken,
  type RunningService,
  startService,
} from '../../server/test/support/e2e.js';
import { type LocalDynamoDB, startDynalite } from '../../store-dynamodb/test/support/dynalite.js';
import { createSyncHandler } from '../src/index.js';
import { type EmulatedFunction, startLambda } from './emulator/index.js';
import { buildAndUnpackLayer } from './support/layer.js';

const N = 20;
const HERE = import.meta.dirname;
const EXAMPLES = join(HERE, '../../../examples/lambda');

let tmp: string;
/** The layer with its extension, and the same layer without `extensions/` (no extension registered). */
let optWithExtension: string;
let optWithoutExtension: string;
let storage: Storage;
let service: RunningService;
let serviceUrl: string;
let api: AdminClient;
const running: EmulatedFunction[] = [];
const servers: Server[] = [];
const measured: Record<string, { responseMs: number[]; durationMs: number[] }> = {};

/** A project of its own per test, so event counts never mix. Its flag `show-banner` serves true. */
async function newProject(key: string): Promise<string> {
  const project = await api.expect(201, 'POST', '/projects', { key, name: key });
  const env = (project.environments as { key: string; sdkKey: string }[]).find((e) => e.key === 'test')!;
  await api.expect(201, 'POST', `/projects/${key}/flags`, { key: 'show-banner', name: 'Show banner' });
  // A new flag serves its first variation (true) when on.
  await api.instruct(key, 'test', 'show-banner', { kind: 'turnFlagOn' });
  return env.sdkKey;
}

/** Evaluations of `show-banner` and `page-view` events the service has counted for the project. */
async function counted(project: string): Promise<{ evaluations: number; custom: number }> {
  const base = `/projects/${project}/environments/test/insights`;
  const flags = (await api.expect(200, 'GET', `${base}/flags`)).flags as { key: string; total: number }[];
  const events = (await api.expect(200, 'GET', `${base}/events`)).events as { key: string; total: number }[];
  return {
    evaluations: flags.find((f) => f.key === 'show-banner')?.total ?? 0,
    custom: events.find((e) => e.key === 'page-view')?.total ?? 0,
  };
}

/** Waits for the counts to reach `n`, then checks they are exactly `n` (none lost, none twice). */
async function expectCounted(project: string, n: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const got = await counted(project);
      expect(got.evaluations + got.custom).toBeGreaterThanOrEqual(2 * n);
    },
    { timeout: 15_000, interval: 100 },
  );
  expect(await counted(project)).toEqual({ evaluations: n, custom: n });
}

/** A function directory holding `handlerFile` as index.mjs. */
function taskRoot(name: string, handlerFile: string, optDir: string): string {
  const dir = join(tmp, 'task', name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(handlerFile, join(dir, 'index.mjs'));
  // Lambda resolves ES module imports of layer packages (Node.js 18 and later); Node itself only
  // looks in node_modules folders above the importing file, so the stand-in task root gets a link.
  symlinkSync(join(optDir, 'nodejs', 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

async function start(
  name: string,
  handlerFile: string,
  optDir: string,
  env: Record<string, string>,
): Promise<EmulatedFunction> {
  const fn = await startLambda({
    taskRoot: taskRoot(name, handlerFile, optDir),
    handler: 'index.handler',
    optDir,
    functionName: name,
    env: {
      // Each environment gets its own extension state folder and a free loopback port.
      FLAGSTAFF_EXTENSION_DIR: join(tmp, 'state', name),
      FLAGSTAFF_EXTENSION_PORT: '0',
      ...env,
    },
  });
  running.push(fn);
  return fn;
}

/** N invocations; returns the responses and records the timings under `label`. */
async function invokeN(fn: EmulatedFunction, label: string): Promise<unknown[]> {
  const responses: unknown[] = [];
  measured[label] ??= { responseMs: [], durationMs: [] };
  const timings = measured[label];
  for (let n = 0; n < N; n += 1) {
    const result = await fn.invoke({ n, userKey: `user-${n}` });
    expect(result.error, fn.logs()).toBeUndefined();
    responses.push(result.response);
    // The first invocation waits for flag data; the rest show the steady state.
    if (n > 0) {
      timings.responseMs.push(result.responseMs);
      timings.durationMs.push(result.durationMs);
    }
  }
  return responses;
}

/** A proxy in front of the service's event endpoints that can be switched to answer 503. */
async function flakyEventsProxy(): Promise<{
  url: string;
  setDown: (down: boolean) => void;
  refused: () => number;
}> {
  let down = false;
  let refused = 0;
  const target = new URL(serviceUrl);
  const server = createServer((req, res) => {
    if (down) {
      refused += 1;
      req.resume();
      res.writeHead(503).end();
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setDown: (value) => {
      down = value;
    },
    refused: () => refused,
  };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'flagstaff-lambda-emu-'));
  optWithExtension = join(tmp, 'opt');
  optWithoutExtension = join(tmp, 'opt-no-extension');
  await buildAndUnpackLayer({ withStores: ['dynamodb'], out: join(tmp, 'layer.zip') }, optWithExtension);
  await buildAndUnpackLayer({ withStores: ['dynamodb'], out: join(tmp, 'layer.zip') }, optWithoutExtension);
  rmSync(join(optWithoutExtension, 'extensions'), { recursive: true });

  storage = await openStorage({ file: ':memory:' });
  service = await startService(storage, await bootstrapAdminToken(storage));
  serviceUrl = service.url;
  api = service.api;
}, 120_000);

afterAll(async () => {
  for (const fn of running) await fn.kill?.().catch(() => undefined);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await service?.close();
  await storage?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  const rows = Object.entries(measured).map(([label, t]) => ({
    policy: label,
    'response p50 ms': median(t.responseMs).toFixed(2),
    'billed p50 ms': median(t.durationMs).toFixed(2),
  }));
  if (rows.length > 0) console.table(rows);
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
}

const policyHandler = join(HERE, 'fixtures/policy-handler.mjs');

describe('flush policies under the Lambda emulation: no event lost', () => {
  it("'invocation': every invocation delivers its own events before returning (no extension)", async () => {
    const sdkKey = await newProject('emu-invocation');
    const fn = await start('invocation', policyHandler, optWithoutExtension, {
      FLAGSTAFF_SDK_KEY: sdkKey,
      FLAGSTAFF_BASE_URI: serviceUrl,
      FLUSH_POLICY: 'invocation',
    });
    const responses = await invokeN(fn, 'invocation');
    expect(responses.every((r) => (r as { value: boolean }).value === true)).toBe(true);
    // Delivered before each response, so counted while the environment is still frozen.
    await expectCounted('emu-invocation', N);
    const shutdown = await fn.shutdown();
    expect(shutdown.budgetMs).toBe(0);
  });

  it("'shutdown': events wait in the frozen environment and go out on SIGTERM", async () => {
    const sdkKey = await newProject('emu-shutdown');
    const fn = await start('shutdown', policyHandler, optWithExtension, {
      FLAGSTAFF_SDK_KEY: sdkKey,
      FLAGSTAFF_BASE_URI: serviceUrl,
      FLUSH_POLICY: 'shutdown',
    });
    await invokeN(fn, 'shutdown');
    // Nothing was delivered yet: the SDK's timer is an hour and nothing flushed per invocation.
    expect(await counted('emu-shutdown')).toEqual({ evaluations: 0, custom: 0 });
    const shutdown = await fn.shutdown();
    expect(shutdown.budgetMs).toBe(2000);
    expect(shutdown.runtimeSigtermAt).toBeDefined();
    expect(shutdown.runtimeKilled, fn.logs()).toBe(false);
    await expectCounted('emu-shutdown', N);
  });

  it("'extension' (the default with the layer's extension): delivered after each response, before the freeze", async () => {
    const sdkKey = await newProject('emu-extension');
    const fn = await start('extension', policyHandler, optWithExtension, {
      FS_TIMING: '1',
      FLAGSTAFF_SDK_KEY: sdkKey,
      FLAGSTAFF_BASE_URI: serviceUrl,
    });
    await invokeN(fn, 'extension');
    // Everything arrived while the environment is frozen: the extension finished before the freeze.
    await expectCounted('emu-extension', N);
    console.log(
      fn
        .logs()
        .split('\n')
        .filter((l) => l.includes('TIMING'))
        .join('\n'),
    );
    const shutdown = await fn.shutdown();
    expect(shutdown.extensions.map((e) => ({ name: e.name, killed: e.killed }))).toEqual([
      { name: 'flagstaff', killed: false },
    ]);
    expect(await counted('emu-extension')).toEqual({ evaluations: N, custom: N });
  });

  it("'extension': with the events service down, the extension keeps the events and delivers them at SHUTDOWN", async () => {
    const sdkKey = await newProject('emu-outage');
    const proxy = await flakyEventsProxy();
    const fn = await start('outage', policyHandler, optWithExtension, {
      FLAGSTAFF_SDK_KEY: sdkKey,
      FLAGSTAFF_BASE_URI: serviceUrl,
      FLAGSTAFF_EVENTS_URI: proxy.url,
      // Short retries so the outage does not make each invocation long.
      FLAGSTAFF_EXTENSION_DELIVERY_MS: '300',
    });
    proxy.setDown(true);
    await invokeN(fn, 'extension, events service down');
    expect(proxy.refused()).toBeGreaterThan(0);
    expect(await counted('emu-outage')).toEqual({ evaluations: 0, custom: 0 });
    proxy.setDown(false);
    const shutdown = await fn.shutdown();
    expect(shutdown.extensions[0]?.killed, fn.logs()).toBe(false);
    await expectCounted('emu-outage', N);
  });
});

describe('a thaw after a long freeze', () => {
  it("'extension': the first hand-off after the loopback connections idled past their timeouts still lands", async () => {
    const sdkKey = await newProject('emu-long-freeze');
    const fn = await start('long-freeze', policyHandler, optWithExtension, {
      FLAGSTAFF_SDK_KEY: sdkKey,
      FLAGSTAFF_BASE_URI: serviceUrl,
    });
    for (let n = 0; n < 3; n += 1) expect((await fn.invoke({ n })).error).toBeUndefined();
    // Frozen for longer than Node's HTTP keep-alive timeouts (5 s server, 4 s client): the timers fire
    // the moment the processes are thawed, as they would after minutes or hours on Lambda. (The race
    // this guards against is narrow; the test shows the whole path works after such a thaw.)
    await new Promise((resolve) => setTimeout(resolve, 6500));
    for (let n = 3; n < 6; n += 1) expect((await fn.invoke({ n })).error).toBeUndefined();
    await expectCounted('emu-long-freeze', 6);
    expect(fn.logs()).not.toContain('did not take the hand-off signal');
    await fn.shutdown();
  });
});

describe("the seed's handlers with only the import changed", () => {
  it('flush per invocation delivers every event', async () => {
    const sdkKey = await newProject('emu-seed-flush');
    const fn = await start(
      'seed-flush',
      join(EXAMPLES, 'seed/flush-per-invocation.mjs'),
      optWithoutExtension,
      {
        LAUNCHDARKLY_SDK_KEY: sdkKey,
        LAUNCHDARKLY_BASE_URI: serviceUrl,
        LAUNCHDARKLY_STREAM_URI: serviceUrl,
        LAUNCHDARKLY_EVENTS_URI: serviceUrl,
      },
    );
    await invokeN(fn, 'seed: flush per invocation');
    await expectCounted('emu-seed-flush', N);
    await fn.shutdown();
  });

  it("close on SIGTERM delivers every event once the layer's extension makes Lambda send SIGTERM", async () => {
    const sdkKey = await newProject('emu-seed-sigterm');
    const fn = await start('seed-sigterm', join(EXAMPLES, 'seed/sigterm-close.mjs'), optWithExtension, {
      LAUNCHDARKLY_SDK_KEY: sdkKey,
      LAUNCHDARKLY_BASE_URI: serviceUrl,
      LAUNCHDARKLY_STREAM_URI: serviceUrl,
      LAUNCHDARKLY_EVENTS_URI: serviceUrl,
    });
    await invokeN(fn, 'seed: close on SIGTERM');
    const shutdown = await fn.shutdown();
    expect(shutdown.runtimeSigtermAt).toBeDefined();
    await expectCounted('emu-seed-sigterm', N);
  });
});

describe('daemon mode', () => {
  let dynamo: LocalDynamoDB;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo?.close();
  });

  it('a cold start reads flags from DynamoDB and never calls the flag service for them', async () => {
    const sdkKey = await newProject('emu-daemon');
    const table = await dynamo.createTable();
    // The table as the sync function (or a relay) leaves it.
    const sync = createSyncHandler({
      tableName: table,
      prefix: 'emu-daemon',
      sdkKey,
      baseUri: serviceUrl,
      webhookSecret: 'unused',
      dynamoDB: { clientOptions: dynamo.clientConfig },
    });
    await sync({ source: 'aws.events', 'detail-type': 'Scheduled Event' } as never);
    await sync.close();

    // Anything asking this server for flags would be calling the flag service: it records and refuses.
    const flagRequests: string[] = [];
    const trap = createServer((req, res) => {
      flagRequests.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    servers.push(trap);
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;

    const endpoint = dynamo.clientConfig.endpoint as string;
    const fn = await start('daemon', join(EXAMPLES, 'daemon/index.mjs'), optWithExtension, {
      FLAGSTAFF_SDK_KEY: sdkKey,
      FLAGSTAFF_DYNAMODB_TABLE: table,
      FLAGSTAFF_DYNAMODB_PREFIX: 'emu-daemon',
      FLAGSTAFF_DYNAMODB_ENDPOINT: endpoint,
      FLAGSTAFF_EVENTS_URI: serviceUrl,
      // What Lambda puts in every function's environment; the store signs with them itself.
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'emulated',
      AWS_SECRET_ACCESS_KEY: 'emulated',
      FLAGSTAFF_BASE_URI: trapUrl,
    });
    const first = await fn.invoke({ userKey: 'cold' });
    expect(first.error, fn.logs()).toBeUndefined();
    expect(JSON.parse((first.response as { body: string }).body)).toEqual({ showBanner: true });
    await fn.shutdown();
    expect(flagRequests).toEqual([]);
  });
});
