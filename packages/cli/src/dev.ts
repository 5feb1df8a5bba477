import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
}

/** What `flagstaff dev` writes to `<data-dir>/dev.json` for scripts and tests. */
export interface DevInfo {
  url: string;
  adminToken: string;
  project: string;
  environments: Record<string, { sdkKey: string; mobileKey: string; clientSideId: string }>;
  /** The relay, and the DynamoDB table it keeps current (prefix = environment key). */
  relay: { url: string; dynamoDBEndpoint: string; dynamoDBTable: string };
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
  const storage = await openStorage({ dataDir });
  const service = await buildFlagService({ storage });
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
