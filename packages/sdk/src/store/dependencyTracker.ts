import type { Clause, Flag, Segment } from '@flagstaff/eval';

type ItemRef = string; // `flags:<key>` or `segments:<key>`

export const flagRef = (key: string): ItemRef => `flags:${key}`;
export const segmentRef = (key: string): ItemRef => `segments:${key}`;

/**
 * Which flags depend on which items (prerequisites, segments, nested segments), so that a change to
 * one item yields every flag whose evaluation may now differ: the keys of `update` events.
 */
export class DependencyTracker {
  private readonly dependsOn = new Map<ItemRef, Set<ItemRef>>();
  private readonly dependents = new Map<ItemRef, Set<ItemRef>>();

  reset(): void {
    this.dependsOn.clear();
    this.dependents.clear();
  }

  /** Records the items a flag or segment refers to (replacing what was recorded before). */
  track(ref: ItemRef, item: Flag | Segment | { deleted: true }): void {
    for (const target of this.dependsOn.get(ref) ?? []) this.dependents.get(target)?.delete(ref);
    const targets = new Set<ItemRef>();
    if (!('deleted' in item && item.deleted)) {
      if ('prerequisites' in item) for (const p of item.prerequisites ?? []) targets.add(flagRef(p.key));
      for (const rule of (item as { rules?: { clauses?: Clause[] }[] }).rules ?? []) {
        for (const clause of rule.clauses ?? []) {
          if (clause.op !== 'segmentMatch') continue;
          for (const v of clause.values) if (typeof v === 'string') targets.add(segmentRef(v));
        }
      }
    }
    this.dependsOn.set(ref, targets);
    for (const target of targets) {
      let set = this.dependents.get(target);
      if (set === undefined) {
        set = new Set();
        this.dependents.set(target, set);
      }
      set.add(ref);
    }
  }

  /** Flag keys affected by changes to `refs`: the changed flags themselves and all their dependents. */
  affectedFlags(refs: Iterable<ItemRef>): Set<string> {
    const seen = new Set<ItemRef>();
    const stack = [...refs];
    while (stack.length > 0) {
      const ref = stack.pop()!;
      if (seen.has(ref)) continue;
      seen.add(ref);
      for (const dependent of this.dependents.get(ref) ?? []) stack.push(dependent);
    }
    const keys = new Set<string>();
    for (const ref of seen) if (ref.startsWith('flags:')) keys.add(ref.slice('flags:'.length));
    return keys;
  }
}
