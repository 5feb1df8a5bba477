/**
 * The relay (`@flagstaff/relay`) under 10,000 SSE clients, and its client-side evaluation throughput
 * next to `@unleash/proxy`'s.
 *
 * This process hosts the flag service (SQLite in a temporary directory, 127.0.0.1) as bench/fanout does,
 * creates the data through the admin API and sends the admin updates. The relay runs in a child process,
 * so that the RSS it reports is its own; two more children hold the SSE clients. Each update's start
 * (here) and each client's receipt (there) are read from the system-wide monotonic clock (`nowUs()`).
 * The evaluation load comes from autocannon in this process, once the clients have closed.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result as LoadResult } from 'autocannon';
import { buildFlagService, type FlagService } from '../../packages/server/src/app.js';
import { createToken } from '../../packages/server/src/domain/tokens.js';
import { openStorage } from '../../packages/server/src/storage/index.js';
import { percentile } from '../fanout/protocol.js';
import { checkFileLimit } from '../lib/env.js';
import { markdownTable } from '../lib/table.js';
import type { TimingOptions } from '../lib/timing.js';
import {
  type ClientCommand,
  type ClientReport,
  nowUs,
  type RelayCommand,
  type RelayReport,
} from './protocol.js';
import { CLIENT_KEY } from './unleashChild.js';

export const description =
  'admin update → patch at 10,000 SSE clients (p50, p99), relay RSS, client-side evals/s vs @unleash/proxy';

const CLIENTS = 10_000;
const CLIENT_PROCESSES = 2;
/** Connections opening at once, per client process. */
const CONNECT_CONCURRENCY = 100;
const FLAGS = 50;
const WARMUP_UPDATES = 2;
const UPDATES = 20;
const UPDATE_GAP_MS = 250;
const PATCH_TIMEOUT_MS = 20_000;
const EVAL_WARMUP_SECONDS = 2;
const EVAL_SECONDS = 10;
const EVAL_CONNECTIONS = 50;
const PROJECT = 'relay';
const ENV = 'production';
const LATENCY_FLAG = 'relay-latency';
/** The context every evaluation request carries. */
const CONTEXT = { kind: 'user', key: 'bench-user', country: 'no' };
/** Descriptors the relay process needs besides one socket per client: upstream, stdio, IPC, tsx, slack. */
const SPARE_FILES = 500;

const relayDir = dirname(fileURLToPath(import.meta.url));

