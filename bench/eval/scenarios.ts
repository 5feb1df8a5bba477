/**
 * Flag, segment and context JSON for the evaluation benchmark. Both engines get exactly these objects
 * (the official SDK through TestData), so they evaluate the same data.
 */
import type { Clause, Flag, JsonObject, Segment } from '@flagstaff/eval';

export interface Scenario {
  /** Row label in the result table. */
  name: string;
  /** What the scenario exercises, printed next to the verified detail. */
  description: string;
  flag: Flag;
  /** Contexts cycled through while timing, so no result can come from a cache keyed on the context. */
  contexts: JsonObject[];
  /** Checked against the detail both engines return, so a broken scenario cannot measure the wrong path. */
  expect: { reasonKind: string; ruleIndex?: number; variations?: number[] };
  /** True when evaluation computes a bucketing hash; such scenarios are also timed with node:crypto SHA-1. */
  buckets?: boolean;
}

const CONTEXT_COUNT = 1000;

/**
 * Flags and contexts reach an SDK as JSON text (the store, the request), so the benchmark data goes
 * through JSON too. Besides being realistic, this keeps the strings in contexts distinct from the
 * strings in flags: when they were the same objects, the official SDK's target lookup (an indexOf
 * over the key list) ran 3× faster or slower depending on unrelated modules loaded in the process.
 */
function viaJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function flag(key: string, fields: Partial<Flag>): Flag {
  return {
    key,
    version: 1,
    on: true,
    variations: ['control', 'treatment-a', 'treatment-b', 'default'],
    offVariation: 0,
    fallthrough: { variation: 3 },
    salt: `${key}-salt`,
    targets: [],
    contextTargets: [],
    rules: [],
    prerequisites: [],
    trackEvents: false,
    trackEventsFallthrough: false,
    clientSideAvailability: { usingMobileKey: false, usingEnvironmentId: false },
    deleted: false,
    ...fields,
  };
}

function clause(attribute: string, op: Clause['op'], values: Clause['values']): Clause {
  return { contextKind: 'user', attribute, op, values, negate: false };
}

/** Users with every attribute the rules and the segment look at; all share one shape. */
function user(i: number, key = `user-key-${10000 + i}`): JsonObject {
  return {
    kind: 'user',
    key,
    name: `User ${i}`,
    email: `user${i}@example.com`,
    country: ['us', 'ca', 'gb', 'de'][i % 4]!,
    plan: 'enterprise',
    age: 20 + (i % 40),
    appVersion: `2.${1 + (i % 10)}.${i % 7}`,
  };
}

const users = Array.from({ length: CONTEXT_COUNT }, (_, i) => user(i));

const targetKeys = Array.from({ length: 100 }, (_, i) => `target-key-${i}`);

export const segment: Segment = viaJson({
  key: 'beta-users',
  version: 1,
  included: [],
  excluded: [],
  includedContexts: [],
  excludedContexts: [],
  rules: [
    {
      id: 'beta-rule',
      clauses: [
        clause('country', 'in', ['us', 'ca', 'gb', 'de']),
        clause('email', 'endsWith', ['@example.com']),
      ],
    },
  ],
  salt: 'beta-users-salt',
  unbounded: false,
});

export const scenarios: Scenario[] = viaJson([
  {
    name: '(a) flag off',
    description: 'off, serves offVariation',
    flag: flag('off-flag', { on: false }),
    contexts: users,
    expect: { reasonKind: 'OFF' },
  },
  {
    name: '(b) target hit (100 keys)',
    description: 'one user target list of 100 keys; each context key is in it',
    flag: flag('target-flag', { targets: [{ values: targetKeys, variation: 1 }] }),
    // Only 100 keys can hit the list; cycling them also spreads the hit over every list position.
    contexts: targetKeys.map((key, i) => user(i, key)),
    expect: { reasonKind: 'TARGET_MATCH' },
  },
  {
    name: '(c) 3 rules × 5 clauses',
    description:
      'rule 0 fails on its 5th clause, rule 1 on its 3rd, rule 2 matches all 5 (in, startsWith, lessThan, semVerGreaterThan, matches)',
    flag: flag('rules-flag', {
      rules: [
        {
          id: 'rule-0',
          variation: 0,
          clauses: [
            clause('country', 'in', ['us', 'ca', 'gb', 'de', 'fr']),
            clause('email', 'startsWith', ['user']),
            clause('age', 'lessThan', [100]),
            clause('appVersion', 'semVerGreaterThan', ['1.0.0']),
            clause('email', 'matches', ['^admin-']),
          ],
        },
        {
          id: 'rule-1',
          variation: 1,
          clauses: [
            clause('plan', 'in', ['enterprise', 'pro']),
            clause('name', 'startsWith', ['User']),
            clause('age', 'lessThan', [18]),
            clause('appVersion', 'semVerGreaterThan', ['1.5.0']),
            clause('email', 'matches', ['@example\\.com$']),
          ],
        },
        {
          id: 'rule-2',
          variation: 2,
          clauses: [
            clause('plan', 'in', ['free', 'enterprise']),
            clause('email', 'startsWith', ['user']),
            clause('age', 'lessThan', [65]),
            clause('appVersion', 'semVerGreaterThan', ['2.0.0']),
            clause('email', 'matches', ['^user\\d+@example\\.com$']),
          ],
        },
      ],
    }),
    contexts: users,
    expect: { reasonKind: 'RULE_MATCH', ruleIndex: 2 },
  },
  {
    name: '(d) 50/50 rollout',
    description: 'fallthrough is a 50/50 percentage rollout bucketed by key (one SHA-1 per evaluation)',
    flag: flag('rollout-flag', {
      variations: [true, false],
      fallthrough: {
        rollout: {
          variations: [
            { variation: 0, weight: 50000 },
            { variation: 1, weight: 50000 },
          ],
        },
      },
    }),
    contexts: users,
    expect: { reasonKind: 'FALLTHROUGH', variations: [0, 1] },
    buckets: true,
  },
  {
    name: '(e) segment match',
    description:
      'rule 0 is a segmentMatch clause; the segment includes the context through its 2-clause rule',
    flag: flag('segment-flag', {
      rules: [
        {
          id: 'segment-rule',
          variation: 1,
          clauses: [{ contextKind: 'user', attribute: 'key', op: 'segmentMatch', values: [segment.key] }],
        },
      ],
    }),
    contexts: users,
    expect: { reasonKind: 'RULE_MATCH', ruleIndex: 0 },
  },
]);
