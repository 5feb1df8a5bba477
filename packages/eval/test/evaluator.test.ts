// The evaluation algorithm (spec §3): one test per reason and path, bucketing checked against node:crypto.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type BigSegmentMembership,
  type Clause,
  Context,
  type EvalResult,
  type EvaluationData,
  evaluate,
  evaluateWithDefault,
  type Flag,
  type FlagRule,
  isExperiment,
  type Reason,
  type Rollout,
  type Segment,
} from '../src/index.js';

// ---------------------------------------------------------------------------------------------------
// Helpers

function ctx(input: unknown): Context {
  const result = Context.from(input);
  if (!(result instanceof Context)) throw new Error(`invalid test context: ${result.message}`);
  return result;
}

const USER = { kind: 'user', key: 'u1', name: 'Ann' };

function flag(overrides: Partial<Flag> = {}): Flag {
  return {
    key: 'flag',
    version: 1,
    on: true,
    variations: ['v0', 'v1', 'v2'],
    fallthrough: { variation: 0 },
    ...overrides,
  };
}

function segment(overrides: Partial<Segment> & { key: string }): Segment {
  return { version: 1, ...overrides };
}

interface Store extends EvaluationData {
  bigSegmentCalls: string[];
}

function store(
  flags: Flag[] = [],
  segments: Segment[] = [],
  big?: (contextKey: string) => BigSegmentMembership | undefined,
): Store {
  const flagMap = new Map(flags.map((f) => [f.key, f]));
  const segmentMap = new Map(segments.map((s) => [s.key, s]));
  const calls: string[] = [];
  const data: Store = {
    bigSegmentCalls: calls,
    getFlag: (key) => flagMap.get(key),
    getSegment: (key) => segmentMap.get(key),
  };
  if (big) {
    data.getBigSegmentMembership = (key) => {
      calls.push(key);
      return big(key);
    };
  }
  return data;
}

function run(f: Flag, context: unknown = USER, data: EvaluationData = store()): EvalResult {
  return evaluate(f, ctx(context), data);
}

function detailOf(f: Flag, context: unknown = USER, data: EvaluationData = store()) {
  const { detail } = run(f, context, data);
  // Copy frozen shared reasons into plain objects so strict comparisons see only their properties.
  return { ...detail, reason: { ...detail.reason } };
}

function malformed() {
  return { value: null, variationIndex: null, reason: { kind: 'ERROR', errorKind: 'MALFORMED_FLAG' } };
}

function variation(index: number, reason: Reason) {
  return { value: `v${index}`, variationIndex: index, reason };
}

const FALLTHROUGH: Reason = { kind: 'FALLTHROUGH' };

function ruleWith(clauses: Clause[] | undefined, variationIndex = 2, id = 'rule'): FlagRule {
  const rule: FlagRule = { id, variation: variationIndex };
  if (clauses !== undefined) rule.clauses = clauses;
  return rule;
}

function clause(
  attribute: string,
  op: string,
  values: Clause['values'],
  extra: Partial<Clause> = {},
): Clause {
  return { attribute, op, values, ...extra };
}

function segmentClause(...keys: string[]): Clause {
  return { attribute: '', op: 'segmentMatch', values: keys };
}

/** Spec §3.8 bucket, computed with node:crypto and BigInt, independently of the engine's hasher. */
function bucket(input: string): number {
  const hex = createHash('sha1').update(input, 'utf8').digest('hex');
  // 0xFFFFFFFFFFFFFFF as a double, as the spec's formula is evaluated in JavaScript.
  return Number(BigInt(`0x${hex.slice(0, 15)}`)) / Number(0xfffffffffffffffn);
}

/** Spec §3.8 variation choice for a bucket: first cumulative weight above it, else the last. */
function choose(b: number, weights: number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i]! / 100_000;
    if (b < sum) return i;
  }
  return weights.length - 1;
}

/** Weights whose middle bucket is one unit (1/100000) wide and contains `b`. */
function narrowAround(b: number): number[] {
  const w = Math.floor(b * 100_000);
  const weights = [w, 1, 100_000 - w - 1];
  if (choose(b, weights) !== 1) throw new Error(`bad test setup for bucket ${b}`);
  return weights;
}

function rollout(weights: number[], extra: Partial<Rollout> = {}): Rollout {
  return { variations: weights.map((weight, i) => ({ variation: i, weight })), ...extra };
}

// The flag key, salt and user keys of LaunchDarkly's published bucketing tests.
const HASH_FLAG = { key: 'hashKey', salt: 'saltyA' };

// ---------------------------------------------------------------------------------------------------

describe('OFF', () => {
  it('returns the off variation', () => {
    expect(detailOf(flag({ on: false, offVariation: 1 }))).toStrictEqual(variation(1, { kind: 'OFF' }));
  });

  it('returns no variation without an off variation', () => {
    expect(detailOf(flag({ on: false }))).toStrictEqual({
      value: null,
      variationIndex: null,
      reason: { kind: 'OFF' },
    });
  });

  it('ignores targets, rules and prerequisites when off', () => {
    const f = flag({
      on: false,
      offVariation: 1,
      prerequisites: [{ key: 'missing', variation: 0 }],
      targets: [{ values: ['u1'], variation: 2 }],
      rules: [ruleWith([])],
    });
    const result = run(f);
    expect(result.detail).toStrictEqual(variation(1, { kind: 'OFF' }));
    expect(result.prerequisiteEvaluations ?? []).toEqual([]);
  });

  it('is malformed when the off variation is out of range', () => {
    expect(detailOf(flag({ on: false, offVariation: 3 }))).toStrictEqual(malformed());
    expect(detailOf(flag({ on: false, offVariation: -1 }))).toStrictEqual(malformed());
  });
});

describe('FALLTHROUGH', () => {
  it('returns the fallthrough variation when nothing else matches', () => {
    expect(detailOf(flag({ fallthrough: { variation: 2 } }))).toStrictEqual(variation(2, FALLTHROUGH));
  });

  it('returns any JSON value as the variation', () => {
    const f = flag({ variations: [{ a: [1, null] }, null], fallthrough: { variation: 1 } });
    expect(detailOf(f)).toStrictEqual({ value: null, variationIndex: 1, reason: FALLTHROUGH });
    expect(detailOf({ ...f, fallthrough: { variation: 0 } }).value).toEqual({ a: [1, null] });
  });
});

