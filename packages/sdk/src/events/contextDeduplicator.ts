/**
 * Remembers the canonical keys of recently seen contexts (spec §6.4) so that each context gets one
 * index event per reset period. A least-recently-used set: a Set iterates in insertion order, so
 * re-inserting a key on every hit keeps the oldest key first, ready for eviction.
 */
export class ContextDeduplicator {
  private readonly seen = new Set<string>();
  // The key of the previous call. One SDK call usually records several evaluations of one context
  // (prerequisites, then the flag), and a request handler evaluates many flags for the same
  // context: that key is already the most recent entry, so the set need not be touched at all.
  private last: string | undefined;

  constructor(private readonly capacity: number) {}

  /** Adds the key; true when it was not known since the last reset (an index event is due). */
  add(key: string): boolean {
    if (key === this.last) return false;
    this.last = key;
    const seen = this.seen;
    if (seen.delete(key)) {
      seen.add(key);
      return false;
    }
    seen.add(key);
    if (seen.size > this.capacity) seen.delete(seen.values().next().value as string);
    return true;
  }

  /** Forgets every key, so each context gets a fresh index event. */
  reset(): void {
    this.seen.clear();
    this.last = undefined;
  }

  get size(): number {
    return this.seen.size;
  }
}
