/**
 * Lambda flush policies, measured under the Lambda emulation (packages/lambda/test/emulator): the real
 * aws-lambda-ric runtime client, the layer and its extension, a freeze after every invocation, AWS's
 * shutdown budget. The events endpoint sits behind a proxy that adds a network delay to each request
 * (default 20 ms, `FLAGSTAFF_BENCH_EVENTS_DELAY_MS`), since on loopback every policy looks free.
 *
 * Per variant: a fresh execution environment, one unrecorded invocation (the cold start), then
 * `ROUNDS` invocations, then SHUTDOWN; afterwards, the events the flag service counted. The official
 * SDK (v9) runs the seed's own handlers with only the import changed back.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildFlagService,
  createToken,
  type FlagService,
  openStorage,
  type Storage,
} from '@flagstaff/server';
import { startLambda } from '../../packages/lambda/test/emulator/index.js';
import { buildAndUnpackLayer } from '../../packages/lambda/test/support/layer.js';
import { markdownTable } from '../lib/table.js';
import { median } from '../lib/timing.js';

export const description =
  'Lambda flush policies under the emulation: response time, billed time and events delivered, ours vs the seed on the official SDK';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROUNDS = 50;
const DELAY_MS = Number(process.env.FLAGSTAFF_BENCH_EVENTS_DELAY_MS ?? 20);

interface Variant {
  name: string;
  /** The handler file, copied to the task root as index.mjs. */
  handler: string;
  /** Replaces the Flagstaff SDK import with the official one (the seed's handlers as written). */
  official?: boolean;
  extension: boolean;
  env?: Record<string, string>;
}

const seed = (file: string) => join(repoRoot, 'examples/lambda/seed', file);
const policyHandler = join(repoRoot, 'packages/lambda/test/fixtures/policy-handler.mjs');

const VARIANTS: Variant[] = [
  {
    name: 'official v9, seed: flush per invocation',
    handler: seed('flush-per-invocation.mjs'),
    official: true,
    extension: false,
  },
  {
    name: 'official v9, seed: close on SIGTERM (+ our extension)',
    handler: seed('sigterm-close.mjs'),
    official: true,
    extension: true,
  },
  { name: 'ours, seed: flush per invocation', handler: seed('flush-per-invocation.mjs'), extension: false },
  {
    name: 'ours, seed: close on SIGTERM (+ our extension)',
    handler: seed('sigterm-close.mjs'),
    extension: true,
  },
  {
    name: "ours, withFlags flush: 'invocation'",
    handler: policyHandler,
    extension: false,
    env: { FLUSH_POLICY: 'invocation' },
  },
  {
    name: "ours, withFlags flush: 'shutdown'",
    handler: policyHandler,
    extension: true,
    env: { FLUSH_POLICY: 'shutdown' },
  },
  { name: "ours, withFlags flush: 'extension'", handler: policyHandler, extension: true },
];

