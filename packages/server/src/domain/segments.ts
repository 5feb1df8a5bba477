import { randomUUID } from 'node:crypto';
import type { Clause, SegmentRule } from '@flagstaff/eval';
import type { ServerContext } from '../context.js';
import type { StorageReader, StorageWriter } from '../storage/types.js';
import { composeSegment } from './compose.js';
import { alreadyExists, archivedConflict, inUse, invalid, quote, staleVersion } from './errors.js';
import { flagId, segmentId } from './ids.js';
import { loadEnvironment, loadSegment, loadWritableEnvironment } from './lookup.js';
import { matchesQuery, type Page, pageOf } from './paging.js';
import { applyJsonPatch, type PatchSource } from './patch.js';
import { checkSchema } from './schemaCheck.js';
import { type SegmentCreate, SegmentDocSchema, type SegmentEditable } from './schemas.js';
import { newSalt } from './targetingDoc.js';
import type { FlagDefinition, SegmentDoc, Targeting } from './types.js';
import { checkSegment, References } from './validation.js';
import type { SegmentView } from './views.js';
import { audit, type ChangeRequest, type Outbox, sameJson, write } from './write.js';

/** Segments belong to one environment; every change raises the segment's version by one. */

function cleanRules(rules: SegmentEditable['rules']): SegmentRule[] {
  return rules.map((r) => {
    const rule: SegmentRule = { ...r, id: r.id ?? randomUUID() };
    if (rule.weight === null) delete rule.weight;
    return rule;
  });
}

function editable(s: SegmentDoc): SegmentEditable {
  return {
    name: s.name,
    description: s.description,
    tags: s.tags,
    included: s.included,
    excluded: s.excluded,
    includedContexts: s.includedContexts,
    excludedContexts: s.excludedContexts,
    rules: s.rules as SegmentEditable['rules'],
  };
}

export async function getSegment(
  reader: StorageReader,
  projectKey: string,
  envKey: string,
  key: string,
): Promise<SegmentView> {
  await loadEnvironment(reader, projectKey, envKey);
  return (await loadSegment(reader, projectKey, envKey, key)).value;
}

export interface SegmentFilter {
  archived?: boolean;
  tag?: string;
  q?: string;
  limit: number;
  after?: string;
}

export async function listSegments(
  reader: StorageReader,
  projectKey: string,
  envKey: string,
  filter: SegmentFilter,
): Promise<Page<SegmentView>> {
  await loadEnvironment(reader, projectKey, envKey);
  const page = await pageOf<SegmentDoc>(reader, 'segments', {
    prefix: `${projectKey}/${envKey}/`,
    after: filter.after,
    limit: filter.limit,
    keep: (s) =>
      s.archived === (filter.archived ?? false) &&
      (filter.tag === undefined || s.tags.includes(filter.tag)) &&
      matchesQuery(filter.q, s.key, s.name),
  });
  const items = page.items.map((d) => d.value);
  return page.next !== undefined ? { items, next: page.next } : { items };
}

function announce(
  tx: StorageWriter,
  outbox: Outbox,
  request: ChangeRequest,
  action: string,
  after: SegmentDoc,
  before?: SegmentDoc,
): void {
  const { projectKey, envKey, key } = after;
  tx.notify({ projectKey, envKey, kind: 'segment', key });
  outbox.add({
    projectKey,
    envKey,
    kind: 'segment',
    key,
    action,
    actor: request.actor,
    current: composeSegment(after),
    ...(before ? { previous: composeSegment(before) } : {}),
    ...(request.comment ? { comment: request.comment } : {}),
  });
}

export async function createSegment(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  envKey: string,
  input: SegmentCreate,
): Promise<SegmentView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableEnvironment(tx, projectKey, envKey);
    const id = segmentId(projectKey, envKey, input.key);
    if (await tx.get('segments', id)) {
      throw alreadyExists(`segment ${quote(input.key)} already exists in environment ${quote(envKey)}`);
    }
    const now = ctx.now();
    const segment: SegmentDoc = {
      projectKey,
      envKey,
      key: input.key,
      name: input.name,
      description: input.description ?? '',
      tags: input.tags ?? [],
      version: 1,
      included: input.included ?? [],
      excluded: input.excluded ?? [],
      includedContexts: input.includedContexts ?? [],
      excludedContexts: input.excludedContexts ?? [],
      rules: cleanRules(input.rules ?? []),
      salt: newSalt(),
      archived: false,
      createdAt: now,
      updatedAt: now,
    };
    // Segment JSON uses the request's field names, so validation paths need no mapping.
    const errors = await checkSegment(new References(tx, projectKey), segment);
    if (errors.length > 0) throw invalid(errors);
    await tx.put('segments', id, segment, { expectRev: 0 });
    await audit(tx, request, {
      projectKey,
      envKey,
      resource: { kind: 'segment', key: segment.key },
      action: 'create',
      after: segment,
    });
    announce(tx, outbox, request, 'create', segment);
    return segment;
  });
}