export async function run(_options: TimingOptions): Promise<void> {
  checkFileLimit(
    CLIENTS + SPARE_FILES,
    'relay',
    `the relay benchmark holds ${CLIENTS} SSE streams, one descriptor each in the relay process`,
    32768,
  );
  const dataDir = mkdtempSync(join(tmpdir(), 'flagstaff-bench-relay-'));
  const storage = await openStorage({ dataDir });
  let service: FlagService | undefined;
  const children: Child<unknown>[] = [];
  try {
    service = await buildFlagService({ storage, logger: false });
    const base = await service.app.listen({ host: '127.0.0.1', port: 0 });
    const adminToken = await storage.transaction(
      async (tx) => (await createToken(tx, 'relay benchmark', 'admin')).secret,
    );
    const admin = adminClient(base, adminToken);
    const data = await createData(admin);

    const relay = new Child<RelayReport>('relayChild.ts', [], [...process.execArgv, '--expose-gc']);
    children.push(relay);
    relay.send({
      type: 'start',
      serviceUrl: base,
      sdkKey: data.sdkKey,
      clientSideId: data.clientSideId,
      envKey: ENV,
    } satisfies RelayCommand);
    const { url: relayUrl } = await relay.next('started');
    const ctx = Buffer.from(JSON.stringify(CONTEXT)).toString('base64url');
    const evalUrl = `${relayUrl}/sdk/evalx/${data.clientSideId}/contexts/${ctx}`;
    const relayFlags = await waitForEval(evalUrl);
    console.log(
      `Flag service on ${base} (SQLite, temporary directory), project "${PROJECT}", environment "${ENV}" with ` +
        `${FLAGS} boolean flags made through the admin API. Relay ${relayUrl} in its own process, streaming ` +
        `from the service; GET ${new URL(evalUrl).pathname.replace(ctx, '<context>')} answers ${relayFlags} flags.`,
    );
    console.log(
      `${CLIENTS.toLocaleString('en-US')} SSE clients of GET /all in ${CLIENT_PROCESSES} child processes; ` +
        `${UPDATES} recorded admin updates (after ${WARMUP_UPDATES} unrecorded), ${UPDATE_GAP_MS} ms apart.\n`,
    );

    let memoryId = 0;
    const memory = async (label: string): Promise<MemoryRow> => {
      const id = memoryId++;
      relay.send({ type: 'memory', id } satisfies RelayCommand);
      const m = await relay.next('memory');
      return { label, rss: m.rss, heapUsed: m.heapUsed };
    };
    const memoryRows: MemoryRow[] = [];
    await sleep(1000);
    memoryRows.push(await memory('started, 0 clients'));

    // --- connect ---------------------------------------------------------------------------------
    const clientProcs: Child<ClientReport>[] = [];
    const share = Math.ceil(CLIENTS / CLIENT_PROCESSES);
    const connectStart = nowUs();
    for (let p = 0; p < CLIENT_PROCESSES; p++) {
      const proc = new Child<ClientReport>('clients.ts', []);
      children.push(proc);
      clientProcs.push(proc);
      const count = Math.min(share, CLIENTS - p * share);
      proc.send({
        type: 'connect',
        relayUrl,
        sdkKey: data.sdkKey,
        clients: count,
        firstIndex: p * share,
        connectConcurrency: CONNECT_CONCURRENCY,
        flagCount: FLAGS,
        latencyFlag: LATENCY_FLAG,
        latencyVersion: data.latency.version,
      } satisfies ClientCommand);
    }
    const connected = await Promise.all(clientProcs.map((proc) => proc.next('connected')));
    const connectMs = (nowUs() - connectStart) / 1000;
    await sleep(1000);
    memoryRows.push(await memory(`${CLIENTS.toLocaleString('en-US')} clients connected`));

    // --- updates ---------------------------------------------------------------------------------
    const lastClientMs: number[] = [];
    const perClientMs: number[] = [];
    const adminMs: number[] = [];
    let patchesBefore: number | undefined;
    let patchesAfter = 0;
    for (let i = 0; i < WARMUP_UPDATES + UPDATES; i++) {
      const flag = data.latency;
      const t0 = nowUs();
      await admin.toggle(flag);
      const answered = nowUs();
      for (const proc of clientProcs) {
        proc.send({ type: 'await', flag: LATENCY_FLAG, version: flag.version, timeoutMs: PATCH_TIMEOUT_MS });
      }
      const arrived = await Promise.all(clientProcs.map((proc) => proc.next('arrived')));
      const patches = arrived.reduce((sum, a) => sum + a.patches, 0);
      if (i === WARMUP_UPDATES - 1) patchesBefore = patches;
      patchesAfter = patches;
      if (i >= WARMUP_UPDATES) {
        let last = 0;
        for (const a of arrived) {
          for (const at of a.arrivalsUs) {
            const latency = (at - t0) / 1000;
            perClientMs.push(latency);
            if (latency > last) last = latency;
          }
        }
        lastClientMs.push(last);
        adminMs.push((answered - t0) / 1000);
      }
      await sleep(UPDATE_GAP_MS);
    }
    const patchesPerClient = (patchesAfter - (patchesBefore ?? 0)) / CLIENTS;
    if (patchesPerClient !== UPDATES) {
      throw new Error(`relay: the clients got ${patchesPerClient} patches each for ${UPDATES} updates`);
    }
    memoryRows.push(await memory(`after ${UPDATES + WARMUP_UPDATES} updates`));

    for (const proc of clientProcs) proc.send({ type: 'close' } satisfies ClientCommand);
    await Promise.all(clientProcs.map((proc) => proc.next('closed')));
    await Promise.all(clientProcs.map((proc) => proc.exited));
    await sleep(2000);
    memoryRows.push(await memory('clients closed, 2 s later'));

    reportFanout(connected, connectMs, lastClientMs, perClientMs, adminMs, memoryRows);

    // --- client-side evaluation ------------------------------------------------------------------
    console.log(
      `\nClient-side evaluation: autocannon in the parent process, ${EVAL_CONNECTIONS} connections, ` +
        `${EVAL_SECONDS} s per server after ${EVAL_WARMUP_SECONDS} s unreported; context ${JSON.stringify(CONTEXT)}.\n`,
    );
    const rows: EvalRow[] = [];
    rows.push(await load('@flagstaff/relay', `GET /sdk/evalx/<envId>/contexts/<ctx>`, evalUrl, {}));
    let unleashNote: string | undefined;
    try {
      const unleash = new Child<{ type: 'started'; url: string } | { type: 'failure'; message: string }>(
        'unleashChild.ts',
        [String(FLAGS)],
      );
      children.push(unleash);
      const { url } = await unleash.next('started');
      const proxyUrl = `${url}/proxy?userId=${CONTEXT.key}&country=${CONTEXT.country}`;
      const enabled = await checkUnleash(proxyUrl);
      console.log(`@unleash/proxy on ${url} answers ${enabled} enabled toggles of ${FLAGS} for the context.`);
      rows.push(
        await load('@unleash/proxy', 'GET /proxy?userId=…&country=…', proxyUrl, {
          authorization: CLIENT_KEY,
        }),
      );
    } catch (err) {
      unleashNote = err instanceof Error ? err.message : String(err);
      console.log(`@unleash/proxy could not be measured: ${unleashNote}`);
    }
    reportEval(rows);
    console.log(
      `\nLoad average (1 min) at the end: ${loadavg()[0]!.toFixed(2)} (this run keeps about 2 cores busy).`,
    );
  } finally {
    for (const child of children) child.kill();
    await service?.close();
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A forked child (same tsx flags as this process) whose IPC reports are awaited by type. */
class Child<M> {
  private readonly proc: ChildProcess;
  private readonly queue: M[] = [];
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  readonly exited: Promise<number | null>;

  constructor(file: string, args: string[], execArgv: string[] = process.execArgv) {
    this.proc = fork(join(relayDir, file), args, {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (message: M) => {
      const m = message as { type: string; message?: string };
      if (m.type === 'failure') this.failure = new Error(`${file}: ${m.message}`);
      else this.queue.push(message);
      this.waiter?.();
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.failure ??= new Error(`${file} exited (code ${code}, signal ${signal})`);
        this.waiter?.();
        resolve(code);
      });
    });
  }

  send(message: unknown): void {
    this.proc.send(message as never);
  }

  /** The next report of `type` (reports of other types before it are dropped). */
  async next<T extends string>(type: T): Promise<Extract<M, { type: T }>> {
    for (;;) {
      const index = this.queue.findIndex((m) => (m as { type: string }).type === type);
      if (index >= 0) return this.queue.splice(index, 1)[0] as Extract<M, { type: T }>;
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill();
  }
}

interface FlagState {
  key: string;
  on: boolean;
  version: number;
}

function adminClient(base: string, token: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  };
  const patch = (key: string, instructions: unknown[]) =>
    call('PATCH', `/projects/${PROJECT}/environments/${ENV}/flags/${key}`, { instructions }) as Promise<{
      on: boolean;
      version: number;
    }>;
  return {
    call,
    patch,
    /** Turns the flag on if off and off if on; the answer must carry the next version. */
    async toggle(flag: FlagState): Promise<void> {
      const on = !flag.on;
      const doc = await patch(flag.key, [{ kind: on ? 'turnFlagOn' : 'turnFlagOff' }]);
      if (doc.on !== on || doc.version !== flag.version + 1) {
        throw new Error(
          `PATCH ${flag.key}: on=${doc.on} v${doc.version}, expected on=${on} v${flag.version + 1}`,
        );
      }
      flag.on = on;
      flag.version = doc.version;
    },
  };
}

/**
 * The project, and 50 client-side flags: the latency flag (off, toggled by the updates) and 49 more, a
 * fifth each off, on, a 50/50 rollout, ten individual targets (not the benchmark's user), and a rule on
 * `country` that matches it, as the `@unleash/proxy` toggles (unleashChild.ts).
 */
async function createData(admin: ReturnType<typeof adminClient>) {
  await admin.call('POST', '/projects', { key: PROJECT, name: 'Relay benchmark' });
  const env = (await admin.call('GET', `/projects/${PROJECT}/environments/${ENV}`)) as {
    sdkKey: string;
    clientSideId: string;
  };
  const create = async (key: string): Promise<FlagState> => {
    const flag = (await admin.call('POST', `/projects/${PROJECT}/flags`, {
      key,
      name: key,
      clientSideAvailability: { usingEnvironmentId: true, usingMobileKey: true },
    })) as { environments: Record<string, { on: boolean; version: number }> };
    const targeting = flag.environments[ENV];
    if (!targeting) throw new Error(`flag ${key} has no ${ENV} targeting`);
    return { key, on: targeting.on, version: targeting.version };
  };
  const latency = await create(LATENCY_FLAG);
  for (let i = 1; i < FLAGS; i++) {
    const key = `flag-${String(i).padStart(2, '0')}`;
    await create(key);
    const kind = i % 5;
    if (kind === 0) continue;
    const instructions: unknown[] = [{ kind: 'turnFlagOn' }];
    if (kind === 1) instructions.push({ kind: 'updateFallthroughVariationOrRollout', variation: 0 });
    if (kind === 2) {
      instructions.push({
        kind: 'updateFallthroughVariationOrRollout',
        rollout: {
          variations: [
            { variation: 0, weight: 50_000 },
            { variation: 1, weight: 50_000 },
          ],
        },
      });
    }
    if (kind === 3) {
      instructions.push(
        { kind: 'addTargets', variation: 0, values: Array.from({ length: 10 }, (_, n) => `u-${n + 1}`) },
        { kind: 'updateFallthroughVariationOrRollout', variation: 1 },
      );
    }
    if (kind === 4) {
      instructions.push(
        {
          kind: 'addRule',
          clauses: [{ attribute: 'country', op: 'in', values: ['no', 'se'] }],
          variation: 0,
        },
        { kind: 'updateFallthroughVariationOrRollout', variation: 1 },
      );
    }
    await admin.patch(key, instructions);
  }
  return { sdkKey: env.sdkKey, clientSideId: env.clientSideId, latency };
}

/** Waits until the relay has the environment's data and answers every flag; returns the flag count. */
async function waitForEval(url: string): Promise<number> {
  const deadline = performance.now() + 15_000;
  let last = '';
  while (performance.now() < deadline) {
    const res = await fetch(url);
    const text = await res.text();
    if (res.status === 200) {
      const flags = Object.keys(JSON.parse(text) as Record<string, unknown>);
      if (flags.length === FLAGS) return flags.length;
      last = `${flags.length} flags`;
    } else last = `status ${res.status}: ${text.slice(0, 200)}`;
    await sleep(50);
  }
  throw new Error(`relay: GET /sdk/evalx never answered ${FLAGS} flags (last: ${last})`);
}

async function checkUnleash(url: string): Promise<number> {
  const res = await fetch(url, { headers: { authorization: CLIENT_KEY } });
  const body = (await res.json()) as { toggles?: { name: string; enabled: boolean }[] };
  if (res.status !== 200 || !Array.isArray(body.toggles)) {
    throw new Error(`GET /proxy answered ${res.status} without toggles`);
  }
  // Every "on" toggle and every matching constraint must be enabled for the context: 20 of 50 at least.
  if (body.toggles.length < (FLAGS / 5) * 2)
    throw new Error(`GET /proxy answered only ${body.toggles.length} toggles`);
  return body.toggles.length;
}

interface EvalRow {
  server: string;
  request: string;
  result: LoadResult;
}

async function load(
  server: string,
  request: string,
  url: string,
  headers: Record<string, string>,
): Promise<EvalRow> {
  await autocannon({ url, headers, connections: EVAL_CONNECTIONS, duration: EVAL_WARMUP_SECONDS });
  const result = await autocannon({ url, headers, connections: EVAL_CONNECTIONS, duration: EVAL_SECONDS });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(
      `${server}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers under load`,
    );
  }
  return { server, request, result };
}

