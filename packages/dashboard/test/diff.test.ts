// The line diff behind the save preview and the audit log (pure; runs in Node).
import { describe, expect, it } from 'vitest';
import { diffJson, diffLines, hasChanges, stableJson, withContext } from '../src/lib/diff.js';

describe('diff', () => {
  it('prints JSON with sorted keys, so key order never shows as a change', () => {
    expect(stableJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      stableJson({ a: { c: null, d: [2, { e: 0, f: 1 }] }, b: 1 }),
    );
    expect(hasChanges(diffJson({ x: 1, y: 2 }, { y: 2, x: 1 }))).toBe(false);
  });

  it('marks added and removed lines between common ones', () => {
    expect(diffLines('a\nb\nc\nd', 'a\nc\nx\nd')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'x' },
      { kind: 'same', text: 'd' },
    ]);
    expect(diffJson(undefined, { on: true }).every((l) => l.kind === 'added')).toBe(true);
    expect(diffJson({ on: true }, undefined).every((l) => l.kind === 'removed')).toBe(true);
  });

  it('changes only what changed in a flag document', () => {
    const before = {
      on: false,
      rules: [{ id: 'r1', clauses: [{ op: 'in', values: ['a'] }] }],
      offVariation: 1,
    };
    const after = { ...before, on: true };
    const changed = diffJson(before, after).filter((l) => l.kind !== 'same');
    expect(changed).toEqual([
      { kind: 'removed', text: '  "on": false,' },
      { kind: 'added', text: '  "on": true,' },
    ]);
  });

  it('folds long unchanged runs around the changes', () => {
    const lines = diffLines(
      Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n'),
      Array.from({ length: 30 }, (_, i) => (i === 15 ? 'changed' : `line ${i}`)).join('\n'),
    );
    const shown = withContext(lines, 2);
    expect(shown[0]).toEqual({ kind: 'skip', count: 13 });
    expect(shown.filter((l) => l.kind !== 'skip')).toHaveLength(6);
    expect(shown.at(-1)).toEqual({ kind: 'skip', count: 12 });
  });

  it('falls back to a block diff for documents too large to align line by line', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
    const lines = diffLines(a, b);
    expect(lines.filter((l) => l.kind === 'removed')).toHaveLength(3000);
    expect(lines.filter((l) => l.kind === 'added')).toHaveLength(3000);
  });
});