export async function patchSegment(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  envKey: string,
  key: string,
  patch: PatchSource,
): Promise<SegmentView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableEnvironment(tx, projectKey, envKey);
    const doc = await loadSegment(tx, projectKey, envKey, key);
    const before = doc.value;
    if (before.archived) {
      throw archivedConflict(`segment ${quote(key)} is archived: restore it before changing it`);
    }
    if (request.expectedVersion !== undefined && request.expectedVersion !== before.version) {
      throw staleVersion(`segment ${quote(key)}`, request.expectedVersion, before.version);
    }
    const patched = applyJsonPatch(editable(before), patch);
    const shapeErrors = checkSchema(SegmentDocSchema, patched);
    if (shapeErrors.length > 0) throw invalid(shapeErrors);
    const edited = patched as SegmentEditable;
    const after: SegmentDoc = {
      ...before,
      ...edited,
      rules: cleanRules(edited.rules),
      version: before.version + 1,
      updatedAt: ctx.now(),
    };
    if (sameJson(editable(after), editable(before))) return before;
    const errors = await checkSegment(new References(tx, projectKey), after);
    if (errors.length > 0) throw invalid(errors);
    await tx.put('segments', doc.id, after, { expectRev: doc.rev });
    await audit(tx, request, {
      projectKey,
      envKey,
      resource: { kind: 'segment', key },
      action: 'update',
      before,
      after,
    });
    announce(tx, outbox, request, 'update', after, before);
    return after;
  });
}

const usesSegment = (clauses: readonly Clause[] | undefined, key: string) =>
  (clauses ?? []).some((c) => c.op === 'segmentMatch' && c.values.includes(key));

export interface SegmentUser {
  kind: 'flag' | 'segment';
  key: string;
}

/** Live flags and segments of the environment whose rules match against segment `key`. */
async function segmentUsers(
  reader: StorageReader,
  projectKey: string,
  envKey: string,
  key: string,
): Promise<SegmentUser[]> {
  const users: SegmentUser[] = [];
  const prefix = `${projectKey}/${envKey}/`;
  for (const doc of await reader.list<Targeting>('targeting', { prefix })) {
    if (!doc.value.rules.some((r) => usesSegment(r.clauses, key))) continue;
    const flagKey = doc.id.slice(prefix.length);
    const def = await reader.get<FlagDefinition>('flags', flagId(projectKey, flagKey));
    if (def && !def.value.archived) users.push({ kind: 'flag', key: flagKey });
  }
  for (const doc of await reader.list<SegmentDoc>('segments', { prefix })) {
    const s = doc.value;
    if (s.key !== key && !s.archived && s.rules.some((r) => usesSegment(r.clauses, key))) {
      users.push({ kind: 'segment', key: s.key });
    }
  }
  return users;
}

/** What keeps a segment from being archived, so a client can warn before asking. */
export async function segmentDependents(
  reader: StorageReader,
  projectKey: string,
  envKey: string,
  key: string,
): Promise<SegmentUser[]> {
  await loadSegment(reader, projectKey, envKey, key);
  return segmentUsers(reader, projectKey, envKey, key);
}

/** Archived, a segment reaches SDKs as a tombstone; one that rules still match against cannot be. */
export async function setSegmentArchived(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  envKey: string,
  key: string,
  archived: boolean,
): Promise<SegmentView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableEnvironment(tx, projectKey, envKey);
    const doc = await loadSegment(tx, projectKey, envKey, key);
    const before = doc.value;
    if (before.archived === archived) return before;
    const after: SegmentDoc = { ...before, archived, version: before.version + 1, updatedAt: ctx.now() };
    if (archived) {
      const users = (await segmentUsers(tx, projectKey, envKey, key)).map((u) => `${u.kind} ${u.key}`);
      if (users.length > 0) {
        throw inUse(`segment ${quote(key)} is used by ${users.join(', ')}: change those first`, users);
      }
    } else {
      const errors = await checkSegment(new References(tx, projectKey), after);
      if (errors.length > 0) throw invalid(errors);
    }
    await tx.put('segments', doc.id, after, { expectRev: doc.rev });
    const action = archived ? 'archive' : 'restore';
    await audit(tx, request, {
      projectKey,
      envKey,
      resource: { kind: 'segment', key },
      action,
      before,
      after,
    });
    announce(tx, outbox, request, action, after, before);
    return after;
  });
}
