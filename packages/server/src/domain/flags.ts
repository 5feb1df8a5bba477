import type { ServerContext } from '../context.js';
import type { Doc, StorageReader, StorageWriter } from '../storage/types.js';
import { composeFlag } from './compose.js';
import { alreadyExists, type FieldError, inUse, invalid, quote, staleVersion } from './errors.js';
import { flagId, targetingId } from './ids.js';
import {
  assertFlagWritable,
  loadEnvironment,
  loadFlag,
  loadProject,
  loadWritableProject,
  projectEnvironments,
} from './lookup.js';
import { matchesQuery, type Page, pageOf } from './paging.js';
import { applyJsonPatch, type PatchSource } from './patch.js';
import { checkSchema } from './schemaCheck.js';
import { type FlagCreate, type FlagDefinitionDoc, FlagDefinitionDocSchema } from './schemas.js';
import { defaultVariations, initialTargeting, remapVariations } from './targetingDoc.js';
import type { FlagDefinition, Targeting, Variation } from './types.js';
import { checkFlag, mapPaths, References } from './validation.js';
import { type FlagView, flagView } from './views.js';
import { audit, type ChangeRequest, type Outbox, sameJson, write } from './write.js';

/*
 * Flags: a definition per project and a targeting document per environment. A definition change
 * reaches every environment, so it raises every environment's version by one and is announced to
 * each; a targeting change (targeting.ts) concerns one environment.
 */

/** Every environment's targeting of a flag, keyed by environment. */
async function targetingsOf(
  reader: StorageReader,
  projectKey: string,
  flagKey: string,
): Promise<Map<string, Doc<Targeting>>> {
  const out = new Map<string, Doc<Targeting>>();
  for (const env of await projectEnvironments(reader, projectKey)) {
    const doc = await reader.get<Targeting>('targeting', targetingId(projectKey, env.key, flagKey));
    if (doc) out.set(env.key, doc);
  }
  return out;
}

export async function getFlag(
  reader: StorageReader,
  projectKey: string,
  flagKey: string,
  envKey?: string,
): Promise<FlagView> {
  const doc = await loadFlag(reader, projectKey, flagKey);
  if (envKey !== undefined) await loadEnvironment(reader, projectKey, envKey);
  const targeting: Record<string, Targeting> = {};
  for (const [env, t] of await targetingsOf(reader, projectKey, flagKey)) {
    if (envKey === undefined || env === envKey) targeting[env] = t.value;
  }
  return flagView(doc, targeting);
}

export interface FlagFilter {
  env?: string;
  tag?: string;
  q?: string;
  archived?: boolean;
  limit: number;
  after?: string;
}

export interface FlagSummary extends Omit<FlagView, 'environments'> {
  environments: Record<string, { on: boolean; version: number }>;
}

/** Flags of a project with their state in each environment (or the one asked for). */
export async function listFlags(
  reader: StorageReader,
  projectKey: string,
  filter: FlagFilter,
): Promise<Page<FlagSummary>> {
  await loadProject(reader, projectKey);
  if (filter.env !== undefined) await loadEnvironment(reader, projectKey, filter.env);
  const page = await pageOf<FlagDefinition>(reader, 'flags', {
    prefix: `${projectKey}/`,
    after: filter.after,
    limit: filter.limit,
    keep: (def) =>
      def.archived === (filter.archived ?? false) &&
      (filter.tag === undefined || def.tags.includes(filter.tag)) &&
      matchesQuery(filter.q, def.key, def.name),
  });
  const envs = (await projectEnvironments(reader, projectKey)).filter(
    (e) => filter.env === undefined || e.key === filter.env,
  );
  const items: FlagSummary[] = [];
  for (const doc of page.items) {
    const environments: FlagSummary['environments'] = {};
    for (const env of envs) {
      const t = await reader.get<Targeting>('targeting', targetingId(projectKey, env.key, doc.value.key));
      if (t) environments[env.key] = { on: t.value.on, version: t.value.version };
    }
    const { environments: _all, ...view } = flagView(doc, {});
    items.push({ ...view, environments });
  }
  return page.next !== undefined ? { items, next: page.next } : { items };
}

