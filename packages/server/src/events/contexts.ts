import type { ServerContext } from '../context.js';
import type { Storage } from '../storage/types.js';
import type { SeenContext } from './aggregate.js';

/** A context as the contexts API lists it. */
export interface ContextRecord extends SeenContext {
  /** When an event last mentioned it (server time, epoch ms). */
  lastSeen: number;
}

/** The stored form: collection `contexts`, id `project/env`, newest first, at most `max` entries. */
export interface ContextsDoc {
  contexts: ContextRecord[];
}

export interface ContextTrackerOptions {
  /** Contexts kept per environment, in memory and in storage. */
  maxPerEnvironment?: number;
  /** How often seen contexts are written to storage. */
  flushIntervalMs?: number;
}

const DEFAULT_MAX = 1000;
const DEFAULT_FLUSH_MS = 10_000;

/**
 * Remembers the contexts SDKs report, per environment, in a bounded way. Contexts arrive in every event
 * payload, so writing them per request would turn each payload into a read-modify-write of a large
 * document; instead they collect in a per-environment LRU (at most `max` entries) and are merged into
 * one document per environment every few seconds and on close. Each flush merges with what is stored,
 * so replicas sharing the database each contribute what they saw.
 */
export class ContextTracker {
  private max = DEFAULT_MAX;
  private flushIntervalMs = DEFAULT_FLUSH_MS;
  /** env id -> (kind\0key -> record); Map order is recency, oldest first. */
  private pending = new Map<string, Map<string, ContextRecord>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    private readonly now: () => number,
  ) {}

  configure(options: ContextTrackerOptions): void {
    if (options.maxPerEnvironment !== undefined)
      this.max = Math.max(1, Math.floor(options.maxPerEnvironment));
    if (options.flushIntervalMs !== undefined) this.flushIntervalMs = Math.max(10, options.flushIntervalMs);
  }

  get maxPerEnvironment(): number {
    return this.max;
  }

  record(env: string, contexts: readonly SeenContext[]): void {
    if (contexts.length === 0) return;
    let seen = this.pending.get(env);
    if (!seen) {
      seen = new Map();
      this.pending.set(env, seen);
    }
    const lastSeen = this.now();
    for (const context of contexts) {
      const id = `${context.kind}\u0000${context.key}`;
      const before = seen.get(id);
      seen.delete(id);
      seen.set(id, { ...before, ...context, lastSeen });
      if (seen.size > this.max) seen.delete(seen.keys().next().value as string);
    }
    this.schedule();
  }

  /** Stored contexts merged with those not yet written, newest first. */
  async list(env: string, limit: number, kind?: string): Promise<ContextRecord[]> {
    const doc = await this.storage.get<ContextsDoc>('contexts', env);
    const merged = merge(doc?.value.contexts ?? [], this.pending.get(env)?.values() ?? [], this.max);
    return (kind === undefined ? merged : merged.filter((c) => c.kind === kind)).slice(0, limit);
  }

  /** Writes what was seen since the last flush. Never rejects: losing some last-seen times is harmless. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending;
      this.pending = new Map();
      for (const [env, seen] of batch) {
        try {
          await this.storage.transaction(async (tx) => {
            const doc = await tx.get<ContextsDoc>('contexts', env);
            await tx.put<ContextsDoc>('contexts', env, {
              contexts: merge(doc?.value.contexts ?? [], seen.values(), this.max),
            });
          });
        } catch {
          // Storage is failing or closing; the next payload will report these contexts again.
        }
      }
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is pending (the app closes storage after this). */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushIntervalMs);
    // Seen contexts are best-effort; they must not keep a stopping process alive.
    this.timer.unref();
  }
}

function merge(
  stored: readonly ContextRecord[],
  fresh: Iterable<ContextRecord>,
  max: number,
): ContextRecord[] {
  const byId = new Map<string, ContextRecord>();
  for (const c of stored) byId.set(`${c.kind}\u0000${c.key}`, c);
  for (const c of fresh) {
    const id = `${c.kind}\u0000${c.key}`;
    const before = byId.get(id);
    if (!before || before.lastSeen <= c.lastSeen) byId.set(id, { ...before, ...c });
  }
  return [...byId.values()].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, max);
}

/*
 * Ingestion records contexts and the insights API lists them, and they are separate plugins; sharing
 * the tracker through the ServerContext lets the API show contexts seen seconds ago on this replica
 * without the app wiring anything.
 */
const trackers = new WeakMap<ServerContext, ContextTracker>();

export function contextTrackerFor(ctx: ServerContext): ContextTracker {
  let tracker = trackers.get(ctx);
  if (!tracker) {
    tracker = new ContextTracker(ctx.storage, ctx.now);
    trackers.set(ctx, tracker);
  }
  return tracker;
}
