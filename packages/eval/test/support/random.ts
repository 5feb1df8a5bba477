/**
 * A small seeded PRNG (mulberry32) for reproducible generated tests: the same seed always yields the
 * same sequence, so a failing differential run can be replayed from the seed it printed.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A fresh 32-bit seed for runs that were not given one. */
  static freshSeed(): number {
    return Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Picks by relative weight: `[[3, 'a'], [1, 'b']]` yields 'a' three times as often as 'b'. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [weight] of choices) total += weight;
    let r = this.next() * total;
    for (const [weight, value] of choices) {
      r -= weight;
      if (r < 0) return value;
    }
    return choices[choices.length - 1]![1];
  }

  /** Up to `max` distinct items in random order (fewer when the list is shorter). */
  sample<T>(items: readonly T[], max: number): T[] {
    const copy = [...items];
    const out: T[] = [];
    while (out.length < max && copy.length > 0) out.push(copy.splice(this.int(copy.length), 1)[0]!);
    return out;
  }
}