/** Variation values must differ: SDKs report which variation was served by value as well as index. */
function duplicateValues(variations: readonly Variation[], at: (i: number) => string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  variations.forEach((v, i) => {
    const key = JSON.stringify(canonical(v.value));
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else errors.push({ path: at(i), message: `has the same value as variation ${first}` });
  });
  return errors;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Composed-flag paths of a new flag, as the fields of the create request. */
const CREATE_PATHS: Array<readonly [string, string]> = [
  ['/fallthrough/variation', '/defaults/onVariation'],
  ['/offVariation', '/defaults/offVariation'],
];

function variationValuePaths(errors: FieldError[]): FieldError[] {
  return errors.map((e) => {
    const m = /^\/variations\/(\d+)(.*)$/.exec(e.path);
    return m ? { path: `/variations/${m[1]}/value${m[2]}`, message: e.message } : e;
  });
}

export async function createFlag(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  input: FlagCreate,
): Promise<FlagView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableProject(tx, projectKey);
    if (await tx.get('flags', flagId(projectKey, input.key))) {
      throw alreadyExists(`flag ${quote(input.key)} already exists in project ${quote(projectKey)}`);
    }
    const now = ctx.now();
    const variations: Variation[] = input.variations ?? [{ value: true }, { value: false }];
    const def: FlagDefinition = {
      projectKey,
      key: input.key,
      name: input.name,
      description: input.description ?? '',
      tags: input.tags ?? [],
      temporary: input.temporary ?? false,
      variations,
      // LaunchDarkly's default: mobile SDKs see new flags, browser SDKs only when allowed.
      clientSideAvailability: input.clientSideAvailability ?? {
        usingMobileKey: true,
        usingEnvironmentId: false,
      },
      archived: false,
      createdAt: now,
      updatedAt: now,
    };
    def.defaults = input.defaults ?? defaultVariations(def);

    const refs = new References(tx, projectKey);
    // The defaults as given (initialTargeting would quietly fall back from out-of-range ones).
    const sample: Targeting = {
      ...initialTargeting(def),
      fallthrough: { variation: def.defaults.onVariation },
      offVariation: def.defaults.offVariation,
    };
    const errors = [
      ...duplicateValues(variations, (i) => `/variations/${i}/value`),
      ...variationValuePaths(mapPaths(await checkFlag(refs, '', def, sample), CREATE_PATHS)),
    ];
    if (errors.length > 0) throw invalid(errors);

    const defDoc = await tx.put('flags', flagId(projectKey, def.key), def, { expectRev: 0 });
    const targeting: Record<string, Targeting> = {};
    for (const env of await projectEnvironments(tx, projectKey)) {
      const t = initialTargeting(def);
      await tx.put('targeting', targetingId(projectKey, env.key, def.key), t, { expectRev: 0 });
      targeting[env.key] = t;
    }
    const view = flagView(defDoc, targeting);
    await audit(tx, request, {
      projectKey,
      resource: { kind: 'flag', key: def.key },
      action: 'create',
      after: view,
    });
    announce(tx, outbox, request, projectKey, 'create', def, targeting);
    return view;
  });
}

/** Tells SDK streams and webhooks about a flag in each environment given. */
function announce(
  tx: StorageWriter,
  outbox: Outbox,
  request: ChangeRequest,
  projectKey: string,
  action: string,
  def: FlagDefinition,
  after: Record<string, Targeting>,
  before?: { def: FlagDefinition; targeting: Record<string, Targeting> },
): void {
  for (const [envKey, t] of Object.entries(after)) {
    tx.notify({ projectKey, envKey, kind: 'flag', key: def.key });
    const previousTargeting = before?.targeting[envKey];
    outbox.add({
      projectKey,
      envKey,
      kind: 'flag',
      key: def.key,
      action,
      actor: request.actor,
      current: composeFlag(def, t),
      ...(before && previousTargeting ? { previous: composeFlag(before.def, previousTargeting) } : {}),
      ...(request.comment ? { comment: request.comment } : {}),
    });
  }
}

function definitionDoc(def: FlagDefinition): FlagDefinitionDoc {
  return {
    name: def.name,
    description: def.description,
    tags: def.tags,
    temporary: def.temporary,
    variations: def.variations,
    clientSideAvailability: def.clientSideAvailability,
  };
}

/**
 * Where each old variation went: matched by value first (moves, inserts, removals), then by position
 * for values edited in place. `undefined` marks a removed variation.
 */