describe('PREREQUISITE_FAILED and prerequisites', () => {
  const failed = (key: string): Reason => ({ kind: 'PREREQUISITE_FAILED', prerequisiteKey: key });

  it('fails when the prerequisite flag does not exist', () => {
    const f = flag({ offVariation: 1, prerequisites: [{ key: 'missing', variation: 0 }] });
    expect(detailOf(f)).toStrictEqual(variation(1, failed('missing')));
  });

  it('fails with no variation when there is no off variation', () => {
    const f = flag({ prerequisites: [{ key: 'missing', variation: 0 }] });
    expect(detailOf(f)).toStrictEqual({ value: null, variationIndex: null, reason: failed('missing') });
  });

  it('fails when the prerequisite flag is deleted', () => {
    const p = flag({ key: 'p', deleted: true });
    const f = flag({ offVariation: 1, prerequisites: [{ key: 'p', variation: 0 }] });
    expect(detailOf(f, USER, store([p]))).toStrictEqual(variation(1, failed('p')));
  });

  it('fails when the prerequisite is off, even if its off variation is the required one', () => {
    const p = flag({ key: 'p', on: false, offVariation: 0 });
    const f = flag({ offVariation: 1, prerequisites: [{ key: 'p', variation: 0 }] });
    expect(detailOf(f, USER, store([p]))).toStrictEqual(variation(1, failed('p')));
  });

  it('fails when the prerequisite returns another variation', () => {
    const p = flag({ key: 'p', fallthrough: { variation: 2 } });
    const f = flag({ offVariation: 1, prerequisites: [{ key: 'p', variation: 0 }] });
    expect(detailOf(f, USER, store([p]))).toStrictEqual(variation(1, failed('p')));
  });

  it('passes when the prerequisite returns the required variation', () => {
    const p = flag({ key: 'p', fallthrough: { variation: 2 } });
    const f = flag({ offVariation: 1, prerequisites: [{ key: 'p', variation: 2 }] });
    expect(detailOf(f, USER, store([p]))).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('checks prerequisites in order and stops at the first failure', () => {
    const p1 = flag({ key: 'p1', fallthrough: { variation: 0 } });
    const p2 = flag({ key: 'p2', fallthrough: { variation: 0 } });
    const p3 = flag({ key: 'p3', fallthrough: { variation: 0 } });
    const f = flag({
      offVariation: 1,
      prerequisites: [
        { key: 'p1', variation: 0 },
        { key: 'p2', variation: 1 },
        { key: 'p3', variation: 0 },
      ],
    });
    const result = run(f, USER, store([p1, p2, p3]));
    expect(result.detail).toStrictEqual(variation(1, failed('p2')));
    expect(result.prerequisiteEvaluations?.map((e) => e.flag.key)).toEqual(['p1', 'p2']);
    expect(result.prerequisites).toEqual(['p1', 'p2']);
  });

  it('returns the error of a malformed prerequisite as the result', () => {
    const p = flag({ key: 'p', fallthrough: { variation: 7 } });
    const f = flag({ offVariation: 1, prerequisites: [{ key: 'p', variation: 0 }] });
    expect(detailOf(f, USER, store([p]))).toStrictEqual(malformed());
  });

  it('detects a flag that requires itself', () => {
    const f = flag({ key: 'a', offVariation: 1, prerequisites: [{ key: 'a', variation: 0 }] });
    expect(detailOf(f, USER, store([f]))).toStrictEqual(malformed());
  });

  it('detects a cycle at the top level (a -> b -> a)', () => {
    const a = flag({ key: 'a', offVariation: 1, prerequisites: [{ key: 'b', variation: 0 }] });
    const b = flag({ key: 'b', offVariation: 1, prerequisites: [{ key: 'a', variation: 0 }] });
    expect(detailOf(a, USER, store([a, b]))).toStrictEqual(malformed());
  });

  it('detects a cycle at a deeper level (a -> b -> c -> b)', () => {
    const a = flag({ key: 'a', offVariation: 1, prerequisites: [{ key: 'b', variation: 0 }] });
    const b = flag({ key: 'b', offVariation: 1, prerequisites: [{ key: 'c', variation: 0 }] });
    const c = flag({ key: 'c', offVariation: 1, prerequisites: [{ key: 'b', variation: 0 }] });
    expect(detailOf(a, USER, store([a, b, c]))).toStrictEqual(malformed());
  });

  it('does not mistake a shared prerequisite (diamond) for a cycle', () => {
    const d = flag({ key: 'd' });
    const b = flag({ key: 'b', prerequisites: [{ key: 'd', variation: 0 }] });
    const c = flag({ key: 'c', prerequisites: [{ key: 'd', variation: 0 }] });
    const a = flag({
      key: 'a',
      fallthrough: { variation: 2 },
      prerequisites: [
        { key: 'b', variation: 0 },
        { key: 'c', variation: 0 },
      ],
    });
    expect(detailOf(a, USER, store([a, b, c, d]))).toStrictEqual(variation(2, FALLTHROUGH));
  });

  it('reports nested prerequisite evaluations before their parent, with prereqOf', () => {
    const d = flag({ key: 'd', fallthrough: { variation: 1 } });
    const b = flag({ key: 'b', prerequisites: [{ key: 'd', variation: 1 }] });
    const c = flag({ key: 'c', on: false, offVariation: 2 });
    const e = flag({ key: 'e' });
    const a = flag({
      key: 'a',
      offVariation: 1,
      prerequisites: [
        { key: 'b', variation: 0 },
        { key: 'c', variation: 2 },
        { key: 'e', variation: 0 },
      ],
    });
    const result = run(a, USER, store([a, b, c, d, e]));
    expect(result.detail).toStrictEqual(variation(1, failed('c')));
    const events = (result.prerequisiteEvaluations ?? []).map((p) => ({
      key: p.flag.key,
      prereqOf: p.prereqOf,
      value: p.detail.value,
      variationIndex: p.detail.variationIndex,
      reason: p.detail.reason.kind,
    }));
    expect(events).toEqual([
      { key: 'd', prereqOf: 'b', value: 'v1', variationIndex: 1, reason: 'FALLTHROUGH' },
      { key: 'b', prereqOf: 'a', value: 'v0', variationIndex: 0, reason: 'FALLTHROUGH' },
      { key: 'c', prereqOf: 'a', value: 'v2', variationIndex: 2, reason: 'OFF' },
    ]);
    expect(result.prerequisiteEvaluations?.[0]?.flag).toBe(d);
    // Only the direct prerequisites that were evaluated; `e` comes after the failure.
    expect(result.prerequisites).toEqual(['b', 'c']);
  });

  it('reports no prerequisite evaluations for a flag without prerequisites', () => {
    const result = run(flag());
    expect(result.prerequisiteEvaluations ?? []).toEqual([]);
    expect(result.prerequisites ?? []).toEqual([]);
  });
});

describe('TARGET_MATCH', () => {
  const TARGET: Reason = { kind: 'TARGET_MATCH' };

  it('matches user keys listed in targets', () => {
    const f = flag({
      targets: [
        { values: ['a', 'b'], variation: 1 },
        { values: ['u1'], variation: 2 },
      ],
    });
    expect(detailOf(f)).toStrictEqual(variation(2, TARGET));
    expect(detailOf(f, { kind: 'user', key: 'b' })).toStrictEqual(variation(1, TARGET));
    expect(detailOf(f, { kind: 'user', key: 'zzz' })).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('matches long target lists', () => {
    const values = Array.from({ length: 100 }, (_, i) => `key${i}`);
    const f = flag({ targets: [{ values, variation: 1 }] });
    expect(detailOf(f, { kind: 'user', key: 'key77' })).toStrictEqual(variation(1, TARGET));
    expect(detailOf(f, { kind: 'user', key: 'key100' })).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('only tests the user kind in targets', () => {
    const f = flag({ targets: [{ values: ['o1'], variation: 1 }] });
    expect(detailOf(f, { kind: 'org', key: 'o1' })).toStrictEqual(variation(0, FALLTHROUGH));
    expect(detailOf(f, { kind: 'multi', org: { key: 'x' }, user: { key: 'o1' } })).toStrictEqual(
      variation(1, TARGET),
    );
  });

  it('matches other kinds through contextTargets', () => {
    const f = flag({ contextTargets: [{ contextKind: 'org', values: ['o1'], variation: 1 }] });
    expect(detailOf(f, { kind: 'org', key: 'o1' })).toStrictEqual(variation(1, TARGET));
    expect(detailOf(f, { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } })).toStrictEqual(
      variation(1, TARGET),
    );
    expect(detailOf(f, { kind: 'user', key: 'o1' })).toStrictEqual(variation(0, FALLTHROUGH));
    expect(detailOf(f, { kind: 'org', key: 'o2' })).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('resolves user placeholders in contextTargets through targets with the same variation', () => {
    const f = flag({
      targets: [
        { values: ['other'], variation: 1 },
        { values: ['u1'], variation: 2 },
      ],
      contextTargets: [
        { contextKind: 'org', values: ['o1'], variation: 1 },
        { contextKind: 'user', values: [], variation: 2 },
      ],
    });
    expect(detailOf(f)).toStrictEqual(variation(2, TARGET));
    // contextTargets order decides: the org entry comes first.
    expect(detailOf(f, { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } })).toStrictEqual(
      variation(1, TARGET),
    );
  });

  it('follows contextTargets order when the user placeholder comes first', () => {
    const f = flag({
      targets: [{ values: ['u1'], variation: 2 }],
      contextTargets: [
        { values: [], variation: 2 },
        { contextKind: 'org', values: ['o1'], variation: 1 },
      ],
    });
    expect(detailOf(f, { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } })).toStrictEqual(
      variation(2, TARGET),
    );
  });

  it('ignores the values of a user placeholder itself', () => {
    const f = flag({ targets: [], contextTargets: [{ contextKind: 'user', values: ['u1'], variation: 1 }] });
    expect(detailOf(f)).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('uses only the first targets entry with the placeholder variation', () => {
    const f = flag({
      targets: [
        { values: ['a'], variation: 1 },
        { values: ['u1'], variation: 1 },
      ],
      contextTargets: [{ contextKind: 'user', values: [], variation: 1 }],
    });
    expect(detailOf(f)).toStrictEqual(variation(0, FALLTHROUGH));
    expect(detailOf(f, { kind: 'user', key: 'a' })).toStrictEqual(variation(1, TARGET));
  });

  it('ignores targets without a placeholder when contextTargets is not empty', () => {
    const f = flag({
      targets: [{ values: ['u1'], variation: 1 }],
      contextTargets: [{ contextKind: 'org', values: ['o1'], variation: 2 }],
    });
    expect(detailOf(f)).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('uses targets when contextTargets is empty', () => {
    const f = flag({ targets: [{ values: ['u1'], variation: 1 }], contextTargets: [] });
    expect(detailOf(f)).toStrictEqual(variation(1, TARGET));
  });

  it('comes before rules', () => {
    const f = flag({ targets: [{ values: ['u1'], variation: 1 }], rules: [ruleWith([])] });
    expect(detailOf(f)).toStrictEqual(variation(1, TARGET));
  });

  it('is malformed when the target variation is out of range', () => {
    expect(detailOf(flag({ targets: [{ values: ['u1'], variation: 5 }] }))).toStrictEqual(malformed());
  });
});

describe('RULE_MATCH and clauses', () => {
  const ruleMatch = (ruleIndex: number, ruleId?: string): Reason =>
    ruleId === undefined ? { kind: 'RULE_MATCH', ruleIndex } : { kind: 'RULE_MATCH', ruleIndex, ruleId };

  it('reports the index and id of the first matching rule', () => {
    const f = flag({
      rules: [
        ruleWith([clause('name', 'in', ['Bob'])], 1, 'first'),
        ruleWith([clause('name', 'in', ['Ann'])], 2, 'second'),
        ruleWith([], 1, 'third'),
      ],
    });
    expect(detailOf(f)).toStrictEqual(variation(2, ruleMatch(1, 'second')));
  });

  it('omits ruleId when the rule has none', () => {
    const f = flag({ rules: [{ clauses: [], variation: 1 }] });
    expect(detailOf(f)).toStrictEqual(variation(1, ruleMatch(0)));
  });

  it('requires every clause of a rule to match', () => {
    const f = flag({
      rules: [ruleWith([clause('name', 'in', ['Ann']), clause('key', 'in', ['nope'])], 1, 'r0')],
    });
    expect(detailOf(f)).toStrictEqual(variation(0, FALLTHROUGH));
    const g = flag({
      rules: [ruleWith([clause('name', 'in', ['Ann']), clause('key', 'in', ['u1'])], 1, 'r0')],
    });
    expect(detailOf(g)).toStrictEqual(variation(1, ruleMatch(0, 'r0')));
  });

  it('never matches a rule without clauses, but always matches an empty clause list', () => {
    const f = flag({ rules: [ruleWith(undefined, 1, 'none'), ruleWith([], 2, 'empty')] });
    expect(detailOf(f)).toStrictEqual(variation(2, ruleMatch(1, 'empty')));
    expect(detailOf(flag({ rules: [ruleWith(undefined, 1, 'none')] }))).toStrictEqual(
      variation(0, FALLTHROUGH),
    );
  });

  it('is malformed on an invalid attribute reference, without trying later rules', () => {
    for (const bad of [
      clause('//', 'in', ['x'], { contextKind: 'user' }),
      clause('/a~2', 'in', ['x'], { contextKind: 'user' }),
      clause('/_meta/privateAttributes', 'in', ['x'], { contextKind: 'user' }),
      clause('', 'in', ['x']),
      { op: 'in', values: ['x'] } as Clause,
    ]) {
      const f = flag({ rules: [ruleWith([bad], 1, 'bad'), ruleWith([], 2, 'all')] });
      expect(detailOf(f), JSON.stringify(bad)).toStrictEqual(malformed());
    }
  });

  it('does not reach a malformed rule after a matching one', () => {
    const f = flag({ rules: [ruleWith([], 2, 'all'), ruleWith([clause('', 'in', ['x'])], 1, 'bad')] });
    expect(detailOf(f)).toStrictEqual(variation(2, ruleMatch(0, 'all')));
  });

  it('is malformed when the rule variation is out of range', () => {
    expect(detailOf(flag({ rules: [ruleWith([], 3)] }))).toStrictEqual(malformed());
  });

  it('applies negate to a present attribute', () => {
    const f = flag({ rules: [ruleWith([clause('name', 'in', ['Bob'], { negate: true })], 1, 'r')] });
    expect(detailOf(f)).toStrictEqual(variation(1, ruleMatch(0, 'r')));
    expect(detailOf(f, { ...USER, name: 'Bob' })).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('never matches a missing or null attribute, even when negated', () => {
    const f = flag({ rules: [ruleWith([clause('email', 'in', [''], { negate: true })], 1, 'r')] });
    expect(detailOf(f)).toStrictEqual(variation(0, FALLTHROUGH));
    expect(detailOf(f, { ...USER, email: null })).toStrictEqual(variation(0, FALLTHROUGH));
    expect(detailOf(f, { ...USER, email: 'x' })).toStrictEqual(variation(1, ruleMatch(0, 'r')));
  });

  it('matches an array attribute when any element matches', () => {
    const f = flag({ rules: [ruleWith([clause('groups', 'in', ['b', 'z'])], 1, 'r')] });
    expect(detailOf(f, { ...USER, groups: ['a', 'b'] })).toStrictEqual(variation(1, ruleMatch(0, 'r')));
    expect(detailOf(f, { ...USER, groups: ['a', 'c'] })).toStrictEqual(variation(0, FALLTHROUGH));
    expect(detailOf(f, { ...USER, groups: [] })).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('negates the any-element result of an array attribute', () => {
    const f = flag({ rules: [ruleWith([clause('groups', 'in', ['b'], { negate: true })], 1, 'r')] });
    expect(detailOf(f, { ...USER, groups: ['a', 'b'] })).toStrictEqual(variation(0, FALLTHROUGH));
    expect(detailOf(f, { ...USER, groups: ['a', 'c'] })).toStrictEqual(variation(1, ruleMatch(0, 'r')));
  });

  it('does not flatten arrays of arrays', () => {
    const flat = flag({ rules: [ruleWith([clause('groups', 'in', ['a'])], 1, 'r')] });
    expect(detailOf(flat, { ...USER, groups: [['a']] })).toStrictEqual(variation(0, FALLTHROUGH));
    const nested = flag({ rules: [ruleWith([clause('groups', 'in', [['a']])], 1, 'r')] });
    expect(detailOf(nested, { ...USER, groups: [['a']] })).toStrictEqual(variation(1, ruleMatch(0, 'r')));
  });

  it('reads the attribute from the clause kind of a multi-kind context', () => {
    const f = flag({
      rules: [ruleWith([clause('name', 'in', ['Acme'], { contextKind: 'org' })], 1, 'r')],
    });
    const multi = { kind: 'multi', user: { key: 'u1', name: 'Ann' }, org: { key: 'o1', name: 'Acme' } };
    expect(detailOf(f, multi)).toStrictEqual(variation(1, ruleMatch(0, 'r')));
    expect(detailOf(f, { kind: 'user', key: 'u1', name: 'Acme' })).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('never matches a negated clause for a kind the context lacks', () => {
    const f = flag({
      rules: [ruleWith([clause('name', 'in', ['x'], { contextKind: 'org', negate: true })], 1, 'r')],
    });
    expect(detailOf(f)).toStrictEqual(variation(0, FALLTHROUGH));
    expect(detailOf(f, { kind: 'multi', user: { key: 'u' }, org: { key: 'o', name: 'y' } })).toStrictEqual(
      variation(1, ruleMatch(0, 'r')),
    );
  });

  it('matches the kind attribute against the list of kinds, whatever the clause kind', () => {
    const multi = { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } };
    const byUserClause = flag({
      rules: [ruleWith([clause('kind', 'in', ['org'], { contextKind: 'user' })], 1, 'r')],
    });
    expect(detailOf(byUserClause, multi)).toStrictEqual(variation(1, ruleMatch(0, 'r')));
    expect(detailOf(byUserClause)).toStrictEqual(variation(0, FALLTHROUGH));
    const byDeviceClause = flag({
      rules: [ruleWith([clause('kind', 'in', ['user'], { contextKind: 'device' })], 1, 'r')],
    });
    expect(detailOf(byDeviceClause)).toStrictEqual(variation(1, ruleMatch(0, 'r')));
    const literal = flag({ rules: [ruleWith([clause('kind', 'startsWith', ['or'])], 1, 'r')] });
    expect(detailOf(literal, multi)).toStrictEqual(variation(1, ruleMatch(0, 'r')));
    expect(detailOf(literal, { key: 'legacy' })).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('matches anonymous false when the attribute is absent', () => {
    const f = flag({ rules: [ruleWith([clause('anonymous', 'in', [false])], 1, 'r')] });
    expect(detailOf(f)).toStrictEqual(variation(1, ruleMatch(0, 'r')));
    expect(detailOf(f, { ...USER, anonymous: true })).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('reads a literal attribute name without contextKind and a path with it', () => {
    const context = { ...USER, 'a/b': 'literal', a: { b: 'nested' } };
    const literal = flag({ rules: [ruleWith([clause('a/b', 'in', ['literal'])], 1, 'r')] });
    expect(detailOf(literal, context)).toStrictEqual(variation(1, ruleMatch(0, 'r')));
    const path = flag({
      rules: [ruleWith([clause('/a/b', 'in', ['nested'], { contextKind: 'user' })], 1, 'r')],
    });
    expect(detailOf(path, context)).toStrictEqual(variation(1, ruleMatch(0, 'r')));
    const literalSlash = flag({ rules: [ruleWith([clause('/a/b', 'in', ['nested'])], 1, 'r')] });
    expect(detailOf(literalSlash, context)).toStrictEqual(variation(0, FALLTHROUGH));
  });

  it('lets negate apply to an unknown operator', () => {
    const f = flag({ rules: [ruleWith([clause('name', 'isAnything', ['Ann'])], 1, 'r')] });
    expect(detailOf(f)).toStrictEqual(variation(0, FALLTHROUGH));
    const g = flag({ rules: [ruleWith([clause('name', 'isAnything', ['Ann'], { negate: true })], 1, 'r')] });
    expect(detailOf(g)).toStrictEqual(variation(1, ruleMatch(0, 'r')));
  });
});

describe('segmentMatch', () => {
  const ruleMatch: Reason = { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'seg' };
  const segFlag = (...keys: string[]) => flag({ rules: [ruleWith([segmentClause(...keys)], 1, 'seg')] });
  const inSeg = variation(1, ruleMatch);
  const notInSeg = variation(0, FALLTHROUGH);

  it('matches user keys in included', () => {
    const s = segment({ key: 's', included: ['x', 'u1'] });
    expect(detailOf(segFlag('s'), USER, store([], [s]))).toStrictEqual(inSeg);
    expect(detailOf(segFlag('s'), { kind: 'user', key: 'y' }, store([], [s]))).toStrictEqual(notInSeg);
    expect(detailOf(segFlag('s'), { kind: 'org', key: 'u1' }, store([], [s]))).toStrictEqual(notInSeg);
  });

  it('matches keys of other kinds in includedContexts', () => {
    const s = segment({ key: 's', includedContexts: [{ contextKind: 'org', values: ['o1'] }] });
    const data = store([], [s]);
    expect(detailOf(segFlag('s'), { kind: 'org', key: 'o1' }, data)).toStrictEqual(inSeg);
    expect(detailOf(segFlag('s'), { kind: 'user', key: 'o1' }, data)).toStrictEqual(notInSeg);
    expect(
      detailOf(segFlag('s'), { kind: 'multi', user: { key: 'u' }, org: { key: 'o1' } }, data),
    ).toStrictEqual(inSeg);
  });

  it('lets included win over excluded', () => {
    const s = segment({ key: 's', included: ['u1'], excluded: ['u1'] });
    expect(detailOf(segFlag('s'), USER, store([], [s]))).toStrictEqual(inSeg);
  });

  it('lets excluded and excludedContexts win over rules', () => {
    const rules = [{ id: 'all', clauses: [] }];
    const byUser = segment({ key: 's', excluded: ['u1'], rules });
    expect(detailOf(segFlag('s'), USER, store([], [byUser]))).toStrictEqual(notInSeg);
    const byOrg = segment({ key: 's', excludedContexts: [{ contextKind: 'org', values: ['o1'] }], rules });
    expect(detailOf(segFlag('s'), { kind: 'org', key: 'o1' }, store([], [byOrg]))).toStrictEqual(notInSeg);
    expect(detailOf(segFlag('s'), { kind: 'org', key: 'o2' }, store([], [byOrg]))).toStrictEqual(inSeg);
  });

  it('matches through segment rules', () => {
    const s = segment({
      key: 's',
      rules: [
        { clauses: [clause('name', 'in', ['Bob'])] },
        { clauses: [clause('name', 'in', ['Ann']), clause('key', 'startsWith', ['u'])] },
      ],
    });
    expect(detailOf(segFlag('s'), USER, store([], [s]))).toStrictEqual(inSeg);
    expect(detailOf(segFlag('s'), { kind: 'user', key: 'u2', name: 'Cy' }, store([], [s]))).toStrictEqual(
      notInSeg,
    );
  });

  it('matches any of the listed segments', () => {
    const a = segment({ key: 'a', included: ['other'] });
    const b = segment({ key: 'b', included: ['u1'] });
    expect(detailOf(segFlag('missing', 'a', 'b'), USER, store([], [a, b]))).toStrictEqual(inSeg);
  });

  it('does not match a missing or deleted segment, without error', () => {
    const deleted = segment({ key: 'gone', included: ['u1'], deleted: true });
    expect(detailOf(segFlag('missing'), USER, store([], [deleted]))).toStrictEqual(notInSeg);
    expect(detailOf(segFlag('gone'), USER, store([], [deleted]))).toStrictEqual(notInSeg);
  });

  it('negates the segment result', () => {
    const s = segment({ key: 's', included: ['u1'] });
    const f = flag({ rules: [ruleWith([{ ...segmentClause('s'), negate: true }], 1, 'seg')] });
    expect(detailOf(f, USER, store([], [s]))).toStrictEqual(notInSeg);
    expect(detailOf(f, { kind: 'user', key: 'u2' }, store([], [s]))).toStrictEqual(inSeg);
    const missing = flag({ rules: [ruleWith([{ ...segmentClause('missing'), negate: true }], 1, 'seg')] });
    expect(detailOf(missing, USER, store())).toStrictEqual(inSeg);
  });

  it('follows nested segments', () => {
    const outer = segment({ key: 'outer', rules: [{ clauses: [segmentClause('inner')] }] });
    const inner = segment({ key: 'inner', included: ['u1'] });
    expect(detailOf(segFlag('outer'), USER, store([], [outer, inner]))).toStrictEqual(inSeg);
    expect(detailOf(segFlag('outer'), { kind: 'user', key: 'u2' }, store([], [outer, inner]))).toStrictEqual(
      notInSeg,
    );
  });

  it('allows the same segment twice in one rule', () => {
    const s = segment({ key: 's', included: ['u1'] });
    const f = flag({ rules: [ruleWith([segmentClause('s'), segmentClause('s')], 1, 'seg')] });
    expect(detailOf(f, USER, store([], [s]))).toStrictEqual(inSeg);
  });

  it('is malformed on a segment cycle', () => {
    const a = segment({ key: 'a', rules: [{ clauses: [segmentClause('b')] }] });
    const b = segment({ key: 'b', rules: [{ clauses: [segmentClause('a')] }] });
    expect(detailOf(segFlag('a'), USER, store([], [a, b]))).toStrictEqual(malformed());
    const self = segment({ key: 'self', rules: [{ clauses: [segmentClause('self')] }] });
    expect(detailOf(segFlag('self'), USER, store([], [self]))).toStrictEqual(malformed());
  });

  it('is malformed on an invalid reference in a segment rule', () => {
    const s = segment({
      key: 's',
      rules: [{ clauses: [clause('//', 'in', ['x'], { contextKind: 'user' })] }],
    });
    expect(detailOf(segFlag('s'), USER, store([], [s]))).toStrictEqual(malformed());
  });

  describe('weighted segment rules', () => {
    const salt = 'segsalt';

    it('includes a context whose bucket is below the weight', () => {
      const b = bucket(`s.${salt}.u1`);
      const below = Math.floor(b * 100_000);
      expect(b < below / 100_000).toBe(false);
      expect(b < (below + 1) / 100_000).toBe(true);
      const at = (weight: number) => segment({ key: 's', salt, rules: [{ clauses: [], weight }] });
      expect(detailOf(segFlag('s'), USER, store([], [at(below + 1)]))).toStrictEqual(inSeg);
      expect(detailOf(segFlag('s'), USER, store([], [at(below)]))).toStrictEqual(notInSeg);
      expect(detailOf(segFlag('s'), USER, store([], [at(100_000)]))).toStrictEqual(inSeg);
      expect(detailOf(segFlag('s'), USER, store([], [at(0)]))).toStrictEqual(notInSeg);
    });

    it('buckets by a literal bucketBy attribute', () => {
      const b = bucket(`s.${salt}.blue`);
      const w = Math.floor(b * 100_000);
      const at = (weight: number) =>
        segment({ key: 's', salt, rules: [{ clauses: [], weight, bucketBy: 'team' }] });
      const context = { ...USER, team: 'blue' };
      expect(detailOf(segFlag('s'), context, store([], [at(w + 1)]))).toStrictEqual(inSeg);
      expect(detailOf(segFlag('s'), context, store([], [at(w)]))).toStrictEqual(notInSeg);
    });

    it('buckets by a reference in the rolloutContextKind context', () => {
      const b = bucket(`s.${salt}.acme-id`);
      const w = Math.floor(b * 100_000);
      const at = (weight: number) =>
        segment({
          key: 's',
          salt,
          rules: [{ clauses: [], weight, bucketBy: '/info/id', rolloutContextKind: 'org' }],
        });
      const context = { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1', info: { id: 'acme-id' } } };
      expect(detailOf(segFlag('s'), context, store([], [at(w + 1)]))).toStrictEqual(inSeg);
      expect(detailOf(segFlag('s'), context, store([], [at(w)]))).toStrictEqual(notInSeg);
    });

    it('buckets by the key of the rolloutContextKind context', () => {
      const b = bucket(`s.${salt}.o1`);
      const w = Math.floor(b * 100_000);
      const at = (weight: number) =>
        segment({ key: 's', salt, rules: [{ clauses: [], weight, rolloutContextKind: 'org' }] });
      const context = { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } };
      expect(detailOf(segFlag('s'), context, store([], [at(w + 1)]))).toStrictEqual(inSeg);
      expect(detailOf(segFlag('s'), context, store([], [at(w)]))).toStrictEqual(notInSeg);
    });

    it('is malformed on an invalid bucketBy reference', () => {
      const s = segment({
        key: 's',
        rules: [{ clauses: [], weight: 50_000, bucketBy: '//', rolloutContextKind: 'user' }],
      });
      expect(detailOf(segFlag('s'), USER, store([], [s]))).toStrictEqual(malformed());
    });
  });
});

describe('big segments', () => {
  const ruleMatch = (status: string): Reason =>
    ({ kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'seg', bigSegmentsStatus: status }) as Reason;
  const fallthrough = (status: string): Reason =>
    ({ kind: 'FALLTHROUGH', bigSegmentsStatus: status }) as Reason;
  const segFlag = (...keys: string[]) => flag({ rules: [ruleWith([segmentClause(...keys)], 1, 'seg')] });
  const big = (overrides: Partial<Segment> = {}) =>
    segment({ key: 'big', unbounded: true, generation: 3, ...overrides });
  const healthy = (membership: Record<string, boolean | null> | undefined) => (): BigSegmentMembership => ({
    membership,
    status: 'HEALTHY',
  });

  it('matches an included context and reports the store status', () => {
    const data = store([], [big()], healthy({ 'big.g3': true }));
    expect(detailOf(segFlag('big'), USER, data)).toStrictEqual(variation(1, ruleMatch('HEALTHY')));
    expect(data.bigSegmentCalls).toEqual(['u1']);
  });

  it('does not match an excluded context, even when a rule would match', () => {
    const s = big({ rules: [{ clauses: [] }] });
    const data = store([], [s], healthy({ 'big.g3': false }));
    expect(detailOf(segFlag('big'), USER, data)).toStrictEqual(variation(0, fallthrough('HEALTHY')));
  });

  it('uses the membership of the current generation only', () => {
    const data = store([], [big()], healthy({ 'big.g2': true, 'big.g4': true }));
    expect(detailOf(segFlag('big'), USER, data)).toStrictEqual(variation(0, fallthrough('HEALTHY')));
  });

  it('falls back to the rules, not the include lists, without membership', () => {
    const withRules = big({ rules: [{ clauses: [clause('name', 'in', ['Ann'])] }] });
    expect(detailOf(segFlag('big'), USER, store([], [withRules], healthy({})))).toStrictEqual(
      variation(1, ruleMatch('HEALTHY')),
    );
    expect(detailOf(segFlag('big'), USER, store([], [withRules], healthy(undefined)))).toStrictEqual(
      variation(1, ruleMatch('HEALTHY')),
    );
    const withLists = big({ included: ['u1'] });
    expect(detailOf(segFlag('big'), USER, store([], [withLists], healthy({})))).toStrictEqual(
      variation(0, fallthrough('HEALTHY')),
    );
  });

  it('reports a STALE store', () => {
    const data = store([], [big()], () => ({ membership: { 'big.g3': true }, status: 'STALE' }));
    expect(detailOf(segFlag('big'), USER, data)).toStrictEqual(variation(1, ruleMatch('STALE')));
  });

  it('reports NOT_CONFIGURED without a big segment lookup, still using the rules', () => {
    expect(detailOf(segFlag('big'), USER, store([], [big()]))).toStrictEqual(
      variation(0, fallthrough('NOT_CONFIGURED')),
    );
    const withRules = big({ rules: [{ clauses: [] }] });
    expect(detailOf(segFlag('big'), USER, store([], [withRules]))).toStrictEqual(
      variation(1, ruleMatch('NOT_CONFIGURED')),
    );
  });

  it('reports NOT_CONFIGURED and does not match without a generation', () => {
    const s = big({ generation: undefined, rules: [{ clauses: [] }] });
    const data = store([], [s], healthy({ 'big.gundefined': true }));
    expect(detailOf(segFlag('big'), USER, data)).toStrictEqual(variation(0, fallthrough('NOT_CONFIGURED')));
    expect(data.bigSegmentCalls).toEqual([]);
  });

  it('looks up the key of unboundedContextKind', () => {
    const s = big({ unboundedContextKind: 'org' });
    const data = store([], [s], (key) => ({ membership: { 'big.g3': key === 'o1' }, status: 'HEALTHY' }));
    const multi = { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } };
    expect(detailOf(segFlag('big'), multi, data)).toStrictEqual(variation(1, ruleMatch('HEALTHY')));
    expect(data.bigSegmentCalls).toEqual(['o1']);
  });

  it('does not match a context without the unbounded kind', () => {
    const s = big({ unboundedContextKind: 'org', rules: [{ clauses: [] }] });
    const data = store([], [s], healthy({ 'big.g3': true }));
    expect(detailOf(segFlag('big'), USER, data).variationIndex).toBe(0);
    expect(data.bigSegmentCalls).toEqual([]);
  });

  it('queries the store once per context key during one evaluation', () => {
    const a = segment({ key: 'a', unbounded: true, generation: 1 });
    const b = segment({ key: 'b', unbounded: true, generation: 1 });
    const c = segment({ key: 'c', unbounded: true, generation: 1 });
    const f = flag({
      rules: [ruleWith([segmentClause('a', 'b')], 1, 'r0'), ruleWith([segmentClause('c')], 2, 'r1')],
    });
    const data = store([], [a, b, c], healthy({ 'c.g1': true }));
    expect(detailOf(f, USER, data)).toStrictEqual(
      variation(2, {
        kind: 'RULE_MATCH',
        ruleIndex: 1,
        ruleId: 'r1',
        bigSegmentsStatus: 'HEALTHY',
      } as Reason),
    );
    expect(data.bigSegmentCalls).toEqual(['u1']);
    // A second evaluation queries again.
    detailOf(f, USER, data);
    expect(data.bigSegmentCalls).toEqual(['u1', 'u1']);
  });

  it('reports the worst status of several lookups', () => {
    const userSeg = segment({ key: 'us', unbounded: true, generation: 1 });
    const orgSeg = segment({ key: 'os', unbounded: true, generation: 1, unboundedContextKind: 'org' });
    const data = store([], [userSeg, orgSeg], (key) => ({
      membership: {},
      status: key === 'o1' ? 'STALE' : 'HEALTHY',
    }));
    const multi = { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } };
    expect(detailOf(segFlag('us', 'os'), multi, data)).toStrictEqual(variation(0, fallthrough('STALE')));
    expect(detailOf(segFlag('os', 'us'), multi, data)).toStrictEqual(variation(0, fallthrough('STALE')));
    const noGeneration = segment({ key: 'ng', unbounded: true });
    const data2 = store([], [userSeg, noGeneration], healthy({}));
    expect(detailOf(segFlag('us', 'ng'), USER, data2)).toStrictEqual(
      variation(0, fallthrough('NOT_CONFIGURED')),
    );
  });

  it('adds no status when no big segment was consulted', () => {
    const data = store([], [big()], healthy({ 'big.g3': true }));
    const f = flag({
      targets: [{ values: ['u1'], variation: 2 }],
      rules: [ruleWith([segmentClause('big')])],
    });
    expect(detailOf(f, USER, data)).toStrictEqual(variation(2, { kind: 'TARGET_MATCH' }));
    expect(data.bigSegmentCalls).toEqual([]);
  });
});

describe('rollouts and bucketing', () => {
  it("reproduces LaunchDarkly's published buckets (sanity check of the test's own hash)", () => {
    expect(bucket('hashKey.saltyA.userKeyA')).toBeCloseTo(0.42157587, 7);
    expect(bucket('hashKey.saltyA.userKeyB')).toBeCloseTo(0.6708485, 7);
    expect(bucket('hashKey.saltyA.userKeyC')).toBeCloseTo(0.10343106, 7);
    expect(bucket('hashKey.saltyA.33333')).toBeCloseTo(0.54771423, 7);
    expect(bucket('61.userKeyA')).toBeCloseTo(0.09801207, 7);
  });

  it.each(['userKeyA', 'userKeyB', 'userKeyC'])('puts %s in the one-unit bucket around its hash', (key) => {
    const weights = narrowAround(bucket(`hashKey.saltyA.${key}`));
    const f = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights) } });
    expect(detailOf(f, { kind: 'user', key })).toStrictEqual(variation(1, FALLTHROUGH));
  });

  it('chooses by cumulative weight at the exact boundary', () => {
    const b = bucket('hashKey.saltyA.userKeyA');
    const w = Math.floor(b * 100_000);
    const below = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout([w, 100_000 - w]) } });
    const above = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout([w + 1, 100_000 - w - 1]) } });
    expect(choose(b, [w, 100_000 - w])).toBe(1);
    expect(choose(b, [w + 1, 100_000 - w - 1])).toBe(0);
    expect(detailOf(below, { kind: 'user', key: 'userKeyA' }).variationIndex).toBe(1);
    expect(detailOf(above, { kind: 'user', key: 'userKeyA' }).variationIndex).toBe(0);
  });

  it('uses an empty salt when the flag has none', () => {
    const weights = narrowAround(bucket('nosalt..u1'));
    const f = flag({ key: 'nosalt', fallthrough: { rollout: rollout(weights) } });
    expect(detailOf(f).variationIndex).toBe(1);
  });

  it('falls back to the last variation when the weights do not cover the bucket', () => {
    const b = bucket('hashKey.saltyA.userKeyB');
    expect(b).toBeGreaterThan(0.2);
    const f = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout([10_000, 10_000, 0]) } });
    expect(detailOf(f, { kind: 'user', key: 'userKeyB' })).toStrictEqual(variation(2, FALLTHROUGH));
  });

  it('uses the seed instead of the flag key and salt', () => {
    const weights = narrowAround(bucket('61.userKeyA'));
    const seeded = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights, { seed: 61 }) } });
    expect(detailOf(seeded, { kind: 'user', key: 'userKeyA' }).variationIndex).toBe(1);
    const unseeded = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights) } });
    expect(detailOf(unseeded, { kind: 'user', key: 'userKeyA' }).variationIndex).toBe(
      choose(bucket('hashKey.saltyA.userKeyA'), weights),
    );
    expect(choose(bucket('hashKey.saltyA.userKeyA'), weights)).not.toBe(1);
  });

  it('treats seed 0 as a seed, different from no seed', () => {
    const seeded = bucket('0.userKeyA');
    const unseeded = bucket('hashKey.saltyA.userKeyA');
    expect(Math.abs(seeded - unseeded)).toBeGreaterThan(0.01);
    const w = Math.floor(((seeded + unseeded) / 2) * 100_000);
    const weights = [w, 100_000 - w];
    const expectSeeded = choose(seeded, weights);
    const expectUnseeded = choose(unseeded, weights);
    expect(expectSeeded).not.toBe(expectUnseeded);
    const withZero = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights, { seed: 0 }) } });
    const without = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights) } });
    const nullSeed = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights, { seed: null }) } });
    const context = { kind: 'user', key: 'userKeyA' };
    expect(detailOf(withZero, context).variationIndex).toBe(expectSeeded);
    expect(detailOf(without, context).variationIndex).toBe(expectUnseeded);
    expect(detailOf(nullSeed, context).variationIndex).toBe(expectUnseeded);
  });

  it('buckets by a custom attribute (literal name without contextKind)', () => {
    const weights = narrowAround(bucket('hashKey.saltyA.blue'));
    const f = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights, { bucketBy: 'team' }) } });
    expect(detailOf(f, { ...USER, team: 'blue' }).variationIndex).toBe(1);
    const slashed = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights, { bucketBy: 'a/b' }) } });
    expect(detailOf(slashed, { ...USER, 'a/b': 'blue' }).variationIndex).toBe(1);
  });

  it('buckets by a reference when the rollout names a context kind', () => {
    const weights = narrowAround(bucket('hashKey.saltyA.blue'));
    const f = flag({
      ...HASH_FLAG,
      fallthrough: { rollout: rollout(weights, { bucketBy: '/team/name', contextKind: 'user' }) },
    });
    expect(detailOf(f, { ...USER, team: { name: 'blue' } }).variationIndex).toBe(1);
  });

  it('buckets integer attributes like their decimal strings', () => {
    for (const [value, text] of [
      [123, '123'],
      [33333, '33333'],
      [-7, '-7'],
    ] as const) {
      const weights = narrowAround(bucket(`hashKey.saltyA.${text}`));
      const f = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights, { bucketBy: 'n' }) } });
      expect(detailOf(f, { ...USER, n: value }).variationIndex, String(value)).toBe(1);
      expect(detailOf(f, { ...USER, n: text }).variationIndex, text).toBe(1);
    }
  });

  it('puts float, boolean, array, object and missing attributes in bucket 0', () => {
    // With a first weight of 1/100000 only bucket values below 0.00001 choose variation 0.
    const f = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout([1, 99_999], { bucketBy: 'n' }) } });
    for (const value of [1.5, true, false, ['a'], { a: 1 }]) {
      expect(detailOf(f, { ...USER, n: value }).variationIndex, JSON.stringify(value)).toBe(0);
    }
    expect(detailOf(f, USER).variationIndex).toBe(0);
    expect(bucket('hashKey.saltyA.1')).toBeGreaterThan(0.00001);
    expect(detailOf(f, { ...USER, n: 1 }).variationIndex).toBe(1);
  });

  it('buckets by the key of the rollout context kind', () => {
    const weights = narrowAround(bucket('hashKey.saltyA.o1'));
    const f = flag({ ...HASH_FLAG, fallthrough: { rollout: rollout(weights, { contextKind: 'org' }) } });
    expect(detailOf(f, { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } }).variationIndex).toBe(1);
    expect(detailOf(f, { kind: 'org', key: 'o1' }).variationIndex).toBe(1);
    // Without that kind the bucket is 0: the first variation, even though it is only one unit wide.
    const first = flag({
      ...HASH_FLAG,
      fallthrough: { rollout: rollout([1, 99_999], { contextKind: 'org' }) },
    });
    expect(detailOf(first, { kind: 'user', key: 'o1' }).variationIndex).toBe(0);
  });

  it('is malformed on an invalid bucketBy reference', () => {
    for (const r of [
      rollout([100_000], { bucketBy: '//', contextKind: 'user' }),
      rollout([100_000], { bucketBy: '/_meta/x', contextKind: 'user' }),
      rollout([100_000], { bucketBy: '' }),
    ]) {
      expect(detailOf(flag({ fallthrough: { rollout: r } })), JSON.stringify(r)).toStrictEqual(malformed());
    }
  });

  it.each([
    ['negative', -1],
    ['too large', 3],
    ['non-integer', 0.5],
  ])('is malformed on a %s variation index', (_label, index) => {
    expect(detailOf(flag({ fallthrough: { variation: index } }))).toStrictEqual(malformed());
    const r: Rollout = { variations: [{ variation: index, weight: 100_000 }] };
    expect(detailOf(flag({ fallthrough: { rollout: r } }))).toStrictEqual(malformed());
    expect(detailOf(flag({ rules: [{ id: 'r', clauses: [], rollout: r }] }))).toStrictEqual(malformed());
    expect(detailOf(flag({ on: false, offVariation: index }))).toStrictEqual(malformed());
  });

  it('is malformed on an empty rollout, an empty fallthrough or a missing one', () => {
    expect(detailOf(flag({ fallthrough: { rollout: { variations: [] } } }))).toStrictEqual(malformed());
    expect(detailOf(flag({ fallthrough: {} }))).toStrictEqual(malformed());
    expect(detailOf(flag({ fallthrough: { variation: null, rollout: null } }))).toStrictEqual(malformed());
    const missing = flag();
    delete (missing as Partial<Flag>).fallthrough;
    expect(detailOf(missing)).toStrictEqual(malformed());
    expect(detailOf(flag({ rules: [{ id: 'r', clauses: [] }] }))).toStrictEqual(malformed());
  });

  it('uses a rollout in a rule', () => {
    const weights = narrowAround(bucket('hashKey.saltyA.userKeyC'));
    const f = flag({ ...HASH_FLAG, rules: [{ id: 'r', clauses: [], rollout: rollout(weights) }] });
    expect(detailOf(f, { kind: 'user', key: 'userKeyC' })).toStrictEqual(
      variation(1, { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'r' }),
    );
  });
});

