/**
 * Remembers the canonical keys of recently seen contexts (spec §6.4) so that each context gets one
 * index event per reset period, forgetting the least recently seen first.
 *
 * An exact LRU moves a key to the back on every hit, which costs a delete and an insert on the SDK's
 * hottest path. Here a hit only compares a stamp (the call count when the key was last moved); a key
 * is moved back when that stamp is more than `capacity` calls old. Keys in the map are in stamp order,
 * and the map holds up to 2 x capacity keys. Proof of the guarantee: when a key K is evicted it is
 * first, so 2 x capacity keys have later stamps; at most `capacity` of those stamps fall between K's
 * stamp and K's last use, so at least `capacity` other contexts were seen after K's last use, the
 * guarantee of an exact LRU of `capacity`. Keys may be remembered longer, which only saves index events.
 */
export class ContextDeduplicator {
  private readonly seen = new Map<string, number>();
  private readonly maxSize: number;
  private readonly refreshAge: number;
  private tick = 0;
  // The key of the previous call. One SDK call usually records several evaluations of one context
  // (prerequisites, then the flag), and a request handler evaluates many flags for the same context.
  private last: string | undefined;

  constructor(capacity: number) {
    this.refreshAge = capacity;
    this.maxSize = 2 * capacity;
  }

  /** Adds the key; true when it was not known since the last reset (an index event is due). */
  add(key: string): boolean {
    if (key === this.last) return false;
    this.last = key;
    const seen = this.seen;
    const tick = ++this.tick;
    const stamp = seen.get(key);
    if (stamp !== undefined) {
      if (tick - stamp > this.refreshAge) {
        seen.delete(key);
        seen.set(key, tick);
      }
      return false;
    }
    seen.set(key, tick);
    // Map order is stamp order (keys are only ever appended), so the first key is the oldest.
    if (seen.size > this.maxSize) seen.delete(seen.keys().next().value as string);
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
