import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { loadConfig, type Relay, startRelay } from '@flagstaff/relay';
import { buildFlagService, createToken, findToken, openStorage } from '@flagstaff/server';
import { type LocalDynamoDB, startLocalDynamoDB } from './localDynamoDB.js';
import { DEMO_PROJECT, seedDemo } from './seed.js';

export interface DevOptions {
  port: number;
  host: string;
  dataDir: string;
  /** Relay port (LaunchDarkly's relay default 8030); 0 picks a free one. */
  relayPort: number;
  /** Embedded DynamoDB port (DynamoDB Local's default 8000); 0 picks a free one. */
  dynamoDBPort: number;
  /**
   * The dashboard: by default built (when missing or older than its sources) and served at `/`;
   * `false` serves none; `{ dir }` serves a build from elsewhere without building.
   */
  dashboard?: false | { dir: string };
}

/** What `flagstaff dev` writes to `<data-dir>/dev.json` for scripts and tests. */
export interface DevInfo {
  url: string;
  adminToken: string;
  project: string;
  environments: Record<string, { sdkKey: string; mobileKey: string; clientSideId: string }>;
  /** The relay, and the DynamoDB table it keeps current (prefix = environment key). */
  relay: { url: string; dynamoDBEndpoint: string; dynamoDBTable: string };
  /**
   * Opens the dashboard signed in as the admin token, when the dashboard is served. The token is in
   * the URL fragment, which browsers never send to a server, so no access log ever records it.
   */
  signInUrl?: string;
}

const DEV_TABLE = 'flagstaff-flags';
const quiet = { error: console.error, warn: console.warn, info() {}, debug() {} };

export interface DevServer {
  info: DevInfo;
  close(): Promise<void>;
}

/**
 * The whole flag service on embedded defaults: SQLite under the data directory, the demo project on
 * first start, and an admin token that survives restarts through dev.json (only its hash is stored).
 */
export async function startDev(options: DevOptions): Promise<DevServer> {
  const dataDir = resolve(options.dataDir);
  const infoFile = join(dataDir, 'dev.json');
  const dashboardDir =
    options.dashboard === false ? undefined : (options.dashboard?.dir ?? (await ensureDashboardBuilt()));
  const storage = await openStorage({ dataDir });
  const service = await buildFlagService({
    storage,
    dashboard: options.dashboard === false ? false : dashboardDir ? { dir: dashboardDir } : undefined,
  });
  let dynamo: LocalDynamoDB | undefined;
  let relay: Relay | undefined;
  try {
    const previous = readInfo(infoFile);
    let adminToken = previous?.adminToken;
    if (!adminToken || !(await findToken(storage, adminToken))) {
      adminToken = await storage.transaction(
        async (tx) => (await createToken(tx, 'flagstaff dev', 'admin')).secret,
      );
    }
    const projects = await storage.list('projects', { limit: 1 });
    if (projects.length === 0) await seedDemo(service.app, adminToken);

    await service.app.listen({ port: options.port, host: options.host });
    const address = service.app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`;

    const res = await service.app.inject({
      method: 'GET',
      url: `/api/v1/projects/${DEMO_PROJECT}/environments`,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const environments: DevInfo['environments'] = {};
    if (res.statusCode === 200) {
      for (const env of (
        res.json() as { items: { key: string; sdkKey: string; mobileKey: string; clientSideId: string }[] }
      ).items) {
        environments[env.key] = {
          sdkKey: env.sdkKey,
          mobileKey: env.mobileKey,
          clientSideId: env.clientSideId,
        };
      }
    }
    dynamo = await startLocalDynamoDB(options.dynamoDBPort, options.host, DEV_TABLE);
    relay = await startDevRelay(url, environments, dynamo, options);
    const info: DevInfo = {
      url,
      adminToken,
      project: DEMO_PROJECT,
      environments,
      relay: { url: relay.url, dynamoDBEndpoint: dynamo.endpoint, dynamoDBTable: DEV_TABLE },
    };
    if (service.dashboardDir) info.signInUrl = `${url}/#token=${encodeURIComponent(adminToken)}`;
    writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    const started = { relay, dynamo };
    return {
      info,
      close: async () => {
        await started.relay.close();
        await started.dynamo.close();
        await service.close();
        await storage.close();
      },
    };
  } catch (err) {
    await relay?.close().catch(() => {});
    await dynamo?.close().catch(() => {});
    await service.close().catch(() => {});
    await storage.close().catch(() => {});
    throw err;
  }
}

/**
 * The relay as a deployment runs it, configured through LaunchDarkly's relay variables: one stream per
 * environment from the local service, the DynamoDB table kept current (prefix = environment key),
 * events forwarded to the service.
 */
async function startDevRelay(
  serviceUrl: string,
  environments: DevInfo['environments'],
  dynamo: LocalDynamoDB,
  options: DevOptions,
): Promise<Relay> {
  // The AWS chain needs a region and credentials; dynalite accepts any. Real ones, if set, are kept.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'flagstaff-dev';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'flagstaff-dev';
  const env: Record<string, string> = {
    PORT: String(options.relayPort),
    STREAM_URI: serviceUrl,
    BASE_URI: serviceUrl,
    USE_EVENTS: 'true',
    EVENTS_HOST: serviceUrl,
    USE_DYNAMODB: 'true',
    DYNAMODB_TABLE: dynamo.table,
    DYNAMODB_URL: dynamo.endpoint,
  };
  for (const [key, keys] of Object.entries(environments)) {
    env[`LD_ENV_${key}`] = keys.sdkKey;
    env[`LD_MOBILE_KEY_${key}`] = keys.mobileKey;
    env[`LD_CLIENT_SIDE_ID_${key}`] = keys.clientSideId;
    env[`LD_PREFIX_${key}`] = key;
  }
  return startRelay(loadConfig({ env, argv: [] }), { host: options.host, logger: quiet });
}

