// Test data for the SDK endpoints, written straight into storage with the domain's document shapes
// (the admin API is not needed, and these tests must not depend on it). Every write notifies, as the
// domain layer does, so open streams hear about it.
import type { ClientSideAvailability, JsonValue } from '@flagstaff/eval';
import { environmentId, flagId, projectId, segmentId, targetingId } from '../../src/domain/ids.js';
import { newClientSideId, newMobileKey, newSdkKey } from '../../src/domain/keys.js';
import type {
  CredentialRef,
  Environment,
  FlagDefinition,
  Project,
  SegmentDoc,
  Targeting,
} from '../../src/domain/types.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import type { ChangeNotice, Storage } from '../../src/storage/types.js';

export interface FlagSpec {
  variations?: JsonValue[];
  clientSideAvailability?: ClientSideAvailability;
  /** Targeting per environment key; a flag only exists in the environments named here. */
  envs: Record<string, Partial<Targeting>>;
}

export class SdkFixture {
  private constructor(readonly storage: Storage) {}

  static async create(): Promise<SdkFixture> {
    const storage = new SqliteStorage(':memory:');
    await storage.migrate();
    return new SdkFixture(storage);
  }

  /** A project (if new) and an environment in it, with fresh keys and their credential documents. */
  async environment(projectKey: string, envKey: string): Promise<Environment> {
    const now = Date.now();
    const env: Environment = {
      projectKey,
      key: envKey,
      name: envKey,
      critical: false,
      sdkKey: newSdkKey(),
      mobileKey: newMobileKey(),
      clientSideId: newClientSideId(),
      retiredKeys: {},
      archived: false,
      createdAt: now,
      updatedAt: now,
    };
    await this.storage.transaction(async (tx) => {
      if (!(await tx.get('projects', projectId(projectKey)))) {
        const project: Project = {
          key: projectKey,
          name: projectKey,
          tags: [],
          archived: false,
          createdAt: now,
          updatedAt: now,
        };
        await tx.put('projects', projectId(projectKey), project);
      }
      await tx.put('environments', environmentId(projectKey, envKey), env);
      const credential = (kind: CredentialRef['kind']): CredentialRef => ({ projectKey, envKey, kind });
      await tx.put('credentials', env.sdkKey, credential('sdkKey'));
      await tx.put('credentials', env.mobileKey, credential('mobileKey'));
      await tx.put('credentials', env.clientSideId, credential('clientSideId'));
      tx.notify({ projectKey, envKey, kind: 'environment', key: envKey });
    });
    return env;
  }

  /** Creates a flag: its definition in the project, its targeting in each listed environment. */
  async flag(projectKey: string, key: string, spec: FlagSpec): Promise<void> {
    const now = Date.now();
    const def: FlagDefinition = {
      projectKey,
      key,
      name: key,
      description: '',
      tags: [],
      temporary: false,
      variations: (spec.variations ?? [true, false]).map((value) => ({ value })),
      clientSideAvailability: spec.clientSideAvailability ?? {
        usingEnvironmentId: false,
        usingMobileKey: false,
      },
      archived: false,
      createdAt: now,
      updatedAt: now,
    };
    await this.storage.transaction(async (tx) => {
      await tx.put('flags', flagId(projectKey, key), def);
      for (const [envKey, targeting] of Object.entries(spec.envs)) {
        await tx.put('targeting', targetingId(projectKey, envKey, key), { ...baseTargeting(), ...targeting });
      }
      tx.notify({ projectKey, kind: 'flag', key });
    });
  }

  /** Changes a flag's targeting in one environment, bumping its version. */
  async updateTargeting(projectKey: string, envKey: string, key: string, change: Partial<Targeting>) {
    return this.storage.transaction(async (tx) => {
      const id = targetingId(projectKey, envKey, key);
      const current = await tx.get<Targeting>('targeting', id);
      if (!current) throw new Error(`no targeting ${id}`);
      const next: Targeting = { ...current.value, ...change, version: current.value.version + 1 };
      await tx.put('targeting', id, next);
      tx.notify({ projectKey, envKey, kind: 'flag', key });
      return next;
    });
  }

