import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/datasource/backoff.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('Backoff', () => {
  it('doubles from the initial delay and caps at 30 s (no jitter when random() is 0)', () => {
    const b = new Backoff({ initialDelayMs: 1000, random: () => 0 });
    const delays = Array.from({ length: 9 }, () => b.failed());
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  });

  it('subtracts up to half the delay as jitter', () => {
    const b = new Backoff({ initialDelayMs: 1000, random: () => 0.5 });
    expect([b.failed(), b.failed(), b.failed()]).toEqual([750, 1500, 3000]);
    const nearOne = new Backoff({ initialDelayMs: 1000, random: () => 0.999999 });
    expect(nearOne.failed()).toBe(500);
    for (let i = 0; i < 10; i++) nearOne.failed();
    expect(nearOne.failed()).toBe(15000);
  });

  it('stays within [delay/2, delay] with the real random source', () => {
    const b = new Backoff({ initialDelayMs: 1000 });
    for (let n = 0; n < 8; n++) {
      const base = Math.min(30_000, 1000 * 2 ** n);
      const d = b.failed();
      expect(d).toBeGreaterThanOrEqual(base / 2);
      expect(d).toBeLessThanOrEqual(base);
    }
  });

  it('starts over after a connection stayed healthy for 60 s', () => {
    const c = clock();
    const b = new Backoff({ initialDelayMs: 1000, random: () => 0, now: c.now });
    expect([b.failed(), b.failed(), b.failed()]).toEqual([1000, 2000, 4000]);
    b.succeeded();
    c.advance(60_000);
    expect(b.failed()).toBe(1000);
    expect(b.failed()).toBe(2000);
  });

  it('keeps growing when the connection dropped before 60 s', () => {
    const c = clock();
    const b = new Backoff({ initialDelayMs: 1000, random: () => 0, now: c.now });
    expect([b.failed(), b.failed()]).toEqual([1000, 2000]);
    b.succeeded();
    c.advance(59_999);
    expect(b.failed()).toBe(4000);
    // Healthy time does not accumulate across connections: the mark was consumed by the failure.
    c.advance(60_000);
    expect(b.failed()).toBe(8000);
  });

  it('accepts a new initial delay (SSE retry field) and survives very many failures', () => {
    const b = new Backoff({ initialDelayMs: 1000, random: () => 0 });
    b.setInitialDelay(100);
    expect([b.failed(), b.failed()]).toEqual([100, 200]);
    for (let i = 0; i < 5000; i++) b.failed();
    expect(b.failed()).toBe(30000);
  });

  it('gives 0 for a zero initial delay', () => {
    const b = new Backoff({ initialDelayMs: 0 });
    expect([b.failed(), b.failed()]).toEqual([0, 0]);
  });
});
