import { describe, expect, it } from 'vitest';
import { ContextDeduplicator } from '../src/events/contextDeduplicator.js';

describe('ContextDeduplicator', () => {
  it('reports a key as new once, then as known', () => {
    const d = new ContextDeduplicator(10);
    expect(d.add('a')).toBe(true);
    expect(d.add('a')).toBe(false);
    expect(d.add('b')).toBe(true);
    expect(d.add('a')).toBe(false);
  });

  it('never forgets a key before `capacity` other contexts were seen after its last use', () => {
    const capacity = 100;
    const d = new ContextDeduplicator(capacity);
    for (let round = 0; round < 20; round++) {
      expect(d.add('hot')).toBe(round === 0);
      // Many hits on a few keys between the uses of `hot` must not push it out either.
      for (let i = 0; i < capacity; i++) d.add(`k${round}-${i % 7}`);
      for (let i = 0; i < capacity - 8; i++) d.add(`fresh-${round}-${i}`);
    }
  });

  it('forgets the least recently used keys once well past capacity, bounding memory', () => {
    const capacity = 100;
    const d = new ContextDeduplicator(capacity);
    d.add('old');
    for (let i = 0; i < 4 * capacity; i++) d.add(`k${i}`);
    expect(d.size).toBeLessThanOrEqual(capacity * 2);
    expect(d.add('old')).toBe(true);
  });

  it('forgets everything on reset', () => {
    const d = new ContextDeduplicator(10);
    d.add('a');
    d.add('b');
    d.reset();
    expect(d.size).toBe(0);
    expect(d.add('a')).toBe(true);
  });
});