  /** Archives a flag in the project; its version grows in every environment, as on any change. */
  async archiveFlag(projectKey: string, key: string): Promise<void> {
    await this.storage.transaction(async (tx) => {
      const def = await tx.get<FlagDefinition>('flags', flagId(projectKey, key));
      if (!def) throw new Error(`no flag ${key}`);
      await tx.put('flags', flagId(projectKey, key), { ...def.value, archived: true });
      for (const t of await tx.list<Targeting>('targeting', { prefix: `${projectKey}/` })) {
        if (t.id.endsWith(`/${key}`))
          await tx.put('targeting', t.id, { ...t.value, version: t.value.version + 1 });
      }
      tx.notify({ projectKey, kind: 'flag', key });
    });
  }

  /** Creates or replaces a segment, one version above the stored one. */
  async segment(projectKey: string, envKey: string, key: string, change: Partial<SegmentDoc> = {}) {
    return this.storage.transaction(async (tx) => {
      const id = segmentId(projectKey, envKey, key);
      const current = await tx.get<SegmentDoc>('segments', id);
      const now = Date.now();
      const doc: SegmentDoc = {
        projectKey,
        envKey,
        key,
        name: key,
        description: '',
        tags: [],
        included: [],
        excluded: [],
        includedContexts: [],
        excludedContexts: [],
        rules: [],
        salt: `${key}-salt`,
        archived: false,
        createdAt: now,
        updatedAt: now,
        ...current?.value,
        ...change,
        version: (current?.value.version ?? 0) + 1,
      };
      await tx.put('segments', id, doc);
      tx.notify({ projectKey, envKey, kind: 'segment', key });
      return doc;
    });
  }

  /** Rotates the SDK key; the old one keeps working until `expiresAt` (set it in the past to revoke). */
  async rotateSdkKey(env: Environment, expiresAt: number): Promise<Environment> {
    return this.storage.transaction(async (tx) => {
      const id = environmentId(env.projectKey, env.key);
      const current = (await tx.get<Environment>('environments', id))!.value;
      const next: Environment = {
        ...current,
        sdkKey: newSdkKey(),
        retiredKeys: { ...current.retiredKeys, sdkKey: { key: current.sdkKey, expiresAt } },
      };
      await tx.put('environments', id, next);
      const ref: CredentialRef = { projectKey: env.projectKey, envKey: env.key, kind: 'sdkKey' };
      await tx.put('credentials', current.sdkKey, { ...ref, expiresAt });
      await tx.put('credentials', next.sdkKey, ref);
      tx.notify({ projectKey: env.projectKey, envKey: env.key, kind: 'environment', key: env.key });
      return next;
    });
  }

  async archiveEnvironment(env: Environment): Promise<void> {
    await this.storage.transaction(async (tx) => {
      const id = environmentId(env.projectKey, env.key);
      const current = (await tx.get<Environment>('environments', id))!.value;
      await tx.put('environments', id, { ...current, archived: true });
      tx.notify({ projectKey: env.projectKey, envKey: env.key, kind: 'environment', key: env.key });
    });
  }

  /** Sends a notice without writing anything (a change on another replica, a duplicate). */
  async notify(change: ChangeNotice): Promise<void> {
    await this.storage.transaction(async (tx) => tx.notify(change));
  }
}

export function baseTargeting(): Targeting {
  return {
    version: 1,
    on: true,
    prerequisites: [],
    targets: [],
    contextTargets: [],
    rules: [],
    fallthrough: { variation: 0 },
    offVariation: 1,
    salt: 'salt',
    trackEvents: false,
    trackEventsFallthrough: false,
  };
}

/** A base64url context for GET evaluation paths, without padding as browsers send it. */
export function encodeContext(context: unknown): string {
  return Buffer.from(JSON.stringify(context)).toString('base64url');
}