describe('experiments', () => {
  const IN_EXPERIMENT: Reason = { kind: 'FALLTHROUGH', inExperiment: true };
  const experiment = (weights: number[], extra: Partial<Rollout> = {}) =>
    rollout(weights, { kind: 'experiment', ...extra });

  it('marks a tracked variation as in the experiment', () => {
    const weights = narrowAround(bucket('hashKey.saltyA.userKeyA'));
    const f = flag({ ...HASH_FLAG, fallthrough: { rollout: experiment(weights) } });
    expect(detailOf(f, { kind: 'user', key: 'userKeyA' })).toStrictEqual(variation(1, IN_EXPERIMENT));
  });

  it('marks a rule experiment in the RULE_MATCH reason', () => {
    const weights = narrowAround(bucket('hashKey.saltyA.userKeyA'));
    const f = flag({ ...HASH_FLAG, rules: [{ id: 'r', clauses: [], rollout: experiment(weights) }] });
    expect(detailOf(f, { kind: 'user', key: 'userKeyA' })).toStrictEqual(
      variation(1, { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'r', inExperiment: true }),
    );
  });

  it('does not mark an untracked variation', () => {
    const weights = narrowAround(bucket('hashKey.saltyA.userKeyA'));
    const r = experiment(weights);
    r.variations[1]!.untracked = true;
    const f = flag({ ...HASH_FLAG, fallthrough: { rollout: r } });
    expect(detailOf(f, { kind: 'user', key: 'userKeyA' })).toStrictEqual(variation(1, FALLTHROUGH));
    r.variations[1]!.untracked = false;
    const g = flag({ ...HASH_FLAG, fallthrough: { rollout: { ...r } } });
    expect(detailOf(g, { kind: 'user', key: 'userKeyA' })).toStrictEqual(variation(1, IN_EXPERIMENT));
  });

  it('does not mark a plain rollout', () => {
    const f = flag({ fallthrough: { rollout: rollout([0, 100_000], { kind: 'rollout' }) } });
    expect(detailOf(f)).toStrictEqual(variation(1, FALLTHROUGH));
  });

  it('does not mark a context without the rollout kind', () => {
    const f = flag({ fallthrough: { rollout: experiment([50_000, 50_000], { contextKind: 'org' }) } });
    expect(detailOf(f)).toStrictEqual(variation(0, FALLTHROUGH));
    expect(detailOf(f, { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } }).reason).toStrictEqual(
      IN_EXPERIMENT,
    );
  });

  it('checks the context kind on the last-bucket fallback too', () => {
    // Weights that cover nothing: every context falls through to the last variation.
    const f = flag({ fallthrough: { rollout: experiment([0, 0], { contextKind: 'org' }) } });
    expect(detailOf(f)).toStrictEqual(variation(1, FALLTHROUGH));
    expect(detailOf(f, { kind: 'org', key: 'o1' })).toStrictEqual(variation(1, IN_EXPERIMENT));
  });

  it('always buckets by key, ignoring bucketBy', () => {
    const weights = narrowAround(bucket('hashKey.saltyA.userKeyA'));
    const context = { kind: 'user', key: 'userKeyA', team: 'blue' };
    expect(choose(bucket('hashKey.saltyA.blue'), weights)).not.toBe(1);
    const f = flag({ ...HASH_FLAG, fallthrough: { rollout: experiment(weights, { bucketBy: 'team' }) } });
    expect(detailOf(f, context)).toStrictEqual(variation(1, IN_EXPERIMENT));
    const invalid = flag({
      ...HASH_FLAG,
      fallthrough: { rollout: experiment(weights, { bucketBy: '//', contextKind: 'user' }) },
    });
    expect(detailOf(invalid, context)).toStrictEqual(variation(1, IN_EXPERIMENT));
  });

  it('uses the seed', () => {
    const weights = narrowAround(bucket('61.userKeyB'));
    const f = flag({ ...HASH_FLAG, fallthrough: { rollout: experiment(weights, { seed: 61 }) } });
    expect(detailOf(f, { kind: 'user', key: 'userKeyB' })).toStrictEqual(variation(1, IN_EXPERIMENT));
  });
});

