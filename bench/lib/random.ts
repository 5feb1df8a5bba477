/**
 * A small seeded generator (xorshift32) so inputs are the same on every run and a failed comparison
 * can be reproduced. Not for anything that needs real randomness.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    // Zero is a fixed point of xorshift, so it is replaced.
    this.state = seed | 0 || 0x2545f491;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return x >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }

  /** A string of `length` lowercase hex digits. */
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.next().toString(16).padStart(8, '0');
    return out.slice(0, length);
  }
}
