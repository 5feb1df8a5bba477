import type { CommittedChange, ServerContext } from '../context.js';
import type { Doc, StorageWriter } from '../storage/types.js';
import { ApiError, alreadyExists, invalidField, quote, staleVersion } from './errors.js';
import { environmentId, targetingId } from './ids.js';
import { newClientSideId, newMobileKey, newSdkKey } from './keys.js';
import { loadEnvironment, loadProject, loadWritableProject } from './lookup.js';
import type { EnvironmentCreate } from './schemas.js';
import { initialTargeting } from './targetingDoc.js';
import type { CredentialRef, Environment, FlagDefinition } from './types.js';
import { type EnvironmentView, environmentView, maskedEnvironment } from './views.js';
import { audit, type ChangeRequest, type Outbox, write } from './write.js';

/*
 * Environments and their credentials. Each key is also a `credentials` document (id = the key), so
 * the SDK endpoints resolve a key with one read. Rotation replaces a key; the old one keeps working
 * until its grace period ends (its credential carries `expiresAt`), or stops at once without one.
 */

export type RotatableKey = 'sdkKey' | 'mobileKey';

function announce(
  tx: StorageWriter,
  outbox: Outbox,
  request: ChangeRequest,
  action: string,
  env: Environment,
  before?: Environment,
): void {
  tx.notify({ projectKey: env.projectKey, envKey: env.key, kind: 'environment', key: env.key });
  const change: CommittedChange = {
    projectKey: env.projectKey,
    envKey: env.key,
    kind: 'environment',
    key: env.key,
    action,
    actor: request.actor,
    // Webhook receivers are told what changed, never the keys themselves.
    current: maskedEnvironment(env),
  };
  if (before) change.previous = maskedEnvironment(before);
  if (request.comment) change.comment = request.comment;
  outbox.add(change);
}

/**
 * Creates an environment inside a running transaction (also used by project creation): its keys, and
 * a targeting document, off, for every flag of the project.
 */
export async function createEnvironmentIn(
  tx: StorageWriter,
  outbox: Outbox,
  request: ChangeRequest,
  projectKey: string,
  input: EnvironmentCreate,
  now: number,
): Promise<Doc<Environment>> {
  const id = environmentId(projectKey, input.key);
  if (await tx.get('environments', id)) {
    throw alreadyExists(`environment ${quote(input.key)} already exists in project ${quote(projectKey)}`);
  }
  const env: Environment = {
    projectKey,
    key: input.key,
    name: input.name,
    critical: input.critical ?? false,
    sdkKey: newSdkKey(),
    mobileKey: newMobileKey(),
    clientSideId: newClientSideId(),
    retiredKeys: {},
    archived: false,
    createdAt: now,
    updatedAt: now,
  };
  if (input.color !== undefined) env.color = input.color;
  for (const kind of ['sdkKey', 'mobileKey', 'clientSideId'] as const) {
    const ref: CredentialRef = { projectKey, envKey: env.key, kind };
    await tx.put('credentials', env[kind], ref, { expectRev: 0 });
  }
  const doc = await tx.put('environments', id, env, { expectRev: 0 });
  for (const flag of await tx.list<FlagDefinition>('flags', { prefix: `${projectKey}/` })) {
    await tx.put(
      'targeting',
      targetingId(projectKey, env.key, flag.value.key),
      initialTargeting(flag.value),
      {
        expectRev: 0,
      },
    );
  }
  await audit(tx, request, {
    projectKey,
    envKey: env.key,
    resource: { kind: 'environment', key: env.key },
    action: 'create',
    after: maskedEnvironment(env),
  });
  announce(tx, outbox, request, 'create', env);
  return doc;
}

export async function createEnvironment(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  input: EnvironmentCreate,
): Promise<EnvironmentView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableProject(tx, projectKey);
    const doc = await createEnvironmentIn(tx, outbox, request, projectKey, input, ctx.now());
    return environmentView(doc, ctx.now());
  });
}

export async function getEnvironment(
  ctx: ServerContext,
  projectKey: string,
  envKey: string,
): Promise<EnvironmentView> {
  await loadProject(ctx.storage, projectKey);
  return environmentView(await loadEnvironment(ctx.storage, projectKey, envKey), ctx.now());
}

export async function listEnvironments(
  ctx: ServerContext,
  projectKey: string,
  filter: { archived?: boolean },
): Promise<EnvironmentView[]> {
  await loadProject(ctx.storage, projectKey);
  const docs = await ctx.storage.list<Environment>('environments', { prefix: `${projectKey}/` });
  return docs
    .filter((d) => filter.archived === undefined || d.value.archived === filter.archived)
    .map((d) => environmentView(d, ctx.now()));
}

export interface EnvironmentUpdate {
  name?: string;
  color?: string | null;
  critical?: boolean;
}

