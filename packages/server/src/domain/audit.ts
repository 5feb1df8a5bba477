import type { Storage } from '../storage/types.js';
import { invalidField } from './errors.js';
import type { AuditEntry, ResourceKind } from './types.js';

export interface AuditQuery {
  project?: string;
  env?: string;
  /** `kind` or `kind:key`, e.g. `flag` or `flag:new-checkout`. */
  resource?: string;
  since?: number;
  until?: number;
  /** Entry id to page backwards from (exclusive). */
  before?: number;
  limit: number;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: number;
}

const RESOURCE_KINDS: readonly ResourceKind[] = [
  'project',
  'environment',
  'flag',
  'segment',
  'token',
  'webhook',
];
const BATCH = 500;

/**
 * Audit entries, newest first. Scopes are `project/env/kind:key` (`-` for no project or environment),
 * so project and environment filters are prefix scans; a resource filter without an environment also
 * has to match project-wide entries (a flag's definition changes are not in any environment), so it
 * is applied while scanning the project's entries.
 */
export async function queryAudit(
  storage: Pick<Storage, 'queryLog'>,
  query: AuditQuery,
): Promise<{ items: AuditRecord[]; next?: number }> {
  if (query.env !== undefined && query.project === undefined) {
    throw invalidField('query/env', 'an environment filter needs a project');
  }
  let kind: string | undefined;
  let key: string | undefined;
  if (query.resource !== undefined) {
    const colon = query.resource.indexOf(':');
    kind = colon < 0 ? query.resource : query.resource.slice(0, colon);
    key = colon < 0 ? undefined : query.resource.slice(colon + 1);
    if (!(RESOURCE_KINDS as readonly string[]).includes(kind)) {
      throw invalidField('query/resource', `the kind must be one of ${RESOURCE_KINDS.join(', ')}`);
    }
  }
  let scopePrefix: string | undefined;
  if (query.project !== undefined) {
    scopePrefix = `${query.project}/`;
    if (query.env !== undefined) scopePrefix += `${query.env}/${kind !== undefined ? `${kind}:` : ''}`;
  }
  const keep = (e: AuditEntry) =>
    (query.env === undefined || e.envKey === query.env) &&
    (kind === undefined || e.resource.kind === kind) &&
    (key === undefined || e.resource.key === key);

  const items: AuditRecord[] = [];
  let before = query.before;
  for (;;) {
    const batch = await storage.queryLog<AuditEntry>('audit', {
      scopePrefix,
      since: query.since,
      until: query.until,
      before,
      limit: BATCH,
    });
    for (const entry of batch) {
      before = entry.id;
      if (!keep(entry.value)) continue;
      // One entry beyond the page tells whether there is a next page.
      const last = items[items.length - 1];
      if (items.length === query.limit && last) return { items, next: last.id };
      items.push({ id: entry.id, at: entry.at, ...entry.value });
    }
    if (batch.length < BATCH) return { items };
  }
}
