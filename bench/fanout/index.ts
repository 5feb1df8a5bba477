/**
 * Flag service fan-out: how long an admin update takes to reach 1,000 SSE clients of `GET /all`, and
 * how many admin writes per second the service takes with and without those clients.
 *
 * This process hosts the service (SQLite in a temporary directory, 127.0.0.1, an ephemeral port) and
 * creates the data through the admin API. A child process (clients.ts) holds the streams and sends the
 * admin requests, so that the clients' parsing runs on its own event loop and the update's start and
 * each arrival are read from one clock. This process only serves and snapshots its CPU time when the
 * child starts and ends a phase.
 */

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFlagService, type FlagService } from '../../packages/server/src/app.js';
import { createToken } from '../../packages/server/src/domain/tokens.js';
import { openStorage } from '../../packages/server/src/storage/index.js';
import { checkFileLimit } from '../lib/env.js';
import { markdownTable } from '../lib/table.js';
import type { TimingOptions } from '../lib/timing.js';
import {
  type ChildMessage,
  type FlagState,
  type MarkMessage,
  type ParentMessage,
  percentile,
  type ResultsMessage,
  type StartMessage,
  type WritePhase,
} from './protocol.js';

export const description =
  'flag service: admin update → patch at 1,000 SSE clients (p50, p99), and admin writes/s';

const CLIENTS = 1000;
const WARMUP_UPDATES = 5;
const UPDATES = 100;
const UPDATE_GAP_MS = 100;
const WRITE_SECONDS = 5;
const WRITE_CONCURRENCY = 8;
const CONNECT_CONCURRENCY = 50;
/** Flags in the environment besides the latency flag and the writers' flags, so the put is not trivial. */
const FILLER_FLAGS = 41;
const PROJECT = 'fanout';
const ENV = 'production';
/** Descriptors a process needs besides the sockets: the SQLite files, stdio, IPC, tsx, some slack. */
const SPARE_FILES = 200;

const fanoutDir = dirname(fileURLToPath(import.meta.url));