export async function run(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'flagstaff-bench-lambda-'));
  const storage: Storage = await openStorage({ file: ':memory:' });
  let service: FlagService | undefined;
  let proxy: Server | undefined;
  try {
    const optWith = join(tmp, 'opt');
    const optWithout = join(tmp, 'opt-no-extension');
    await buildAndUnpackLayer({ out: join(tmp, 'layer.zip') }, optWith);
    await buildAndUnpackLayer({ out: join(tmp, 'layer.zip') }, optWithout);
    rmSync(join(optWithout, 'extensions'), { recursive: true });

    const token = await storage.transaction(async (tx) => (await createToken(tx, 'bench', 'admin')).secret);
    service = await buildFlagService({ storage, heartbeatIntervalMs: 60_000 });
    const serviceUrl = await service.app.listen({ port: 0, host: '127.0.0.1' });
    const admin = adminClient(serviceUrl, token);
    proxy = await delayingProxy(serviceUrl, DELAY_MS);
    const eventsUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    console.log(
      `${ROUNDS} warm invocations per variant (after one cold start), one evaluation and one custom event each; ` +
        `events endpoint ${DELAY_MS} ms away.\n`,
    );
    const rows: string[][] = [];
    for (const [index, variant] of VARIANTS.entries()) {
      const project = `bench-lambda-${index}`;
      const sdkKey = await admin.project(project);
      const taskRoot = join(tmp, 'task', String(index));
      mkdirSync(taskRoot, { recursive: true });
      let code = readFileSync(variant.handler, 'utf8');
      if (variant.official)
        code = code.replace("'@flagstaff/node-server-sdk'", "'@launchdarkly/node-server-sdk'");
      writeFileSync(join(taskRoot, 'index.mjs'), code);
      // ES module imports: the official SDK from the repository's node_modules, ours from the layer.
      symlinkSync(
        variant.official ? join(repoRoot, 'node_modules') : join(optWith, 'nodejs', 'node_modules'),
        join(taskRoot, 'node_modules'),
      );
      const fn = await startLambda({
        taskRoot,
        handler: 'index.handler',
        optDir: variant.extension ? optWith : optWithout,
        functionName: `bench-${index}`,
        env: {
          FLAGSTAFF_EXTENSION_DIR: join(tmp, 'state', String(index)),
          FLAGSTAFF_EXTENSION_PORT: '0',
          LAUNCHDARKLY_SDK_KEY: sdkKey,
          LAUNCHDARKLY_BASE_URI: serviceUrl,
          LAUNCHDARKLY_STREAM_URI: serviceUrl,
          LAUNCHDARKLY_EVENTS_URI: eventsUrl,
          FLAGSTAFF_SDK_KEY: sdkKey,
          FLAGSTAFF_BASE_URI: serviceUrl,
          FLAGSTAFF_EVENTS_URI: eventsUrl,
          ...variant.env,
        },
      });
      const response: number[] = [];
      const billed: number[] = [];
      try {
        for (let n = 0; n <= ROUNDS; n += 1) {
          const result = await fn.invoke({ n, userKey: `user-${n}` });
          if (result.error) throw new Error(`${variant.name}: ${result.error.errorMessage}\n${fn.logs()}`);
          if (n === 0) continue;
          response.push(result.responseMs ?? Number.NaN);
          billed.push(result.durationMs);
        }
        await fn.shutdown();
      } finally {
        await fn.dispose();
      }
      // Give deliveries that were under way at the end a moment to be counted.
      const delivered = await admin.settledCount(project);
      rows.push([
        variant.name,
        median(response).toFixed(1),
        percentile(response, 0.9).toFixed(1),
        median(billed).toFixed(1),
        `${delivered} / ${ROUNDS + 1}`,
      ]);
    }
    console.log(
      markdownTable(
        ['variant', 'response p50 ms', 'response p90 ms', 'billed p50 ms', 'evaluations delivered'],
        rows,
        ['left', 'right', 'right', 'right', 'right'],
      ),
    );
  } finally {
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    await service?.close();
    await storage.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Forwards to `target`, answering each request `delayMs` later: a network round trip on loopback. */
async function delayingProxy(target: string, delayMs: number): Promise<Server> {
  const url = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const upstream = request(
          { host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.writeHead(502).end());
        upstream.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function adminClient(serviceUrl: string, token: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${serviceUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json().catch(() => ({}))) as Record<string, unknown>;
  };
  const count = async (project: string) => {
    const flags = (await call('GET', `/projects/${project}/environments/test/insights/flags`)).flags as {
      key: string;
      total: number;
    }[];
    return flags.find((f) => f.key === 'show-banner')?.total ?? 0;
  };
  return {
    async project(key: string): Promise<string> {
      const created = await call('POST', '/projects', { key, name: key });
      await call('POST', `/projects/${key}/flags`, { key: 'show-banner', name: 'Show banner' });
      await call('PATCH', `/projects/${key}/environments/test/flags/show-banner`, {
        instructions: [{ kind: 'turnFlagOn' }],
      });
      return (created.environments as { key: string; sdkKey: string }[]).find((e) => e.key === 'test')!
        .sdkKey;
    },
    /** The count once it has stopped changing for a second (deliveries after shutdown land late). */
    async settledCount(project: string): Promise<number> {
      let last = -1;
      for (;;) {
        const now = await count(project);
        if (now === last) return now;
        last = now;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    },
  };
}
