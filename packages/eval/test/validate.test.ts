import { describe, expect, it } from 'vitest';
import {
  type ValidationError,
  type ValidationMode,
  type ValidationResult,
  validateFlag,
  validateSegment,
} from '../src/validate/index.js';

type Validate = (input: unknown, options?: { mode?: ValidationMode }) => ValidationResult<unknown>;

function errorsOf(result: ValidationResult<unknown>): ValidationError[] {
  return result.ok ? [] : result.errors;
}

function pathsOf(result: ValidationResult<unknown>): string[] {
  return errorsOf(result).map((e) => e.path);
}

/** A copy of `base` with the property at each JSON Pointer replaced (or deleted, for undefined). */
function edit(base: Record<string, unknown>, edits: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  for (const [pointer, value] of Object.entries(edits)) {
    const tokens = pointer
      .split('/')
      .slice(1)
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node = copy;
    for (const token of tokens.slice(0, -1)) node = node[token] as Record<string, unknown>;
    const last = tokens[tokens.length - 1]!;
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return copy;
}

/** A flag that passes strict mode, with three variations so that index 3 is the first out of range. */
function baseFlag(): Record<string, unknown> {
  return {
    key: 'my-flag',
    version: 1,
    on: true,
    variations: ['a', 'b', 'c'],
    offVariation: 0,
    prerequisites: [
      { key: 'other', variation: 0 },
      { key: 'third', variation: 1 },
    ],
    targets: [{ values: ['u1'], variation: 1 }],
    contextTargets: [{ contextKind: 'org', values: ['o1'], variation: 2 }],
    rules: [
      { id: 'r0', clauses: [{ attribute: 'email', op: 'endsWith', values: ['@x.com'] }], variation: 0 },
      {
        id: 'r1',
        clauses: [
          { contextKind: 'user', attribute: '/a/b', op: 'matches', values: ['^x'] },
          { attribute: '', op: 'segmentMatch', values: ['seg'] },
        ],
        rollout: {
          contextKind: 'org',
          bucketBy: '/tier',
          variations: [
            { variation: 1, weight: 50000 },
            { variation: 2, weight: 50000 },
          ],
        },
      },
    ],
    fallthrough: { variation: 2 },
  };
}

function baseSegment(): Record<string, unknown> {
  return {
    key: 'beta-users',
    version: 3,
    included: ['u1'],
    excluded: ['u2'],
    includedContexts: [{ contextKind: 'org', values: ['o1'] }],
    excludedContexts: [{ contextKind: 'org', values: ['o2'] }],
    rules: [
      {
        id: 's0',
        clauses: [{ attribute: 'country', op: 'in', values: ['NZ'] }],
        weight: 50000,
        bucketBy: 'email',
      },
      {
        id: 's1',
        clauses: [{ contextKind: 'org', attribute: '/plan', op: 'in', values: ['pro'] }],
        rolloutContextKind: 'org',
        bucketBy: '/tier',
      },
    ],
    salt: 'salty',
    unbounded: false,
  };
}

describe('valid data', () => {
  const fullFlag = {
    key: 'checkout.new-flow_2',
    version: 12,
    on: true,
    prerequisites: [{ key: 'payments', variation: 0 }],
    targets: [{ values: ['alice', 'bob'], variation: 1 }],
    contextTargets: [
      { contextKind: 'user', values: [], variation: 1 },
      { contextKind: 'org', values: ['acme'], variation: 0 },
    ],
    rules: [
      {
        id: 'rule-1',
        clauses: [
          {
            contextKind: 'user',
            attribute: '/address/city',
            op: 'in',
            values: ['Flagstaff', null, { nested: null }],
            negate: false,
          },
          { attribute: 'email', op: 'endsWith', values: ['@example.com'], contextKind: null },
        ],
        variation: 0,
        rollout: null,
        trackEvents: false,
      },
      {
        id: 'rule-2',
        clauses: [
          { attribute: '', op: 'segmentMatch', values: ['beta-users'], negate: true },
          { attribute: 'name', op: 'matches', values: ['^A.*z$', 7] },
        ],
        rollout: {
          kind: 'experiment',
          contextKind: 'org',
          bucketBy: '/tier',
          seed: 0,
          variations: [
            { variation: 0, weight: 40000 },
            { variation: 1, weight: 60000, untracked: true },
          ],
        },
      },
    ],
    fallthrough: {
      variation: null,
      rollout: { variations: [{ variation: 2, weight: 100000 }], bucketBy: 'a/b' },
    },
    offVariation: 1,
    variations: [true, false, { config: { a: null } }, null, [1, 'x']],
    salt: 'abc',
    trackEvents: false,
    trackEventsFallthrough: false,
    debugEventsUntilDate: null,
    clientSide: true,
    clientSideAvailability: { usingMobileKey: true, usingEnvironmentId: false },
    deleted: false,
    excludeFromSummaries: false,
    samplingRatio: 1,
    migration: { checkRatio: 10 },
    _futureProperty: { anything: [null, 1] },
  };
  const fullFlagWithoutNulls = edit(fullFlag, {
    '/rules/0/clauses/1/contextKind': undefined,
    '/rules/0/rollout': undefined,
    '/fallthrough/variation': undefined,
    '/debugEventsUntilDate': undefined,
  });

  const fullSegment = {
    ...baseSegment(),
    rules: [
      ...(baseSegment().rules as unknown[]),
      {
        id: 's2',
        clauses: [{ attribute: '', op: 'segmentMatch', values: ['other-segment'] }],
        weight: null,
        bucketBy: null,
        rolloutContextKind: null,
      },
    ],
    unbounded: true,
    unboundedContextKind: 'org',
    generation: 4,
    deleted: false,
    futureThing: 'kept',
  };
  const fullSegmentWithoutNulls = edit(fullSegment, {
    '/rules/2/weight': undefined,
    '/rules/2/bucketBy': undefined,
    '/rules/2/rolloutContextKind': undefined,
  });

  for (const mode of ['schema', 'strict'] as const) {
    it(`accepts a full flag in ${mode} mode and returns it without its null optionals`, () => {
      const result = validateFlag(fullFlag, { mode });
      expect(errorsOf(result)).toEqual([]);
      expect(result.ok && result.value).toStrictEqual(fullFlagWithoutNulls);
    });

    it(`accepts a full segment in ${mode} mode and returns it without its null optionals`, () => {
      const result = validateSegment(fullSegment, { mode });
      expect(errorsOf(result)).toEqual([]);
      expect(result.ok && result.value).toStrictEqual(fullSegmentWithoutNulls);
    });

    it(`accepts the minimal base fixtures in ${mode} mode unchanged`, () => {
      expect(validateFlag(baseFlag(), { mode })).toStrictEqual({ ok: true, value: baseFlag() });
      expect(validateSegment(baseSegment(), { mode })).toStrictEqual({ ok: true, value: baseSegment() });
    });

    it(`accepts a tombstone in ${mode} mode`, () => {
      const tombstone = { key: 'gone', version: 7, deleted: true };
      expect(validateFlag(tombstone, { mode })).toStrictEqual({ ok: true, value: tombstone });
      expect(validateSegment(tombstone, { mode })).toStrictEqual({ ok: true, value: tombstone });
    });
  }

  it('defaults to schema mode', () => {
    const flag = edit(baseFlag(), { '/offVariation': 99 });
    expect(validateFlag(flag).ok).toBe(true);
    expect(validateFlag(flag, {}).ok).toBe(true);
  });

  it('does not mutate the input', () => {
    const input = { ...baseFlag(), salt: null };
    const snapshot = JSON.stringify(input);
    const result = validateFlag(input);
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(result.ok && 'salt' in result.value).toBe(false);
  });

  it('keeps an own __proto__ property as data instead of changing the prototype', () => {
    const input = JSON.parse('{"key":"k","version":1,"deleted":true,"__proto__":{"polluted":true}}');
    const result = validateFlag(input);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect(Object.hasOwn(result.value, '__proto__')).toBe(true);
    expect((result.value as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('schema mode', () => {
  it('accepts what only strict mode rejects', () => {
    const flag = edit(baseFlag(), {
      '/key': 'not a url-safe key',
      '/offVariation': 5,
      '/fallthrough': {},
      '/rules/0/clauses/0/op': 'someFutureOperator',
      '/rules/0/clauses/0/attribute': undefined,
      '/rules/1/id': 'r0',
      '/rules/1/rollout/kind': 'canary',
      '/rules/1/rollout/variations/0/weight': 1,
      '/rules/1/clauses/0/values': ['('],
      '/prerequisites/0/key': 'not a url-safe key',
      '/version': 2 ** 60,
    });
    expect(errorsOf(validateFlag(flag, { mode: 'schema' }))).toEqual([]);
    expect(validateFlag(flag, { mode: 'strict' }).ok).toBe(false);
  });

  it('reports wrong types with the path and what was expected', () => {
    const flag = edit(baseFlag(), {
      '/on': 'yes',
      '/salt': 5,
      '/variations': { a: 1 },
      '/targets/0/values/0': 12,
      '/rules/0/variation': 1.5,
      '/rules/1/clauses/0/negate': 'no',
      '/fallthrough/rollout': [],
      '/clientSideAvailability': { usingMobileKey: true },
      '/debugEventsUntilDate': '2024-01-01',
    });
    expect(errorsOf(validateFlag(flag))).toEqual([
      { path: '/on', message: 'expected a boolean, got the string "yes"' },
      { path: '/variations', message: 'expected an array, got an object' },
      { path: '/targets/0/values/0', message: 'expected a string, got the number 12' },
      { path: '/rules/0/variation', message: 'expected an integer, got the number 1.5' },
      { path: '/rules/1/clauses/0/negate', message: 'expected a boolean, got the string "no"' },
      { path: '/fallthrough/rollout', message: 'expected a rollout (a JSON object), got an array' },
      { path: '/salt', message: 'expected a string, got the number 5' },
      { path: '/debugEventsUntilDate', message: 'expected a number, got the string "2024-01-01"' },
    ]);
    expect(errorsOf(validateFlag(flag, { mode: 'strict' }))).toContainEqual({
      path: '/clientSideAvailability/usingEnvironmentId',
      message: '"usingEnvironmentId" is required: expected a boolean, but it is missing',
    });
  });

  it('requires key and version, and in strict mode on, variations and fallthrough, null as missing', () => {
    expect(errorsOf(validateFlag({ key: null, version: -1 }))).toEqual([
      { path: '/key', message: '"key" is required: expected a string, but got null' },
      { path: '/version', message: 'expected a non-negative integer, got the number -1' },
    ]);
    expect(errorsOf(validateFlag({ key: null, version: -1 }, { mode: 'strict' }))).toEqual([
      { path: '/key', message: '"key" is required: expected a string, but got null' },
      { path: '/version', message: 'expected a non-negative integer, got the number -1' },
      { path: '/on', message: '"on" is required: expected a boolean, but it is missing' },
      { path: '/variations', message: '"variations" is required: expected an array, but it is missing' },
      {
        path: '/fallthrough',
        message:
          '"fallthrough" is required: expected a variation or rollout (a JSON object), but it is missing',
      },
    ]);
    expect(pathsOf(validateSegment({ key: 'k' }))).toEqual(['/version']);
  });

  it('requires key and version even for a tombstone', () => {
    expect(pathsOf(validateFlag({ deleted: true }))).toEqual(['/key', '/version']);
    expect(pathsOf(validateSegment({ key: 'k', version: 'one', deleted: true }))).toEqual(['/version']);
  });

  it('still type-checks the properties a tombstone carries', () => {
    expect(pathsOf(validateFlag({ key: 'k', version: 1, deleted: true, on: 1 }))).toEqual(['/on']);
  });

  it('checks the shapes of nested elements', () => {
    const flag = edit(baseFlag(), {
      '/prerequisites/0': 'other',
      '/prerequisites/1/variation': undefined,
      '/targets/0/variation': '1',
      '/rules/0/clauses/0/op': undefined,
      '/rules/1/rollout/variations/1/weight': null,
      '/migration': { checkRatio: 0.5 },
    });
    // Absent nested fields are tolerated in schema mode (LaunchDarkly's SDKs accept them), wrong types not.
    expect(pathsOf(validateFlag(flag))).toEqual([
      '/prerequisites/0',
      '/targets/0/variation',
      '/migration/checkRatio',
    ]);
    expect(pathsOf(validateFlag(flag, { mode: 'strict' }))).toEqual(
      expect.arrayContaining([
        '/prerequisites/0',
        '/prerequisites/1/variation',
        '/targets/0/variation',
        '/rules/0/clauses/0/op',
        '/rules/1/rollout/variations/1/weight',
        '/migration/checkRatio',
      ]),
    );
  });

  it('checks segment shapes', () => {
    const segment = edit(baseSegment(), {
      '/included': 'u1',
      '/includedContexts/0/contextKind': undefined,
      '/rules/0/clauses': undefined,
      '/rules/1/weight': '50%',
      '/unbounded': 'false',
      '/generation': 1.25,
    });
    expect(pathsOf(validateSegment(segment))).toEqual([
      '/included',
      '/rules/1/weight',
      '/unbounded',
      '/generation',
    ]);
    expect(pathsOf(validateSegment(segment, { mode: 'strict' }))).toEqual(
      expect.arrayContaining([
        '/included',
        '/includedContexts/0/contextKind',
        '/rules/0/clauses',
        '/rules/1/weight',
        '/unbounded',
        '/generation',
      ]),
    );
  });

  it('requires clause values to be an array in both modes', () => {
    const flag = edit(baseFlag(), { '/rules/0/clauses/0/values': 'x' });
    for (const mode of ['schema', 'strict'] as const) {
      expect(errorsOf(validateFlag(flag, { mode }))).toEqual([
        { path: '/rules/0/clauses/0/values', message: 'expected an array, got the string "x"' },
      ]);
    }
  });

  it('escapes "~" and "/" in paths and reports values that are not JSON', () => {
    const flag = edit(baseFlag(), { '/variations': ['a', 'b', { 'a/b': { '~x': 1 } }] });
    ((flag.variations as unknown[])[2] as { 'a/b': Record<string, unknown> })['a/b']['~x'] = undefined;
    expect(errorsOf(validateFlag(flag))).toEqual([
      { path: '/variations/2/a~1b/~0x', message: 'expected a JSON value, got undefined' },
    ]);
  });

  it('rejects non-JSON values such as NaN, functions and Dates', () => {
    const flag = { ...baseFlag(), variations: [Number.NaN, () => 1, new Date(0)] };
    expect(errorsOf(validateFlag(flag))).toEqual([
      { path: '/variations/0', message: 'expected a JSON value, got NaN' },
      { path: '/variations/1', message: 'expected a JSON value, got a function' },
      { path: '/variations/2', message: 'expected a JSON value, got a Date object' },
    ]);
  });

  it('reports a cycle in a variation value instead of looping', () => {
    const value: Record<string, unknown> = { a: 1 };
    value.self = { back: value };
    const flag = { ...baseFlag(), variations: ['a', 'b', value] };
    expect(errorsOf(validateFlag(flag))).toEqual([
      { path: '/variations/2/self/back', message: 'expected a JSON value, got a circular reference' },
    ]);
  });

  it('accepts shared (non-circular) values without re-walking them', () => {
    let shared: unknown[] = [1];
    for (let i = 0; i < 64; i++) shared = [shared, shared];
    expect(validateFlag({ ...baseFlag(), variations: ['a', 'b', shared] }).ok).toBe(true);
  });
});

describe('strict mode', () => {
  const strict = { mode: 'strict' } as const;

  interface Case {
    name: string;
    edits: Record<string, unknown>;
    path: string;
    message: string | RegExp;
  }

  const flagCases: Case[] = [
    {
      name: 'flag key outside the allowed alphabet',
      edits: { '/key': 'my flag' },
      path: '/key',
      message:
        'flag key "my flag" is not valid: expected a non-empty key of only letters, digits, ".", "_" and "-"',
    },
    { name: 'empty flag key', edits: { '/key': '' }, path: '/key', message: /^flag key "" is not valid/ },
    {
      name: 'offVariation out of range',
      edits: { '/offVariation': 3 },
      path: '/offVariation',
      message: 'variation index 3 is out of range: the flag has 3 variations',
    },
    {
      name: 'negative fallthrough variation',
      edits: { '/fallthrough/variation': -1 },
      path: '/fallthrough/variation',
      message: 'variation index -1 is out of range: the flag has 3 variations',
    },
    {
      name: 'target variation out of range',
      edits: { '/targets/0/variation': 5 },
      path: '/targets/0/variation',
      message: 'variation index 5 is out of range: the flag has 3 variations',
    },
    {
      name: 'context target variation out of range',
      edits: { '/contextTargets/0/variation': 9 },
      path: '/contextTargets/0/variation',
      message: /variation index 9 is out of range/,
    },
    {
      name: 'rule variation out of range',
      edits: { '/rules/0/variation': 3 },
      path: '/rules/0/variation',
      message: /variation index 3 is out of range/,
    },
    {
      name: 'rollout variation out of range',
      edits: { '/rules/1/rollout/variations/0/variation': 4 },
      path: '/rules/1/rollout/variations/0/variation',
      message: /variation index 4 is out of range/,
    },
    {
      name: 'fallthrough with both variation and rollout',
      edits: { '/fallthrough/rollout': { variations: [{ variation: 0, weight: 100000 }] } },
      path: '/fallthrough',
      message: 'expected exactly one of "variation" or "rollout", but found both',
    },
    {
      name: 'fallthrough with neither variation nor rollout',
      edits: { '/fallthrough': { variation: null } },
      path: '/fallthrough',
      message: 'expected exactly one of "variation" or "rollout", but found neither',
    },
    {
      name: 'rule with neither variation nor rollout',
      edits: { '/rules/0/variation': undefined },
      path: '/rules/0',
      message: /found neither/,
    },
    {
      name: 'rollout without weighted variations',
      edits: { '/rules/1/rollout/variations': [] },
      path: '/rules/1/rollout/variations',
      message: 'a rollout must have at least one weighted variation',
    },
    {
      name: 'rollout weights not summing to 100000',
      edits: { '/rules/1/rollout/variations/0/weight': 40000 },
      path: '/rules/1/rollout/variations',
      message: 'rollout weights sum to 90000: expected exactly 100000 (100%)',
    },
    {
      name: 'unknown rollout kind',
      edits: { '/rules/1/rollout/kind': 'canary' },
      path: '/rules/1/rollout/kind',
      message: 'unknown rollout kind "canary": expected "rollout" or "experiment"',
    },
    {
      name: 'reserved rollout context kind',
      edits: { '/rules/1/rollout/contextKind': 'multi' },
      path: '/rules/1/rollout/contextKind',
      message: 'context kind "multi" is not valid: "kind" and "multi" are reserved',
    },
    {
      name: 'rollout bucketBy that is not a valid reference',
      edits: { '/rules/1/rollout/bucketBy': '/a//b' },
      path: '/rules/1/rollout/bucketBy',
      message: 'attribute reference "/a//b" is not valid: a slash path must not have empty components',
    },
    {
      name: 'empty rollout bucketBy without a context kind',
      edits: { '/rules/1/rollout/contextKind': undefined, '/rules/1/rollout/bucketBy': '' },
      path: '/rules/1/rollout/bucketBy',
      message: 'attribute name "" is not valid: it must not be empty',
    },
    {
      name: 'unknown clause operator',
      edits: { '/rules/0/clauses/0/op': 'equals' },
      path: '/rules/0/clauses/0/op',
      message: /^unknown operator "equals": expected one of in, startsWith, .*segmentMatch$/,
    },
    {
      name: 'clause without attribute',
      edits: { '/rules/0/clauses/0/attribute': undefined },
      path: '/rules/0/clauses/0/attribute',
      message: '"attribute" is required for operator "endsWith"',
    },
    {
      name: 'clause with null attribute',
      edits: { '/rules/0/clauses/0/attribute': null },
      path: '/rules/0/clauses/0/attribute',
      message: '"attribute" is required for operator "endsWith"',
    },
    {
      name: 'clause attribute with a bad "~" escape when contextKind is present',
      edits: { '/rules/1/clauses/0/attribute': '/a/~2' },
      path: '/rules/1/clauses/0/attribute',
      message: 'attribute reference "/a/~2" is not valid: in a slash path "~" must be followed by "0" or "1"',
    },
    {
      name: 'clause attribute "/" when contextKind is present',
      edits: { '/rules/1/clauses/0/attribute': '/' },
      path: '/rules/1/clauses/0/attribute',
      message: /a slash path must not have empty components/,
    },
    {
      name: 'clause attribute naming _meta',
      edits: { '/rules/0/clauses/0/attribute': '_meta' },
      path: '/rules/0/clauses/0/attribute',
      message: 'attribute name "_meta" is not valid: "_meta" is reserved and cannot be used as an attribute',
    },
    {
      name: 'clause attribute path into _meta',
      edits: { '/rules/1/clauses/0/attribute': '/_meta/privateAttributes' },
      path: '/rules/1/clauses/0/attribute',
      message: /"_meta" is reserved/,
    },
    {
      name: 'clause context kind "kind"',
      edits: { '/rules/1/clauses/0/contextKind': 'kind' },
      path: '/rules/1/clauses/0/contextKind',
      message: 'context kind "kind" is not valid: "kind" and "multi" are reserved',
    },
    {
      name: 'context target with an invalid kind',
      edits: { '/contextTargets/0/contextKind': 'my org' },
      path: '/contextTargets/0/contextKind',
      message:
        'context kind "my org" is not valid: expected a non-empty kind of only letters, digits, ".", "_" and "-"',
    },
    {
      name: 'matches clause with an invalid pattern',
      edits: { '/rules/1/clauses/0/values': ['ok', '(unclosed'] },
      path: '/rules/1/clauses/0/values/1',
      message: /^"\(unclosed" is not a valid regular expression: /,
    },
    {
      name: 'segmentMatch with a non-string value',
      edits: { '/rules/1/clauses/1/values': ['seg', 42] },
      path: '/rules/1/clauses/1/values/1',
      message: 'expected a segment key (a string), got the number 42',
    },
    {
      name: 'empty rule id',
      edits: { '/rules/0/id': '' },
      path: '/rules/0/id',
      message: 'a rule id must not be empty',
    },
    {
      name: 'duplicate rule id',
      edits: { '/rules/1/id': 'r0' },
      path: '/rules/1/id',
      message: 'duplicate rule id "r0": it is already used at /rules/0/id',
    },
    {
      name: 'rule without clauses',
      edits: { '/rules/0/clauses': undefined },
      path: '/rules/0/clauses',
      message: '"clauses" is required: expected an array, but it is missing',
    },
    {
      name: 'flag that is its own prerequisite',
      edits: { '/prerequisites/0/key': 'my-flag' },
      path: '/prerequisites/0/key',
      message: 'flag "my-flag" cannot be its own prerequisite',
    },
    {
      name: 'duplicate prerequisite key',
      edits: { '/prerequisites/1/key': 'other' },
      path: '/prerequisites/1/key',
      message: 'duplicate prerequisite key "other": it is already used at /prerequisites/0/key',
    },
    {
      name: 'negative prerequisite variation',
      edits: { '/prerequisites/1/variation': -2 },
      path: '/prerequisites/1/variation',
      message: 'variation index -2 is out of range: it must not be negative',
    },
    {
      name: 'unsafe integer version',
      edits: { '/version': 2 ** 53 },
      path: '/version',
      message: 'expected a safe integer (at most 2^53 - 1 in magnitude), got the number 9007199254740992',
    },
    {
      name: 'unsafe integer seed',
      edits: { '/rules/1/rollout/seed': -(2 ** 60) },
      path: '/rules/1/rollout/seed',
      message: /expected a safe integer/,
    },
  ];

  for (const { name, edits, path, message } of flagCases) {
    it(`rejects a flag with ${name}`, () => {
      const errors = errorsOf(validateFlag(edit(baseFlag(), edits), strict));
      expect(errors.map((e) => e.path)).toEqual([path]);
      if (typeof message === 'string') expect(errors[0]!.message).toBe(message);
      else expect(errors[0]!.message).toMatch(message);
    });
  }

  it('names the variation count in the singular for a one-variation flag', () => {
    const flag = edit(baseFlag(), { '/variations': ['only'], '/fallthrough/variation': 1 });
    const messages = errorsOf(validateFlag(flag, strict)).map((e) => e.message);
    expect(messages).toContain('variation index 1 is out of range: the flag has 1 variation');
  });

  it('reports a weight outside 0..100000 and the resulting sum', () => {
    const flag = edit(baseFlag(), { '/rules/1/rollout/variations/0/weight': 100001 });
    expect(errorsOf(validateFlag(flag, strict))).toEqual([
      {
        path: '/rules/1/rollout/variations/0/weight',
        message: 'weight 100001 is out of range: expected 0 to 100000',
      },
      {
        path: '/rules/1/rollout/variations',
        message: 'rollout weights sum to 150001: expected exactly 100000 (100%)',
      },
    ]);
  });

  it('treats attribute and bucketBy as literal names when no context kind is given', () => {
    const flag = edit(baseFlag(), {
      '/rules/0/clauses/0/attribute': '/a//b~2',
      '/rules/1/rollout/contextKind': undefined,
      '/rules/1/rollout/bucketBy': '/',
    });
    expect(errorsOf(validateFlag(flag, strict))).toEqual([]);
  });

  it('ignores the attribute of a segmentMatch clause', () => {
    for (const attribute of [undefined, '', '/a//b']) {
      const flag = edit(baseFlag(), { '/rules/1/clauses/1/attribute': attribute });
      expect(errorsOf(validateFlag(flag, strict))).toEqual([]);
    }
  });

  it('accepts non-string values in a matches clause', () => {
    const flag = edit(baseFlag(), { '/rules/1/clauses/0/values': [1, null, '^ok$'] });
    expect(errorsOf(validateFlag(flag, strict))).toEqual([]);
  });

  it('accepts an experiment whose variation is chosen by rollout alone', () => {
    const flag = edit(baseFlag(), { '/rules/1/rollout/kind': 'experiment', '/rules/1/rollout/seed': 0 });
    expect(errorsOf(validateFlag(flag, strict))).toEqual([]);
  });

  it('does not check a tombstone for the properties it lacks, but still checks its key', () => {
    expect(validateFlag({ key: 'gone', version: 2, deleted: true }, strict).ok).toBe(true);
    expect(pathsOf(validateFlag({ key: 'g o n e', version: 2, deleted: true }, strict))).toEqual(['/key']);
  });

  const segmentCases: Case[] = [
    {
      name: 'segment key outside the allowed alphabet',
      edits: { '/key': 'beta/users' },
      path: '/key',
      message:
        'segment key "beta/users" is not valid: expected a non-empty key of only letters, digits, ".", "_" and "-"',
    },
    {
      name: 'rule weight above 100000',
      edits: { '/rules/0/weight': 100001 },
      path: '/rules/0/weight',
      message: 'weight 100001 is out of range: expected 0 to 100000',
    },
    {
      name: 'negative rule weight',
      edits: { '/rules/0/weight': -1 },
      path: '/rules/0/weight',
      message: 'weight -1 is out of range: expected 0 to 100000',
    },
    {
      name: 'invalid rolloutContextKind',
      edits: { '/rules/1/rolloutContextKind': 'multi' },
      path: '/rules/1/rolloutContextKind',
      message: /^context kind "multi" is not valid/,
    },
    {
      name: 'bucketBy that is not a valid reference',
      edits: { '/rules/1/bucketBy': '/tier/' },
      path: '/rules/1/bucketBy',
      message: 'attribute reference "/tier/" is not valid: a slash path must not have empty components',
    },
    {
      name: 'empty literal bucketBy',
      edits: { '/rules/0/bucketBy': '' },
      path: '/rules/0/bucketBy',
      message: 'attribute name "" is not valid: it must not be empty',
    },
    {
      name: 'included context with an invalid kind',
      edits: { '/includedContexts/0/contextKind': '' },
      path: '/includedContexts/0/contextKind',
      message: /^context kind "" is not valid/,
    },
    {
      name: 'excluded context with kind "kind"',
      edits: { '/excludedContexts/0/contextKind': 'kind' },
      path: '/excludedContexts/0/contextKind',
      message: /reserved/,
    },
    {
      name: 'invalid unboundedContextKind',
      edits: { '/unboundedContextKind': 'a:b' },
      path: '/unboundedContextKind',
      message: /^context kind "a:b" is not valid/,
    },
    {
      name: 'duplicate rule id',
      edits: { '/rules/1/id': 's0' },
      path: '/rules/1/id',
      message: 'duplicate rule id "s0": it is already used at /rules/0/id',
    },
    {
      name: 'empty rule id',
      edits: { '/rules/1/id': '' },
      path: '/rules/1/id',
      message: 'a rule id must not be empty',
    },
    {
      name: 'unknown clause operator',
      edits: { '/rules/0/clauses/0/op': 'IN' },
      path: '/rules/0/clauses/0/op',
      message: /^unknown operator "IN"/,
    },
    {
      name: 'clause without attribute',
      edits: { '/rules/0/clauses/0/attribute': undefined },
      path: '/rules/0/clauses/0/attribute',
      message: '"attribute" is required for operator "in"',
    },
    {
      name: 'segmentMatch on itself',
      edits: { '/rules/0/clauses/0': { attribute: '', op: 'segmentMatch', values: ['other', 'beta-users'] } },
      path: '/rules/0/clauses/0/values/1',
      message: 'segment "beta-users" cannot match against itself',
    },
    {
      name: 'unsafe integer generation',
      edits: { '/generation': 2 ** 53 + 2 },
      path: '/generation',
      message: /expected a safe integer/,
    },
  ];

  for (const { name, edits, path, message } of segmentCases) {
    it(`rejects a segment with ${name}`, () => {
      const segment = edit(baseSegment(), edits);
      const errors = errorsOf(validateSegment(segment, strict));
      expect(errors.map((e) => e.path)).toEqual([path]);
      if (typeof message === 'string') expect(errors[0]!.message).toBe(message);
      else expect(errors[0]!.message).toMatch(message);
      if (!/safe integer/.test(errors[0]!.message)) expect(validateSegment(segment).ok).toBe(true);
    });
  }

  it('reports every error, in document order', () => {
    const flag = edit(baseFlag(), {
      '/key': 'bad key',
      '/on': 'true',
      '/prerequisites/0/key': 'bad key',
      '/targets/0/variation': 7,
      '/rules/0/clauses/0/op': 'equals',
      '/rules/0/clauses/0/attribute': '',
      '/rules/1/id': 'r0',
      '/rules/1/rollout/variations/1/weight': 10,
      '/fallthrough': { variation: 3 },
      '/offVariation': -1,
    });
    expect(pathsOf(validateFlag(flag, strict))).toEqual([
      '/key',
      '/on',
      '/prerequisites/0/key',
      '/targets/0/variation',
      '/rules/0/clauses/0/op',
      '/rules/0/clauses/0/attribute',
      '/rules/1/id',
      '/rules/1/rollout/variations',
      '/fallthrough/variation',
      '/offVariation',
    ]);
  });
});

describe('junk input', () => {
  const cases: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'flag'],
    ['a boolean', true],
    ['an array', []],
    ['an array of flags', [baseFlag()]],
    ['a function', () => baseFlag()],
    ['a Date', new Date(0)],
    ['a Map', new Map([['key', 'k']])],
  ];
  const validators: Array<[string, Validate, string]> = [
    ['validateFlag', validateFlag, 'a flag'],
    ['validateSegment', validateSegment, 'a segment'],
  ];

  for (const [validatorName, validate, what] of validators) {
    for (const [name, input] of cases) {
      it(`${validatorName} rejects ${name} at the root`, () => {
        for (const mode of ['schema', 'strict'] as const) {
          const errors = errorsOf(validate(input, { mode }));
          expect(errors).toHaveLength(1);
          expect(errors[0]!.path).toBe('');
          expect(errors[0]!.message).toMatch(new RegExp(`^expected ${what} \\(a JSON object\\), got `));
        }
      });
    }

    it(`${validatorName} lists every missing required property of {}`, () => {
      const strict =
        validate === validateFlag
          ? ['/key', '/version', '/on', '/variations', '/fallthrough']
          : ['/key', '/version'];
      expect(pathsOf(validate({}))).toEqual(['/key', '/version']);
      expect(pathsOf(validate({}, { mode: 'strict' }))).toEqual(strict);
    });
  }

  it('reports junk in every nested position without throwing', () => {
    const junk = [null, 0, 'x', true, [], {}, [[[]]], { a: { b: {} } }];
    for (const value of junk) {
      const flag = {
        key: value,
        version: value,
        on: value,
        variations: value,
        prerequisites: [value],
        targets: [value],
        contextTargets: value,
        rules: [value, { clauses: [value], rollout: value }],
        fallthrough: value,
        offVariation: value,
        clientSideAvailability: value,
        migration: value,
      };
      for (const mode of ['schema', 'strict'] as const) {
        const result = validateFlag(flag, { mode });
        expect(result.ok).toBe(false);
        for (const error of errorsOf(result)) {
          expect(error.path.startsWith('/')).toBe(true);
          expect(error.message.length).toBeGreaterThan(0);
        }
      }
      const segment = { key: 'k', version: 1, included: value, rules: [value, { clauses: [value] }] };
      expect(() => validateSegment(segment, { mode: 'strict' })).not.toThrow();
    }
  });

  it('handles deeply nested values without recursion', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200_000; i++) deep = i % 2 === 0 ? [deep] : { d: deep };
    const ok = validateFlag({ ...baseFlag(), variations: ['a', 'b', deep] }, { mode: 'strict' });
    expect(ok.ok).toBe(true);
    expect(pathsOf(validateFlag({ ...baseFlag(), fallthrough: [deep], rules: [[deep]] }))).toEqual([
      '/rules/0',
      '/fallthrough',
    ]);
  });

  it('reports an error instead of throwing when reading the input throws', () => {
    const input = {
      key: 'k',
      version: 1,
      get on(): boolean {
        throw new Error('boom');
      },
    };
    expect(validateFlag(input)).toEqual({
      ok: false,
      errors: [{ path: '', message: 'the input could not be read: boom' }],
    });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(validateFlag(revoked.proxy).ok).toBe(false);
  });

  it('rejects an unknown mode instead of silently validating less', () => {
    const result = validateFlag(baseFlag(), { mode: 'Strict' as ValidationMode });
    expect(errorsOf(result)).toEqual([
      { path: '', message: 'unknown validation mode "Strict": expected "schema" or "strict"' },
    ]);
  });
});
