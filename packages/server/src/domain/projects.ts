import type { CommittedChange, ServerContext } from '../context.js';
import type { Doc, StorageWriter } from '../storage/types.js';
import { createEnvironmentIn } from './environments.js';
import { alreadyExists, invalid, quote, staleVersion } from './errors.js';
import { projectId } from './ids.js';
import { loadProject, loadWritableProject } from './lookup.js';
import { matchesQuery, type Page, pageOf } from './paging.js';
import type { EnvironmentCreate } from './schemas.js';
import type { Environment, Project } from './types.js';
import { type ProjectView, projectView } from './views.js';
import { audit, type ChangeRequest, type Outbox, write } from './write.js';

/** What a new project gets unless the request lists its environments. */
export const DEFAULT_ENVIRONMENTS: EnvironmentCreate[] = [
  { key: 'production', name: 'Production', critical: true, color: 'd7263d' },
  { key: 'test', name: 'Test', critical: false, color: '1b998b' },
];

export interface ProjectCreate {
  key: string;
  name: string;
  description?: string;
  tags?: string[];
  environments?: EnvironmentCreate[];
}

function announce(
  tx: StorageWriter,
  outbox: Outbox,
  request: ChangeRequest,
  action: string,
  after: Project,
  before?: Project,
): void {
  tx.notify({ projectKey: after.key, kind: 'project', key: after.key });
  const change: CommittedChange = {
    projectKey: after.key,
    kind: 'project',
    key: after.key,
    action,
    actor: request.actor,
    current: after,
  };
  if (before) change.previous = before;
  if (request.comment) change.comment = request.comment;
  outbox.add(change);
}

async function environmentsOf(ctx: ServerContext, projectKey: string): Promise<Doc<Environment>[]> {
  return ctx.storage.list<Environment>('environments', { prefix: `${projectKey}/` });
}

export async function createProject(
  ctx: ServerContext,
  request: ChangeRequest,
  input: ProjectCreate,
): Promise<ProjectView> {
  const environments = input.environments ?? DEFAULT_ENVIRONMENTS;
  const seen = new Map<string, number>();
  const duplicates = environments.flatMap((e, i) => {
    const first = seen.get(e.key);
    seen.set(e.key, first ?? i);
    return first === undefined
      ? []
      : [
          {
            path: `/environments/${i}/key`,
            message: `duplicates environment ${first}'s key ${quote(e.key)}`,
          },
        ];
  });
  if (duplicates.length > 0) throw invalid(duplicates);

  return write(ctx, request, async (tx, outbox) => {
    const id = projectId(input.key);
    if (await tx.get('projects', id)) throw alreadyExists(`project ${quote(input.key)} already exists`);
    const now = ctx.now();
    const project: Project = {
      key: input.key,
      name: input.name,
      tags: input.tags ?? [],
      archived: false,
      createdAt: now,
      updatedAt: now,
    };
    if (input.description !== undefined) project.description = input.description;
    const doc = await tx.put('projects', id, project, { expectRev: 0 });
    await audit(tx, request, {
      projectKey: project.key,
      resource: { kind: 'project', key: project.key },
      action: 'create',
      after: project,
    });
    announce(tx, outbox, request, 'create', project);
    const envs: Doc<Environment>[] = [];
    for (const env of environments)
      envs.push(await createEnvironmentIn(tx, outbox, request, project.key, env, now));
    return projectView(doc, envs, now);
  });
}

export async function getProject(ctx: ServerContext, key: string): Promise<ProjectView> {
  const doc = await loadProject(ctx.storage, key);
  return projectView(doc, await environmentsOf(ctx, key), ctx.now());
}

export interface ProjectFilter {
  archived?: boolean;
  tag?: string;
  q?: string;
  limit: number;
  after?: string;
}

export async function listProjects(ctx: ServerContext, filter: ProjectFilter): Promise<Page<ProjectView>> {
  const page = await pageOf<Project>(ctx.storage, 'projects', {
    prefix: '',
    after: filter.after,
    limit: filter.limit,
    keep: (p) =>
      p.archived === (filter.archived ?? false) &&
      (filter.tag === undefined || p.tags.includes(filter.tag)) &&
      matchesQuery(filter.q, p.key, p.name),
  });
  const items: ProjectView[] = [];
  for (const doc of page.items) {
    items.push(projectView(doc, await environmentsOf(ctx, doc.value.key), ctx.now()));
  }
  return page.next !== undefined ? { items, next: page.next } : { items };
}

export interface ProjectUpdate {
  name?: string;
  description?: string;
  tags?: string[];
}

export async function updateProject(
  ctx: ServerContext,
  request: ChangeRequest,
  key: string,
  update: ProjectUpdate,
): Promise<ProjectView> {
  return write(ctx, request, async (tx, outbox) => {
    const doc = await loadWritableProject(tx, key);
    if (request.expectedVersion !== undefined && request.expectedVersion !== doc.rev) {
      throw staleVersion(`project ${quote(key)}`, request.expectedVersion, doc.rev);
    }
    const before = doc.value;
    const after: Project = { ...before, ...stripUndefined(update), updatedAt: ctx.now() };
    const envs = await tx.list<Environment>('environments', { prefix: `${key}/` });
    const same =
      after.name === before.name &&
      after.description === before.description &&
      JSON.stringify(after.tags) === JSON.stringify(before.tags);
    if (same) return projectView(doc, envs, ctx.now());
    const written = await tx.put('projects', doc.id, after, { expectRev: doc.rev });
    await audit(tx, request, {
      projectKey: key,
      resource: { kind: 'project', key },
      action: 'update',
      before,
      after,
    });
    announce(tx, outbox, request, 'update', after, before);
    return projectView(written, envs, ctx.now());
  });
}

/**
 * Archiving hides a project and makes it read-only; its environments keep serving SDKs (archive an
 * environment to stop that), so archiving a project never breaks a running application.
 */
export async function setProjectArchived(
  ctx: ServerContext,
  request: ChangeRequest,
  key: string,
  archived: boolean,
): Promise<ProjectView> {
  return write(ctx, request, async (tx, outbox) => {
    const doc = await loadProject(tx, key);
    const envs = await tx.list<Environment>('environments', { prefix: `${key}/` });
    const before = doc.value;
    if (before.archived === archived) return projectView(doc, envs, ctx.now());
    const after: Project = { ...before, archived, updatedAt: ctx.now() };
    const written = await tx.put('projects', doc.id, after, { expectRev: doc.rev });
    const action = archived ? 'archive' : 'restore';
    await audit(tx, request, { projectKey: key, resource: { kind: 'project', key }, action, before, after });
    announce(tx, outbox, request, action, after, before);
    return projectView(written, envs, ctx.now());
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