export async function updateEnvironment(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  envKey: string,
  update: EnvironmentUpdate,
): Promise<EnvironmentView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableProject(tx, projectKey);
    const doc = await loadEnvironment(tx, projectKey, envKey);
    if (request.expectedVersion !== undefined && request.expectedVersion !== doc.rev) {
      throw staleVersion(`environment ${quote(envKey)}`, request.expectedVersion, doc.rev);
    }
    const before = doc.value;
    const after: Environment = { ...before, updatedAt: ctx.now() };
    if (update.name !== undefined) after.name = update.name;
    if (update.critical !== undefined) after.critical = update.critical;
    if (update.color === null) delete after.color;
    else if (update.color !== undefined) after.color = update.color;
    const unchanged =
      after.name === before.name && after.critical === before.critical && after.color === before.color;
    if (unchanged) return environmentView(doc, ctx.now());
    const written = await tx.put('environments', doc.id, after, { expectRev: doc.rev });
    await audit(tx, request, {
      projectKey,
      envKey,
      resource: { kind: 'environment', key: envKey },
      action: 'update',
      before: maskedEnvironment(before),
      after: maskedEnvironment(after),
    });
    announce(tx, outbox, request, 'update', after, before);
    return environmentView(written, ctx.now());
  });
}

/** Archived, an environment's keys stop working (SDK endpoints refuse them) until it is restored. */
export async function setEnvironmentArchived(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  envKey: string,
  archived: boolean,
): Promise<EnvironmentView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableProject(tx, projectKey);
    const doc = await loadEnvironment(tx, projectKey, envKey);
    const before = doc.value;
    if (before.archived === archived) return environmentView(doc, ctx.now());
    const after: Environment = { ...before, archived, updatedAt: ctx.now() };
    const written = await tx.put('environments', doc.id, after, { expectRev: doc.rev });
    const action = archived ? 'archive' : 'restore';
    await audit(tx, request, {
      projectKey,
      envKey,
      resource: { kind: 'environment', key: envKey },
      action,
      before: maskedEnvironment(before),
      after: maskedEnvironment(after),
    });
    announce(tx, outbox, request, action, after, before);
    return environmentView(written, ctx.now());
  });
}

/** Longest grace period: a rotated key that lives for years defeats the rotation. */
export const MAX_GRACE_SECONDS = 30 * 24 * 3600;

/**
 * Replaces the SDK key or mobile key. With a grace period the old key keeps working until it ends,
 * so deployments can move to the new key; a key retired by an earlier rotation stops at once, since
 * only one old key is kept per kind. The client-side ID is public and is not rotated.
 */
export async function rotateKey(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  envKey: string,
  kind: RotatableKey,
  gracePeriodSeconds = 0,
): Promise<EnvironmentView> {
  if (!Number.isInteger(gracePeriodSeconds) || gracePeriodSeconds < 0) {
    throw invalidField('/gracePeriodSeconds', 'must be a non-negative integer');
  }
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableProject(tx, projectKey);
    const doc = await loadEnvironment(tx, projectKey, envKey);
    const before = doc.value;
    const now = ctx.now();
    const after: Environment = { ...before, retiredKeys: { ...before.retiredKeys }, updatedAt: now };
    const oldKey = before[kind];
    const newKey = kind === 'sdkKey' ? newSdkKey() : newMobileKey();

    const previouslyRetired = before.retiredKeys[kind];
    if (previouslyRetired) await tx.delete('credentials', previouslyRetired.key);
    if (gracePeriodSeconds > 0) {
      const expiresAt = now + gracePeriodSeconds * 1000;
      const ref: CredentialRef = { projectKey, envKey, kind, expiresAt };
      await tx.put('credentials', oldKey, ref);
      after.retiredKeys[kind] = { key: oldKey, expiresAt };
    } else {
      await tx.delete('credentials', oldKey);
      delete after.retiredKeys[kind];
    }
    const ref: CredentialRef = { projectKey, envKey, kind };
    await tx.put('credentials', newKey, ref, { expectRev: 0 });
    after[kind] = newKey;
    const written = await tx.put('environments', doc.id, after, { expectRev: doc.rev });

    await audit(tx, request, {
      projectKey,
      envKey,
      resource: { kind: 'environment', key: envKey },
      action: 'rotateKey',
      before: maskedEnvironment(before),
      after: { ...maskedEnvironment(after), rotated: kind, gracePeriodSeconds },
    });
    announce(tx, outbox, request, 'rotateKey', after, before);
    return environmentView(written, now);
  });
}

export function assertRotatable(kind: string): asserts kind is RotatableKey {
  if (kind === 'clientSideId') {
    throw new ApiError(400, 'invalid_request', 'the client-side ID is public and is not rotated', {
      errors: [{ path: 'params/kind', message: 'kind: the client-side ID is public and is not rotated' }],
    });
  }
}