export async function run(_options: TimingOptions): Promise<void> {
  checkFileLimit(
    CLIENTS + SPARE_FILES,
    'fanout',
    `the fanout benchmark opens ${CLIENTS} sockets in each of two processes`,
    4096,
  );
  const dataDir = mkdtempSync(join(tmpdir(), 'flagstaff-bench-fanout-'));
  const storage = await openStorage({ dataDir });
  let service: FlagService | undefined;
  try {
    service = await buildFlagService({ storage, logger: false });
    const base = await service.app.listen({ host: '127.0.0.1', port: 0 });
    const adminToken = await storage.transaction(
      async (tx) => (await createToken(tx, 'fanout benchmark', 'admin')).secret,
    );
    const data = await createData(base, adminToken);
    console.log(
      `Service on ${base}, SQLite in a temporary directory; project "${PROJECT}", environment "${ENV}" ` +
        `with ${data.flagCount} boolean flags, created through the admin API.`,
    );
    console.log(
      `${CLIENTS} SSE clients of GET /all in one child process, which also sends every admin request. ` +
        `${UPDATES} recorded updates (after ${WARMUP_UPDATES} unrecorded), ${UPDATE_GAP_MS} ms apart; ` +
        `writes for ${WRITE_SECONDS} s per row.\n`,
    );
    const config: StartMessage = {
      type: 'start',
      base,
      sdkKey: data.sdkKey,
      adminToken,
      projectKey: PROJECT,
      envKey: ENV,
      latencyFlag: data.latencyFlag,
      writerFlags: data.writerFlags,
      flagCount: data.flagCount,
      clients: CLIENTS,
      warmupUpdates: WARMUP_UPDATES,
      updates: UPDATES,
      updateGapMs: UPDATE_GAP_MS,
      writeSeconds: WRITE_SECONDS,
      writeConcurrency: WRITE_CONCURRENCY,
      connectConcurrency: CONNECT_CONCURRENCY,
    };
    const loadBefore = loadavg()[0]!;
    const { results, serverCpu } = await runClients(config, service);
    report(results, serverCpu);
    console.log(
      `\nLoad average (1 min): ${loadBefore.toFixed(2)} before the clients started, ` +
        `${loadavg()[0]!.toFixed(2)} after they finished (this run itself keeps about 2 busy).`,
    );
  } finally {
    await service?.close();
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface SetupData {
  sdkKey: string;
  latencyFlag: FlagState;
  writerFlags: FlagState[];
  flagCount: number;
}

async function createData(base: string, token: string): Promise<SetupData> {
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
  await call('POST', '/projects', { key: PROJECT, name: 'Fan-out benchmark' });
  const env = (await call('GET', `/projects/${PROJECT}/environments/${ENV}`)) as { sdkKey: string };
  const createFlag = async (key: string): Promise<FlagState> => {
    const flag = (await call('POST', `/projects/${PROJECT}/flags`, { key, name: key })) as {
      environments: Record<string, { on: boolean; version: number }>;
    };
    const targeting = flag.environments[ENV];
    if (!targeting) throw new Error(`flag ${key} has no ${ENV} targeting`);
    return { key, on: targeting.on, version: targeting.version };
  };
  const latencyFlag = await createFlag('fanout-latency');
  const writerFlags: FlagState[] = [];
  for (let i = 0; i < WRITE_CONCURRENCY; i++) writerFlags.push(await createFlag(`fanout-writer-${i}`));
  for (let i = 0; i < FILLER_FLAGS; i++) await createFlag(`filler-${String(i).padStart(2, '0')}`);
  return { sdkKey: env.sdkKey, latencyFlag, writerFlags, flagCount: 1 + WRITE_CONCURRENCY + FILLER_FLAGS };
}

/** Server CPU (user + system, all threads) and event-loop busy share, per phase. */
interface ServerCpu {
  cpuPercent: number;
  sysPercent: number;
  loopPercent: number;
}

/** Runs clients.ts in a child process, answering its marks; resolves with its results. */
function runClients(
  config: StartMessage,
  service: FlagService,
): Promise<{ results: ResultsMessage; serverCpu: Map<string, ServerCpu> }> {
  const snapshots = new Map<
    string,
    { at: number; cpu: NodeJS.CpuUsage; elu: ReturnType<typeof performance.eventLoopUtilization> }
  >();
  const serverCpu = new Map<string, ServerCpu>();
  // The parent's execArgv (--conditions=flagstaff-source --import tsx) is passed on by default.
  const child = fork(join(fanoutDir, 'clients.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const tell = (message: ParentMessage) => child.send(message);

  const onMark = async (message: MarkMessage): Promise<void> => {
    if (message.waitConnections !== undefined) {
      const deadline = performance.now() + 10_000;
      while (service.hub.connectionCount !== message.waitConnections && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const snapshot = {
      at: performance.now(),
      cpu: process.cpuUsage(),
      elu: performance.eventLoopUtilization(),
    };
    snapshots.set(message.label, snapshot);
    const phase = /^(.*):end$/.exec(message.label)?.[1];
    const start = phase === undefined ? undefined : snapshots.get(`${phase}:start`);
    if (phase !== undefined && start) {
      const cpu = process.cpuUsage(start.cpu);
      const wall = snapshot.at - start.at;
      serverCpu.set(phase, {
        cpuPercent: ((cpu.user + cpu.system) / 1000 / wall) * 100,
        sysPercent: (cpu.system / 1000 / wall) * 100,
        loopPercent: performance.eventLoopUtilization(snapshot.elu, start.elu).utilization * 100,
      });
    }
    tell({ type: 'marked', id: message.id, connections: service.hub.connectionCount });
  };

  return new Promise((resolve, reject) => {
    let results: ResultsMessage | undefined;
    let failure: string | undefined;
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'mark') void onMark(message);
      else if (message.type === 'results') results = message;
      else failure = message.message;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (results && code === 0) resolve({ results, serverCpu });
      else if (failure !== undefined) reject(new Error(`fanout: ${failure}`));
      else
        reject(
          new Error(`fanout: the client process exited (code ${code}, signal ${signal}) without results`),
        );
    });
    tell(config);
  });
}

const ms = (value: number): string =>
  Number.isNaN(value) ? '–' : value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
const count = (value: number): string => value.toLocaleString('en-US');
const cpuCell = (total: number, system: number): string => `${total.toFixed(0)} (${system.toFixed(0)})`;

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

function report(results: ResultsMessage, serverCpu: Map<string, ServerCpu>): void {
  const { connect, latency, writes } = results;
  console.log('Connecting (every client checked: one put, every flag, the expected versions):\n');
  console.log(
    markdownTable(
      ['clients', 'all response headers ms', 'all puts received ms', 'put data bytes', 'streams at server'],
      [
        [
          count(CLIENTS),
          ms(connect.headersMs),
          ms(connect.putsMs),
          count(connect.putBytes),
          count(connect.serverConnections),
        ],
      ],
      ['right', 'right', 'right', 'right', 'right'],
    ),
  );

  console.log(
    `\nAdmin update (PATCH turnFlagOn/turnFlagOff) → patch at the clients, ms from just before the request ` +
      `was sent (patch data ${count(latency.patchBytes)} bytes; every client got every update):\n`,
  );
  console.log(
    markdownTable(
      ['measure', 'values', 'min', 'p50', 'p90', 'p99', 'max'],
      [
        distributionRow('last of the clients, per update', latency.lastClientMs),
        distributionRow('each client, per update', latency.perClientMs),
        distributionRow('admin PATCH answered', latency.adminMs),
      ],
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );

  console.log(
    `\nAdmin writes (PATCH turnFlagOn/turnFlagOff, each writer toggling its own flag), ${WRITE_SECONDS} s per row:\n`,
  );
  console.log(
    markdownTable(
      [
        'clients',
        'writers',
        'writes',
        'writes/s',
        'write p50 ms',
        'write p99 ms',
        'patches per client per write',
        'drain ms',
        'server CPU % (sys)',
        'server loop busy %',
        'client process CPU % (sys)',
      ],
      writes.map((phase: WritePhase) => {
        const server = serverCpu.get(phase.name);
        return [
          count(phase.clients),
          String(phase.concurrency),
          count(phase.writes),
          (phase.writes / (phase.elapsedMs / 1000)).toFixed(0),
          ms(percentile(phase.latenciesMs, 50)),
          ms(percentile(phase.latenciesMs, 99)),
          phase.patchesPerClientPerWrite === undefined ? '–' : phase.patchesPerClientPerWrite.toFixed(3),
          phase.drainMs === undefined ? '–' : ms(phase.drainMs),
          server ? cpuCell(server.cpuPercent, server.sysPercent) : '?',
          server ? server.loopPercent.toFixed(0) : '?',
          cpuCell(phase.clientCpuPercent, phase.clientSysPercent),
        ];
      }),
      ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
}
