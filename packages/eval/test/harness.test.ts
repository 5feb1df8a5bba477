// Every server-side evaluation case of LaunchDarkly's published SDK test harness, run through our
// engine with the SDK-level rules (default substitution, unknown flags, typed variations).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  evaluateWithDefault,
  type Flag,
  type JsonValue,
  type Segment,
  type VariationType,
} from '../src/index.js';
import { loadHarnessSuites } from './support/harness.js';

const dir = fileURLToPath(new URL('./fixtures/sdk-test-harness/server-side-eval', import.meta.url));
const suites = loadHarnessSuites(dir);

const VALUE_TYPES: Record<string, VariationType> = {
  bool: 'boolean',
  int: 'number',
  double: 'number',
  string: 'string',
  any: 'any',
};

// A case without `default` uses the zero value of the expected value's type, as the harness does.
function defaultFor(c: { default?: unknown; expect: { value: unknown } }): JsonValue {
  if (c.default !== undefined) return c.default as JsonValue;
  const zero: Record<string, JsonValue> = { boolean: false, number: 0, string: '' };
  return zero[typeof c.expect.value] ?? null;
}

function keyed<T>(items: Record<string, object> | undefined): Map<string, T> {
  const map = new Map<string, T>();
  for (const [key, item] of Object.entries(items ?? {})) map.set(key, { key, version: 1, ...item } as T);
  return map;
}

describe('sdk-test-harness server-side evaluation vectors', () => {
  it('loads every data file with evaluations', () => {
    const files = new Set(suites.filter((s) => s.evaluations.length > 0).map((s) => s.file));
    expect(files.size).toBe(27);
    expect(suites.reduce((n, s) => n + s.evaluations.length, 0)).toBeGreaterThan(300);
  });

  for (const suite of suites) {
    describe(`${suite.file}: ${suite.name}`, () => {
      const flags = keyed<Flag>(suite.sdkData.flags);
      const segments = keyed<Segment>(suite.sdkData.segments);
      const data = { getFlag: (k: string) => flags.get(k), getSegment: (k: string) => segments.get(k) };
      suite.evaluations.forEach((c, i) => {
        it(c.name ?? `${c.flagKey} #${i}`, () => {
          const type = c.valueType === undefined ? 'any' : VALUE_TYPES[c.valueType];
          expect(type, `unknown valueType ${c.valueType}`).toBeDefined();
          const { detail } = evaluateWithDefault(flags.get(c.flagKey), c.context, data, defaultFor(c), type);
          expect({ ...detail, reason: { ...detail.reason } }).toEqual({
            value: c.expect.value,
            variationIndex: c.expect.variationIndex ?? null,
            reason: c.expect.reason,
          });
        });
      });
    });
  }
});