describe('junk flag data', () => {
  const junk: [string, Record<string, unknown>][] = [
    ['rules is a string', { rules: 'x' }],
    ['rules holds null', { rules: [null] }],
    ['clauses is a string', { rules: [{ id: 'r', clauses: 'x', variation: 1 }] }],
    ['clauses holds null', { rules: [{ id: 'r', clauses: [null], variation: 1 }] }],
    ['targets is a number', { targets: 5 }],
    ['targets holds null', { targets: [null] }],
    ['contextTargets is a string', { contextTargets: 'x' }],
    ['prerequisites is a string', { prerequisites: 'x' }],
    ['prerequisites holds null', { prerequisites: [null] }],
    ['fallthrough is a string', { fallthrough: 'x' }],
    ['fallthrough rollout variations is a string', { fallthrough: { rollout: { variations: 'x' } } }],
    ['fallthrough variation is a string', { fallthrough: { variation: '0' } }],
    ['variations is missing', { variations: undefined }],
    ['variations is a string', { variations: 'abc' }],
  ];

  it.each(junk)('never throws and gives an ERROR reason when %s', (_label, overrides) => {
    const f = { ...flag(), ...overrides } as unknown as Flag;
    let result: EvalResult | undefined;
    expect(() => {
      result = run(f);
    }).not.toThrow();
    expect(result?.detail.reason.kind).toBe('ERROR');
    expect(result?.detail.variationIndex).toBeNull();
  });
});