function readInfo(file: string): Partial<DevInfo> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<DevInfo>;
  } catch {
    return undefined;
  }
}

export function banner(info: DevInfo, dataDir: string): string {
  const lines = [
    '',
    'Flagstaff is running: flag service on embedded SQLite, relay on an embedded DynamoDB-compatible store.',
    '',
    `  Flag service      ${info.url}`,
    ...(info.signInUrl ? [`  Dashboard         ${info.signInUrl}   (opens signed in)`] : []),
    `  Admin API         ${info.url}/api/v1   (OpenAPI: ${info.url}/api/openapi.json)`,
    `  Admin token       ${info.adminToken}`,
    '',
  ];
  lines.push(`  Relay             ${info.relay.url}   (status: ${info.relay.url}/status)`);
  lines.push(
    `  DynamoDB (local)  ${info.relay.dynamoDBEndpoint}   table ${info.relay.dynamoDBTable}, prefix = environment key`,
  );
  lines.push('');
  for (const [key, env] of Object.entries(info.environments)) {
    lines.push(`  ${key}`);
    lines.push(`    SDK key         ${env.sdkKey}`);
    lines.push(`    Mobile key      ${env.mobileKey}`);
    lines.push(`    Client-side ID  ${env.clientSideId}`);
  }
  lines.push(
    '',
    `  Data and dev.json in ${dataDir}`,
    '',
    'Point an SDK at the service or the relay (LaunchDarkly SDKs work too):',
    `  init(sdkKey, { baseUri: '${info.relay.url}', streamUri: '${info.relay.url}', eventsUri: '${info.relay.url}' })`,
    'or read flags in daemon mode from the table, as a Lambda would:',
    `  init(sdkKey, { useLdd: true, featureStore: DynamoDBFeatureStore('${info.relay.dynamoDBTable}', { prefix: 'production', clientOptions: { endpoint: '${info.relay.dynamoDBEndpoint}' } }) })`,
    '',
    'Ctrl+C stops it.',
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// The dashboard build: `npm start` runs from a fresh clone without a build step, so the first start
// (and any start after the dashboard's or the evaluator's sources changed) builds it with Vite.

/** What the build is made from: newer than the build means the build is stale. */
function newestSourceTime(paths: string[]): number {
  let newest = 0;
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const path of paths) visit(path);
  return newest;
}

/** Whether `dashboardDir/dist` is missing or older than its sources (including @flagstaff/eval's). */
export function dashboardIsStale(dashboardDir: string, evalSrc?: string): boolean {
  const built = join(dashboardDir, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) =>
    join(dashboardDir, p),
  );
  if (evalSrc) sources.push(evalSrc);
  return newestSourceTime(sources) > statSync(built).mtimeMs;
}

/**
 * Finds the dashboard package from the working directory and, in a source checkout, builds it when
 * stale. Returns its `dist`, or undefined when the package is not there (the service then looks for
 * a build itself, or runs without UI). Concurrent starts (tests, two terminals) take turns through a
 * lock directory, so they never write the same `dist` at once.
 */
export async function ensureDashboardBuilt(
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<string | undefined> {
  const from = createRequire(join(process.cwd(), 'index.js'));
  let dashboardDir: string;
  try {
    dashboardDir = dirname(from.resolve('@flagstaff/dashboard/package.json'));
  } catch {
    return undefined;
  }
  const dist = join(dashboardDir, 'dist');
  // An installed package ships only its build: nothing to build from.
  if (!existsSync(join(dashboardDir, 'vite.config.ts')))
    return existsSync(join(dist, 'index.html')) ? dist : undefined;
  let evalSrc: string | undefined;
  try {
    evalSrc = join(
      dirname(createRequire(join(dashboardDir, 'package.json')).resolve('@flagstaff/eval/package.json')),
      'src',
    );
  } catch {
    evalSrc = undefined;
  }
  if (!dashboardIsStale(dashboardDir, evalSrc)) return dist;
  await withLock(join(dashboardDir, '.build-lock'), async () => {
    // Another process may have built it while this one waited.
    if (!dashboardIsStale(dashboardDir, evalSrc)) return;
    log('Building the dashboard (first start, or its sources changed)...');
    const started = Date.now();
    const { build } = await import('vite');
    await build({
      root: dashboardDir,
      configFile: join(dashboardDir, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: dist, emptyOutDir: true },
    });
    log(`Dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  });
  return dist;
}

const LOCK_STALE_MS = 5 * 60_000;

async function withLock(lockDir: string, fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a process that died mid-build is taken over once it is clearly abandoned.
      let age = 0;
      try {
        age = Date.now() - statSync(lockDir).mtimeMs;
      } catch {
        continue;
      }
      if (age > LOCK_STALE_MS || Date.now() > deadline) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