function variationMap(before: readonly Variation[], after: readonly Variation[]): (number | undefined)[] {
  const key = (v: Variation) => JSON.stringify(canonical(v.value));
  const taken = new Set<number>();
  const map: (number | undefined)[] = before.map((v) => {
    const i = after.findIndex((w, j) => !taken.has(j) && key(w) === key(v));
    if (i < 0) return undefined;
    taken.add(i);
    return i;
  });
  return map.map((m, i) => {
    if (m !== undefined) return m;
    if (i < after.length && !taken.has(i) && !before.some((v) => key(v) === key(after[i]!))) {
      taken.add(i);
      return i;
    }
    return undefined;
  });
}

/** Changes a flag's definition by JSON Patch; every environment's targeting follows its variations. */
export async function patchFlag(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  flagKey: string,
  patch: PatchSource,
): Promise<FlagView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableProject(tx, projectKey);
    const defDoc = await loadFlag(tx, projectKey, flagKey);
    const def = defDoc.value;
    assertFlagWritable(def);
    if (request.expectedVersion !== undefined && request.expectedVersion !== defDoc.rev) {
      throw staleVersion(`flag ${quote(flagKey)}`, request.expectedVersion, defDoc.rev);
    }
    const patched = applyJsonPatch(definitionDoc(def), patch);
    const shapeErrors = checkSchema(FlagDefinitionDocSchema, patched);
    if (shapeErrors.length > 0) throw invalid(shapeErrors);
    const edited = patched as FlagDefinitionDoc;
    const targetings = await targetingsOf(tx, projectKey, flagKey);
    if (sameJson(edited, definitionDoc(def))) return flagView(defDoc, valuesOf(targetings));

    const next: FlagDefinition = { ...def, ...edited, updatedAt: ctx.now() };
    const map = variationMap(def.variations, next.variations);
    const describe = (i: number) => JSON.stringify(def.variations[i]?.value) ?? 'undefined';
    const errors = duplicateValues(next.variations, (i) => `/variations/${i}/value`);
    if (def.defaults) {
      const on = map[def.defaults.onVariation];
      const off = map[def.defaults.offVariation];
      if (on === undefined || off === undefined) delete next.defaults;
      else next.defaults = { onVariation: on, offVariation: off };
    }

    const refs = new References(tx, projectKey);
    const after: Record<string, Targeting> = {};
    for (const [envKey, doc] of targetings) {
      const { targeting, errors: removed } = remapVariations(doc.value, map, describe);
      // A removed variation still in use is reported once, as removed rather than out of range.
      const usesRemoved = new Set(removed.map((e) => e.path));
      const found = (await checkFlag(refs, envKey, next, targeting)).filter((e) => !usesRemoved.has(e.path));
      const inEnv = [...removed, ...found];
      errors.push(...definitionPaths(inEnv, envKey));
      after[envKey] = { ...targeting, version: doc.value.version + 1 };
    }
    errors.push(...(await dependentPrerequisites(tx, projectKey, flagKey, map)));
    if (errors.length > 0) throw invalid(errors);

    const written = await tx.put('flags', defDoc.id, next, { expectRev: defDoc.rev });
    for (const [envKey, doc] of targetings) {
      await tx.put('targeting', doc.id, after[envKey], { expectRev: doc.rev });
    }
    await audit(tx, request, {
      projectKey,
      resource: { kind: 'flag', key: flagKey },
      action: 'update',
      before: def,
      after: next,
    });
    announce(tx, outbox, request, projectKey, 'update', next, after, {
      def,
      targeting: valuesOf(targetings),
    });
    return flagView(written, after);
  });
}

function valuesOf(docs: Map<string, Doc<Targeting>>): Record<string, Targeting> {
  return Object.fromEntries([...docs].map(([env, doc]) => [env, doc.value]));
}

/**
 * Composed-flag paths as the definition patch sees them: variations are `/variations/i/value`, and
 * targeting problems a definition change causes are shown under `/environments/<env>`.
 */
function definitionPaths(errors: FieldError[], envKey: string): FieldError[] {
  return errors.map((e) => {
    if (e.path.startsWith('/variations') || e.path.startsWith('/clientSide') || e.path === '/key') {
      return variationValuePaths([e])[0]!;
    }
    return { path: `/environments/${envKey}${e.path}`, message: e.message };
  });
}

