/*
 * One data set exercising what a store has to carry faithfully (segments, prerequisites, targets, rules,
 * rollouts, JSON values, off flags), the contexts to evaluate it for and the flag keys to ask about, so
 * that a writer and a reader — ours or LaunchDarkly's — can be compared on every result.
 */

export const SEGMENTS = [
  {
    key: 'beta-testers',
    version: 3,
    included: ['u1'],
    excluded: ['u3'],
    rules: [
      {
        id: 'seg-rule',
        clauses: [
          {
            contextKind: 'user',
            attribute: 'email',
            op: 'endsWith',
            values: ['@example.com'],
            negate: false,
          },
        ],
      },
    ],
    salt: 'beta-salt',
    deleted: false,
  },
];

export const FLAGS = [
  {
    key: 'simple-bool',
    version: 2,
    on: true,
    variations: [false, true],
    offVariation: 0,
    fallthrough: { variation: 1 },
    targets: [],
    contextTargets: [],
    rules: [],
    prerequisites: [],
    salt: 'a',
    trackEvents: false,
    trackEventsFallthrough: false,
    deleted: false,
  },
  {
    key: 'off-flag',
    version: 1,
    on: false,
    variations: ['off-value', 'on-value'],
    offVariation: 0,
    fallthrough: { variation: 1 },
    targets: [],
    contextTargets: [],
    rules: [],
    prerequisites: [],
    salt: 'b',
    deleted: false,
  },
  {
    key: 'targeted',
    version: 5,
    on: true,
    variations: ['a', 'b', 'c'],
    offVariation: 0,
    fallthrough: { variation: 0 },
    targets: [{ values: ['u2'], variation: 1 }],
    // With contextTargets present, user targets apply only where a placeholder entry points at them.
    contextTargets: [
      { contextKind: 'user', values: [], variation: 1 },
      { contextKind: 'org', values: ['acme'], variation: 2 },
    ],
    rules: [],
    prerequisites: [],
    salt: 'c',
    deleted: false,
  },
  {
    key: 'segment-rule',
    version: 7,
    on: true,
    variations: [false, true],
    offVariation: 0,
    fallthrough: { variation: 0 },
    targets: [],
    contextTargets: [],
    rules: [
      {
        id: 'in-beta',
        clauses: [{ attribute: 'segmentMatch', op: 'segmentMatch', values: ['beta-testers'], negate: false }],
        variation: 1,
        trackEvents: false,
      },
    ],
    prerequisites: [],
    salt: 'd',
    deleted: false,
  },
  {
    key: 'prereq-child',
    version: 1,
    on: true,
    variations: ['x', 'y'],
    offVariation: 0,
    fallthrough: { variation: 1 },
    targets: [],
    contextTargets: [],
    rules: [],
    prerequisites: [{ key: 'segment-rule', variation: 1 }],
    salt: 'e',
    deleted: false,
  },
  {
    key: 'rollout',
    version: 4,
    on: true,
    variations: [10, 20, 30],
    offVariation: 0,
    fallthrough: {
      rollout: {
        variations: [
          { variation: 0, weight: 30000 },
          { variation: 1, weight: 30000 },
          { variation: 2, weight: 40000 },
        ],
      },
    },
    targets: [],
    contextTargets: [],
    rules: [],
    prerequisites: [],
    salt: 'f',
    deleted: false,
  },
  {
    key: 'json-flag',
    version: 1,
    on: true,
    variations: [{ nested: { list: [1, 'two', null], 'unicode-€': 'ü' } }, []],
    offVariation: 1,
    fallthrough: { variation: 0 },
    targets: [],
    contextTargets: [],
    rules: [
      {
        id: 'email-rule',
        clauses: [{ attribute: 'email', op: 'in', values: ['y@other.org'], negate: false }],
        variation: 1,
      },
    ],
    prerequisites: [],
    salt: 'g',
    deleted: false,
  },
];

/** Flags deleted after the data set is stored (tombstones), and keys never stored. */
export const DELETED_FLAG = 'targeted';
export const MISSING_FLAG = 'no-such-flag';

export const FLAG_KEYS = [...FLAGS.map((f) => f.key), MISSING_FLAG];

export const CONTEXTS = [
  { kind: 'user', key: 'u1' },
  { kind: 'user', key: 'u2', email: 'someone@example.com' },
  { kind: 'user', key: 'u3', email: 'excluded@example.com' },
  { key: 'legacy-user', email: 'y@other.org' },
  { kind: 'multi', user: { key: 'u4' }, org: { key: 'acme' } },
  ...Array.from({ length: 8 }, (_, i) => ({ kind: 'user', key: `bucket-${i}` })),
];