describe('evaluateWithDefault', () => {
  const data = store();
  const errorOf = (errorKind: string) => ({ kind: 'ERROR', errorKind });

  it('returns the default with USER_NOT_SPECIFIED for an invalid context', () => {
    for (const context of [{ kind: 'user', key: '' }, null, { kind: 'multi' }, { name: 'no key' }]) {
      const outcome = evaluateWithDefault(flag(), context, data, 'dflt');
      expect(outcome.detail, JSON.stringify(context)).toEqual({
        value: 'dflt',
        variationIndex: null,
        reason: errorOf('USER_NOT_SPECIFIED'),
      });
      expect(outcome.evaluation).toBeUndefined();
    }
  });

  it('checks the context before the flag', () => {
    expect(evaluateWithDefault(undefined, { kind: 'user', key: '' }, data, 1).detail.reason).toEqual(
      errorOf('USER_NOT_SPECIFIED'),
    );
  });

  it('accepts a ContextError or a Context', () => {
    const error = Context.from({ kind: 'kind', key: 'k' });
    expect(evaluateWithDefault(flag(), error, data, 0).detail.reason).toEqual(errorOf('USER_NOT_SPECIFIED'));
    expect(evaluateWithDefault(flag(), ctx(USER), data, 'd').detail).toEqual(variation(0, FALLTHROUGH));
  });

  it('returns the default with FLAG_NOT_FOUND for an unknown or deleted flag', () => {
    expect(evaluateWithDefault(undefined, USER, data, 'dflt')).toEqual({
      detail: { value: 'dflt', variationIndex: null, reason: errorOf('FLAG_NOT_FOUND') },
      evaluation: undefined,
    });
    expect(evaluateWithDefault(flag({ deleted: true }), USER, data, 'dflt').detail).toEqual({
      value: 'dflt',
      variationIndex: null,
      reason: errorOf('FLAG_NOT_FOUND'),
    });
  });

  it('returns the flag value and the raw evaluation', () => {
    const outcome = evaluateWithDefault(flag({ fallthrough: { variation: 2 } }), USER, data, 'dflt');
    expect(outcome.detail).toEqual(variation(2, FALLTHROUGH));
    expect(outcome.evaluation?.detail).toEqual(variation(2, FALLTHROUGH));
  });

  it('substitutes the default when no variation was chosen, keeping the reason', () => {
    const off = evaluateWithDefault(flag({ on: false }), USER, data, 'dflt');
    expect(off.detail).toEqual({ value: 'dflt', variationIndex: null, reason: { kind: 'OFF' } });
    expect(off.evaluation?.detail.value).toBeNull();
    const bad = evaluateWithDefault(flag({ fallthrough: { variation: 9 } }), USER, data, { d: 1 });
    expect(bad.detail).toEqual({ value: { d: 1 }, variationIndex: null, reason: errorOf('MALFORMED_FLAG') });
    const failed = evaluateWithDefault(flag({ prerequisites: [{ key: 'p', variation: 0 }] }), USER, data, 7);
    expect(failed.detail).toEqual({
      value: 7,
      variationIndex: null,
      reason: { kind: 'PREREQUISITE_FAILED', prerequisiteKey: 'p' },
    });
  });

  it('keeps a null variation value when a variation was chosen', () => {
    const f = flag({ variations: [null, 'x'] });
    expect(evaluateWithDefault(f, USER, data, 'dflt').detail).toEqual({
      value: null,
      variationIndex: 0,
      reason: FALLTHROUGH,
    });
  });

  it('returns WRONG_TYPE with the default when the value type differs', () => {
    const f = flag({ variations: ['text', 3, true, { o: 1 }, null] });
    const at = (i: number) => ({ ...f, fallthrough: { variation: i } });
    const wrong = (value: unknown) => ({ value, variationIndex: null, reason: errorOf('WRONG_TYPE') });
    expect(evaluateWithDefault(at(0), USER, data, false, 'boolean').detail).toEqual(wrong(false));
    expect(evaluateWithDefault(at(0), USER, data, 0, 'number').detail).toEqual(wrong(0));
    expect(evaluateWithDefault(at(1), USER, data, 'd', 'string').detail).toEqual(wrong('d'));
    expect(evaluateWithDefault(at(2), USER, data, 'd', 'string').detail).toEqual(wrong('d'));
    expect(evaluateWithDefault(at(3), USER, data, 'd', 'string').detail).toEqual(wrong('d'));
    expect(evaluateWithDefault(at(4), USER, data, true, 'boolean').detail).toEqual(wrong(true));
    expect(evaluateWithDefault(at(0), USER, data, '', 'string').detail).toEqual({
      value: 'text',
      variationIndex: 0,
      reason: FALLTHROUGH,
    });
    expect(evaluateWithDefault(at(1), USER, data, 0, 'number').detail.value).toBe(3);
    expect(evaluateWithDefault(at(2), USER, data, false, 'boolean').detail.value).toBe(true);
    expect(evaluateWithDefault(at(3), USER, data, null, 'any').detail.value).toEqual({ o: 1 });
  });

  it('does not report WRONG_TYPE when the default is substituted', () => {
    expect(evaluateWithDefault(flag({ on: false }), USER, data, 5, 'string').detail).toEqual({
      value: 5,
      variationIndex: null,
      reason: { kind: 'OFF' },
    });
  });
});

