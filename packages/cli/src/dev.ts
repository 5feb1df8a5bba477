import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildFlagService, createToken, findToken, openStorage } from '@flagstaff/server';
import { DEMO_PROJECT, seedDemo } from './seed.js';

export interface DevOptions {
  port: number;
  host: string;
  dataDir: string;
}

/** What `flagstaff dev` writes to `<data-dir>/dev.json` for scripts and tests. */
export interface DevInfo {
  url: string;
  adminToken: string;
  project: string;
  environments: Record<string, { sdkKey: string; mobileKey: string; clientSideId: string }>;
}

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
    const info: DevInfo = { url, adminToken, project: DEMO_PROJECT, environments };
    writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    return {
      info,
      close: async () => {
        await service.close();
        await storage.close();
      },
    };
  } catch (err) {
    await service.close().catch(() => {});
    await storage.close().catch(() => {});
    throw err;
  }
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
    'Flagstaff is running (flag service on embedded SQLite).',
    '',
    `  Flag service      ${info.url}`,
    `  Admin API         ${info.url}/api/v1   (OpenAPI: ${info.url}/api/openapi.json)`,
    `  Admin token       ${info.adminToken}`,
    '',
  ];
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
    'Point an SDK at it (LaunchDarkly SDKs work too):',
    `  init(sdkKey, { baseUri: '${info.url}', streamUri: '${info.url}', eventsUri: '${info.url}' })`,
    '',
    'Ctrl+C stops it.',
    '',
  );
  return lines.join('\n');
}
