import type { CommittedChange, ServerContext } from '../context.js';
import { ConflictError, type StorageWriter } from '../storage/types.js';
import { ApiError } from './errors.js';
import { auditScope } from './ids.js';
import type { Actor, AuditEntry } from './types.js';

/** Who asks for a change and why; every write records both in the audit log. */
export interface ChangeRequest {
  actor: Actor;
  comment?: string;
  /** The version the caller based the change on (body `version` or `If-Match`), if it said. */
  expectedVersion?: number;
}

/** What a write hands over for after its commit: webhook notifications (`ctx.onCommitted`). */
export class Outbox {
  readonly committed: CommittedChange[] = [];

  add(change: CommittedChange): void {
    this.committed.push(change);
  }
}

const ATTEMPTS = 3;

/**
 * Runs `fn` in a storage transaction and, after the commit, hands its changes to `ctx.onCommitted`.
 * Writes pass the revision they read as `expectRev`, so a concurrent writer on another replica makes
 * the store refuse the write (ConflictError) instead of losing an update. A caller that named the
 * version it expects gets that as a 409 (it must look at the new state); otherwise the whole change is
 * re-run on fresh data, because it never depended on what the other writer changed.
 */
export async function write<T>(
  ctx: ServerContext,
  request: Pick<ChangeRequest, 'expectedVersion'>,
  fn: (tx: StorageWriter, outbox: Outbox) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const outbox = new Outbox();
    try {
      const result = await ctx.storage.transaction((tx) => fn(tx, outbox));
      for (const change of outbox.committed) {
        try {
          ctx.onCommitted(change);
        } catch {
          // The change is committed: a failing listener must not turn it into an error answer.
        }
      }
      return result;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      if (request.expectedVersion === undefined && attempt < ATTEMPTS) continue;
      throw new ApiError(409, 'conflict', `${err.message}; re-read it and retry`);
    }
  }
}

/** Appends one audit entry in the transaction of the change it describes. */
export async function audit(
  tx: StorageWriter,
  request: ChangeRequest,
  entry: Omit<AuditEntry, 'actor' | 'comment'>,
): Promise<void> {
  const value: AuditEntry = { actor: request.actor, ...entry };
  if (request.comment !== undefined && request.comment !== '') value.comment = request.comment;
  await tx.append(
    'audit',
    auditScope(entry.projectKey, entry.envKey, `${entry.resource.kind}:${entry.resource.key}`),
    value,
  );
}

/** JSON equality for change detection: a write that changes nothing is not a change. */
export function sameJson(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}