describe('isExperiment', () => {
  it('is true for experiment reasons', () => {
    expect(isExperiment(flag(), { kind: 'FALLTHROUGH', inExperiment: true })).toBe(true);
    expect(isExperiment(flag(), { kind: 'RULE_MATCH', ruleIndex: 0, inExperiment: true })).toBe(true);
  });

  it('is true for a fallthrough of a flag tracking fallthrough events', () => {
    expect(isExperiment(flag({ trackEventsFallthrough: true }), { kind: 'FALLTHROUGH' })).toBe(true);
    expect(isExperiment(flag(), { kind: 'FALLTHROUGH' })).toBe(false);
    expect(isExperiment(flag({ trackEventsFallthrough: true }), { kind: 'TARGET_MATCH' })).toBe(false);
  });

  it('is true for a match of a rule tracking events, and only that rule', () => {
    const f = flag({ rules: [ruleWith([], 1, 'a'), { ...ruleWith([], 2, 'b'), trackEvents: true }] });
    expect(isExperiment(f, { kind: 'RULE_MATCH', ruleIndex: 1, ruleId: 'b' })).toBe(true);
    expect(isExperiment(f, { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'a' })).toBe(false);
    expect(isExperiment(f, { kind: 'RULE_MATCH', ruleIndex: 5 })).toBe(false);
    expect(isExperiment(f, { kind: 'FALLTHROUGH' })).toBe(false);
  });

  it('is false for other reasons, even when the flag tracks events', () => {
    const f = flag({ trackEvents: true, trackEventsFallthrough: true });
    expect(isExperiment(f, { kind: 'OFF' })).toBe(false);
    expect(isExperiment(f, { kind: 'TARGET_MATCH' })).toBe(false);
    expect(isExperiment(f, { kind: 'PREREQUISITE_FAILED', prerequisiteKey: 'p' })).toBe(false);
    expect(isExperiment(f, { kind: 'ERROR', errorKind: 'MALFORMED_FLAG' })).toBe(false);
  });
});
