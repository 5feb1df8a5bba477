import type { Doc, StorageReader } from '../storage/types.js';
import { archivedConflict, notFound, quote } from './errors.js';
import { environmentId, flagId, projectId, segmentId } from './ids.js';
import type { Environment, FlagDefinition, Project, SegmentDoc } from './types.js';

/*
 * Loading what a request names, with the 404 (missing) and 409 (archived, for writes) answers every
 * service gives the same way.
 */

export async function loadProject(reader: StorageReader, key: string): Promise<Doc<Project>> {
  const doc = await reader.get<Project>('projects', projectId(key));
  if (!doc) throw notFound(`project ${quote(key)} does not exist`);
  return doc;
}

/** A project that may be changed: archived projects are read-only until restored. */
export async function loadWritableProject(reader: StorageReader, key: string): Promise<Doc<Project>> {
  const doc = await loadProject(reader, key);
  if (doc.value.archived) {
    throw archivedConflict(`project ${quote(key)} is archived: restore it before changing it`);
  }
  return doc;
}

export async function loadEnvironment(
  reader: StorageReader,
  projectKey: string,
  envKey: string,
): Promise<Doc<Environment>> {
  const doc = await reader.get<Environment>('environments', environmentId(projectKey, envKey));
  if (!doc) throw notFound(`environment ${quote(envKey)} does not exist in project ${quote(projectKey)}`);
  return doc;
}

export async function loadWritableEnvironment(
  reader: StorageReader,
  projectKey: string,
  envKey: string,
): Promise<Doc<Environment>> {
  await loadWritableProject(reader, projectKey);
  const doc = await loadEnvironment(reader, projectKey, envKey);
  if (doc.value.archived) {
    throw archivedConflict(`environment ${quote(envKey)} is archived: restore it before changing it`);
  }
  return doc;
}

export async function loadFlag(
  reader: StorageReader,
  projectKey: string,
  key: string,
): Promise<Doc<FlagDefinition>> {
  const doc = await reader.get<FlagDefinition>('flags', flagId(projectKey, key));
  if (!doc) throw notFound(`flag ${quote(key)} does not exist in project ${quote(projectKey)}`);
  return doc;
}

export function assertFlagWritable(def: FlagDefinition): void {
  if (def.archived) {
    throw archivedConflict(`flag ${quote(def.key)} is archived: restore it before changing it`);
  }
}

export async function loadSegment(
  reader: StorageReader,
  projectKey: string,
  envKey: string,
  key: string,
): Promise<Doc<SegmentDoc>> {
  const doc = await reader.get<SegmentDoc>('segments', segmentId(projectKey, envKey, key));
  if (!doc) {
    throw notFound(`segment ${quote(key)} does not exist in environment ${quote(envKey)}`);
  }
  return doc;
}

/** All environments of a project, archived ones included. */
export async function projectEnvironments(reader: StorageReader, projectKey: string): Promise<Environment[]> {
  const docs = await reader.list<Environment>('environments', { prefix: `${projectKey}/` });
  return docs.map((d) => d.value);
}