interface MemoryRow {
  label: string;
  rss: number;
  heapUsed: number;
}

const ms = (value: number): string =>
  Number.isNaN(value) ? '–' : value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
const count = (value: number): string => value.toLocaleString('en-US');
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

function distributionRow(name: string, values: readonly number[]): string[] {
  return [
    name,
    count(values.length),
    ms(percentile(values, 0)),
    ms(percentile(values, 50)),
    ms(percentile(values, 90)),
    ms(percentile(values, 99)),
    ms(percentile(values, 100)),
  ];
}

function reportFanout(
  connected: { headersUs: number; putsUs: number; putBytes: number }[],
  connectMs: number,
  lastClientMs: number[],
  perClientMs: number[],
  adminMs: number[],
  memory: MemoryRow[],
): void {
  console.log('Connecting (every client checked: one put with every flag, the expected version):\n');
  console.log(
    markdownTable(
      ['clients', 'processes', 'all response headers s', 'all puts received s', 'put data bytes'],
      [
        [
          count(CLIENTS),
          String(CLIENT_PROCESSES),
          (Math.max(...connected.map((c) => c.headersUs)) / 1e6).toFixed(2),
          (connectMs / 1000).toFixed(2),
          count(connected[0]?.putBytes ?? 0),
        ],
      ],
      ['right', 'right', 'right', 'right', 'right'],
    ),
  );
  console.log(
    `\nAdmin update (PATCH turnFlagOn/turnFlagOff at the flag service) → patch at the relay's clients, ms from ` +
      `just before the request was sent (every client got every update, exactly one patch each):\n`,
  );
  console.log(
    markdownTable(
      ['measure', 'values', 'min', 'p50', 'p90', 'p99', 'max'],
      [
        distributionRow('last of the 10,000 clients, per update', lastClientMs),
        distributionRow('each client, per update', perClientMs),
        distributionRow('admin PATCH answered', adminMs),
      ],
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  console.log(
    '\nRelay process memory (`process.memoryUsage()` in the relay process, after a full `gc()`):\n',
  );
  console.log(
    markdownTable(
      ['when', 'RSS MiB', 'heap used MiB'],
      memory.map((row) => [row.label, mib(row.rss), mib(row.heapUsed)]),
      ['left', 'right', 'right'],
    ),
  );
}

function reportEval(rows: EvalRow[]): void {
  const relay = rows[0];
  console.log('');
  console.log(
    markdownTable(
      [
        'server',
        'request',
        'requests/s (mean)',
        'latency p50 ms',
        'latency p99 ms',
        'requests',
        'relay ÷ this',
      ],
      rows.map((row) => [
        row.server,
        row.request,
        count(Math.round(row.result.requests.average)),
        String(row.result.latency.p50),
        String(row.result.latency.p99),
        count(row.result.requests.total),
        relay ? `${(relay.result.requests.average / row.result.requests.average).toFixed(2)}×` : '–',
      ]),
      ['left', 'left', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
}
