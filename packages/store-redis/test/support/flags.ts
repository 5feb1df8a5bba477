// A data set touching every part of evaluation that reads the store: prerequisites (two levels),
// segment rules (a segment referring to another), targets, rules, rollouts, off flags, plus contexts.
export const flags = {
  'off-flag': {
    key: 'off-flag',
    version: 3,
    on: false,
    variations: ['a', 'b'],
    offVariation: 1,
    fallthrough: { variation: 0 },
  },
  targeted: {
    key: 'targeted',
    version: 7,
    on: true,
    variations: [true, false],
    targets: [{ values: ['u1'], variation: 0 }],
    fallthrough: { variation: 1 },
    offVariation: 1,
    trackEvents: true,
  },
  rollout: {
    key: 'rollout',
    version: 2,
    on: true,
    salt: 'salty',
    variations: ['control', 'treatment'],
    fallthrough: {
      rollout: {
        kind: 'experiment',
        variations: [
          { variation: 0, weight: 50000 },
          { variation: 1, weight: 50000 },
        ],
      },
    },
    offVariation: 0,
  },
  rules: {
    key: 'rules',
    version: 9,
    on: true,
    variations: [1, 2, 3],
    rules: [
      { id: 'r-country', clauses: [{ attribute: 'country', op: 'in', values: ['NZ'] }], variation: 2 },
      { id: 'r-seg', clauses: [{ attribute: '', op: 'segmentMatch', values: ['beta'] }], variation: 1 },
    ],
    fallthrough: { variation: 0 },
    offVariation: 0,
  },
  'with-prereq': {
    key: 'with-prereq',
    version: 1,
    on: true,
    variations: ['yes', 'no'],
    prerequisites: [{ key: 'targeted', variation: 0 }],
    fallthrough: { variation: 0 },
    offVariation: 1,
  },
  'deep-prereq': {
    key: 'deep-prereq',
    version: 4,
    on: true,
    variations: [{ level: 'deep' }, { level: 'shallow' }],
    prerequisites: [{ key: 'with-prereq', variation: 0 }],
    rules: [{ id: 'r-vip', clauses: [{ attribute: '', op: 'segmentMatch', values: ['vip'] }], variation: 0 }],
    fallthrough: { variation: 1 },
    offVariation: 1,
  },
  'to-delete': {
    key: 'to-delete',
    version: 1,
    on: true,
    variations: ['still here', 'x'],
    fallthrough: { variation: 0 },
    offVariation: 1,
  },
  '42': {
    key: '42',
    version: 1,
    on: true,
    variations: ['numeric key'],
    prerequisites: [{ key: 'rules', variation: 0 }],
    fallthrough: { variation: 0 },
    offVariation: 0,
  },
};

export const segments = {
  beta: { key: 'beta', version: 1, included: ['u2'], salt: 's' },
  vip: {
    key: 'vip',
    version: 5,
    salt: 'v',
    excluded: ['u2'],
    rules: [
      { id: 'sr1', clauses: [{ attribute: '', op: 'segmentMatch', values: ['beta'] }] },
      { id: 'sr2', clauses: [{ contextKind: 'org', attribute: 'tier', op: 'in', values: ['gold'] }] },
    ],
  },
};

// Typed loosely: the two SDKs declare different context types for the same JSON.
// biome-ignore lint/suspicious/noExplicitAny: shared by both SDKs' differently typed signatures
export const contexts: any[] = [
  { kind: 'user', key: 'u1', country: 'NZ', name: 'Ann' },
  { kind: 'user', key: 'u2', country: 'AU' },
  { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1', tier: 'gold' } },
  { key: 'legacy-user', custom: { country: 'NZ' } },
  { kind: 'org', key: 'o2' },
];
