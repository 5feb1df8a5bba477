// Test data for the events, insights and webhook tests, written straight through storage so these
// tests do not depend on the admin API.
import type { ServerContext } from '../../src/context.js';
import { environmentId, flagId, projectId } from '../../src/domain/ids.js';
import { newClientSideId, newMobileKey, newSdkKey } from '../../src/domain/keys.js';
import { createToken } from '../../src/domain/tokens.js';
import type { CredentialRef, Environment, FlagDefinition, Project } from '../../src/domain/types.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';

export interface Seeded {
  ctx: ServerContext;
  storage: SqliteStorage;
  project: string;
  prod: Environment;
  staging: Environment;
  tokens: { reader: string; writer: string; admin: string };
}

export async function seed(now: () => number = Date.now): Promise<Seeded> {
  const storage = new SqliteStorage(':memory:');
  await storage.migrate();
  const ctx: ServerContext = { storage, now, onCommitted: () => {} };
  const project = 'shop';
  const env = (key: string): Environment => ({
    projectKey: project,
    key,
    name: key,
    critical: false,
    sdkKey: newSdkKey(),
    mobileKey: newMobileKey(),
    clientSideId: newClientSideId(),
    retiredKeys: {},
    archived: false,
    createdAt: 0,
    updatedAt: 0,
  });
  const prod = env('prod');
  const staging = env('staging');
  const tokens = await storage.transaction(async (tx) => {
    const p: Project = {
      key: project,
      name: 'Shop',
      tags: [],
      archived: false,
      createdAt: 0,
      updatedAt: 0,
    };
    await tx.put('projects', projectId(project), p);
    for (const e of [prod, staging]) {
      await tx.put('environments', environmentId(project, e.key), e);
      for (const kind of ['sdkKey', 'mobileKey', 'clientSideId'] as const) {
        const ref: CredentialRef = { projectKey: project, envKey: e.key, kind };
        await tx.put('credentials', e[kind], ref);
      }
    }
    const checkout: FlagDefinition = {
      projectKey: project,
      key: 'checkout',
      name: 'Checkout',
      description: '',
      tags: [],
      temporary: false,
      variations: [{ value: 'old', name: 'Old' }, { value: 'new' }],
      clientSideAvailability: { usingEnvironmentId: true, usingMobileKey: true },
      archived: false,
      createdAt: 0,
      updatedAt: 0,
    };
    await tx.put('flags', flagId(project, 'checkout'), checkout);
    return {
      reader: (await createToken(tx, 'reader', 'reader')).secret,
      writer: (await createToken(tx, 'writer', 'writer')).secret,
      admin: (await createToken(tx, 'admin', 'admin')).secret,
    };
  });
  return { ctx, storage, project, prod, staging, tokens };
}

/** A summary event as SDKs send it (spec §6.2). */
export function summary(
  startDate: number,
  endDate: number,
  features: Record<string, { variation?: number; count: number; unknown?: boolean; version?: number }[]>,
) {
  return {
    kind: 'summary',
    startDate,
    endDate,
    features: Object.fromEntries(
      Object.entries(features).map(([key, counters]) => [
        key,
        {
          default: null,
          contextKinds: ['user'],
          counters: counters.map((c) => ({ value: c.variation ?? null, version: 1, ...c })),
        },
      ]),
    ),
  };
}