/** Other flags that need a variation of this one which a change removes or moves. */
async function dependentPrerequisites(
  reader: StorageReader,
  projectKey: string,
  flagKey: string,
  map: ReadonlyArray<number | undefined>,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  for (const user of await prerequisiteUsers(reader, projectKey, flagKey)) {
    const wanted = user.variation;
    if (map[wanted] === wanted) continue;
    errors.push({
      path: '/variations',
      message: `flag ${quote(user.flagKey)} in environment ${quote(user.envKey)} needs variation ${wanted} of this flag as a prerequisite; change that prerequisite first`,
    });
  }
  return errors;
}

/**
 * The live flags that need `flagKey` as a prerequisite, per environment: what keeps it from being
 * archived, so a client can warn before asking.
 */
export async function flagDependents(
  reader: StorageReader,
  projectKey: string,
  flagKey: string,
): Promise<Array<{ flagKey: string; envKey: string; variation: number }>> {
  await loadFlag(reader, projectKey, flagKey);
  return prerequisiteUsers(reader, projectKey, flagKey);
}

/** Non-archived flags that have `flagKey` as a prerequisite, in any environment. */
async function prerequisiteUsers(
  reader: StorageReader,
  projectKey: string,
  flagKey: string,
): Promise<Array<{ flagKey: string; envKey: string; variation: number }>> {
  const users: Array<{ flagKey: string; envKey: string; variation: number }> = [];
  const archived = new Map<string, boolean>();
  for (const env of await projectEnvironments(reader, projectKey)) {
    const prefix = `${projectKey}/${env.key}/`;
    for (const doc of await reader.list<Targeting>('targeting', { prefix })) {
      const key = doc.id.slice(prefix.length);
      const p = doc.value.prerequisites.find((x) => x.key === flagKey);
      if (!p || key === flagKey) continue;
      if (!archived.has(key)) {
        const def = await reader.get<FlagDefinition>('flags', flagId(projectKey, key));
        archived.set(key, def?.value.archived ?? true);
      }
      if (!archived.get(key)) users.push({ flagKey: key, envKey: env.key, variation: p.variation });
    }
  }
  return users;
}

/**
 * Archives or restores a flag. Archived, it reaches SDKs as a tombstone (deleted, with a higher
 * version), so they drop it; a flag other flags need as a prerequisite cannot be archived.
 */
export async function setFlagArchived(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  flagKey: string,
  archived: boolean,
): Promise<FlagView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableProject(tx, projectKey);
    const defDoc = await loadFlag(tx, projectKey, flagKey);
    const def = defDoc.value;
    const targetings = await targetingsOf(tx, projectKey, flagKey);
    if (def.archived === archived) return flagView(defDoc, valuesOf(targetings));

    const next: FlagDefinition = { ...def, archived, updatedAt: ctx.now() };
    if (archived) {
      const users = await prerequisiteUsers(tx, projectKey, flagKey);
      if (users.length > 0) {
        const names = users.map((u) => `${u.flagKey} (${u.envKey})`);
        throw inUse(
          `flag ${quote(flagKey)} is a prerequisite of ${names.join(', ')}: remove those prerequisites first`,
          names,
        );
      }
    } else {
      // What the flag refers to may have been archived meanwhile; it must still hold together.
      const refs = new References(tx, projectKey);
      const errors: FieldError[] = [];
      for (const [envKey, doc] of targetings) {
        errors.push(...definitionPaths(await checkFlag(refs, envKey, next, doc.value), envKey));
      }
      if (errors.length > 0) throw invalid(errors);
    }

    const written = await tx.put('flags', defDoc.id, next, { expectRev: defDoc.rev });
    const after: Record<string, Targeting> = {};
    for (const [envKey, doc] of targetings) {
      after[envKey] = { ...doc.value, version: doc.value.version + 1 };
      await tx.put('targeting', doc.id, after[envKey], { expectRev: doc.rev });
    }
    const action = archived ? 'archive' : 'restore';
    await audit(tx, request, {
      projectKey,
      resource: { kind: 'flag', key: flagKey },
      action,
      before: def,
      after: next,
    });
    announce(tx, outbox, request, projectKey, action, next, after, { def, targeting: valuesOf(targetings) });
    return flagView(written, after);
  });
}
