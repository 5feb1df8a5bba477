// The targeting and segment editors' model (pure; runs in Node): what a draft saves, every problem it
// reports, and that what it builds is a flag the evaluator accepts and evaluates as intended.
import { Context, evaluate, validateFlag } from '@flagstaff/eval';
import { describe, expect, it } from 'vitest';
import type { Segment, TargetingDoc } from '../src/api/types.js';
import {
  buildClause,
  buildServe,
  buildTargeting,
  composeFlag,
  EDITED_FIELDS,
  evenPercents,
  newRule,
  newServe,
  type Problem,
  percentToWeight,
  replaceOps,
  toDraft,
} from '../src/targeting/draft.js';
import { OPERATOR_INFO } from '../src/targeting/operators.js';
import { evaluateFor, parseContext } from '../src/targeting/preview.js';
import { buildSegment, SEGMENT_FIELDS, segmentDoc, segmentToDraft } from '../src/targeting/segmentDraft.js';

const bool = [{ value: true }, { value: false }];
const base: TargetingDoc = {
  version: 4,
  on: true,
  prerequisites: [{ key: 'checkout-enabled', variation: 0 }],
  targets: [{ values: ['vip-1', 'vip-2'], variation: 0 }],
  contextTargets: [],
  rules: [
    {
      id: 'example-staff',
      clauses: [{ contextKind: 'user', attribute: 'email', op: 'endsWith', values: ['@example.com'] }],
      variation: 0,
    },
    {
      id: 'versions',
      clauses: [
        {
          contextKind: 'device',
          attribute: 'appVersion',
          op: 'semVerGreaterThan',
          values: ['2.0.0'],
          negate: true,
        },
        { contextKind: 'user', attribute: 'plan', op: 'in', values: ['42', 'gold'] },
      ],
      rollout: {
        variations: [
          { variation: 0, weight: 25_000 },
          { variation: 1, weight: 75_000 },
        ],
        bucketBy: 'org',
      },
    },
  ],
  fallthrough: {
    rollout: {
      variations: [
        { variation: 0, weight: 33_334 },
        { variation: 1, weight: 66_666 },
      ],
    },
  },
  offVariation: 1,
  salt: 'abc',
  trackEvents: false,
  trackEventsFallthrough: false,
  debugEventsUntilDate: null,
};

describe('targeting draft', () => {
  it('round-trips a document untouched: an unedited draft saves nothing', () => {
    const { doc, problems } = buildTargeting(toDraft(base, 2), base, 2);
    expect(problems).toEqual([]);
    expect(replaceOps(base, doc, EDITED_FIELDS)).toEqual([]);
    // Text values that read like numbers stay text.
    expect(toDraft(base, 2).rules[1]!.clauses[1]!.inMode).toBe('text');
  });

  it('saves only the parts edited, as JSON Patch replace operations', () => {
    const draft = toDraft(base, 2);
    draft.on = false;
    draft.rules.push({
      ...newRule(2),
      clauses: [{ ...newRule(2).clauses[0]!, attribute: 'country', values: 'NO\nSE' }],
    });
    const { doc, problems } = buildTargeting(draft, base, 2);
    expect(problems).toEqual([]);
    const ops = replaceOps(base, doc, EDITED_FIELDS);
    expect(ops.map((o) => o.path)).toEqual(['/on', '/rules']);
    expect(doc.rules[2]).toEqual({
      clauses: [{ contextKind: 'user', attribute: 'country', op: 'in', values: ['NO', 'SE'] }],
      variation: 0,
    });
  });

  it('builds flags the evaluator accepts in strict mode, for every operator', () => {
    const values: Record<string, string> = {
      any: 'a\n3\ntrue',
      string: 'abc',
      number: '1.5\n-2',
      date: '1700000000000\n2025-01-31T00:00:00Z',
      semver: '1.2.3',
      regex: '^a.*z$',
      segment: 'beta-testers',
    };
    const draft = toDraft({ ...base, prerequisites: [] }, 2);
    draft.rules = OPERATOR_INFO.map((info) => ({
      ...newRule(2),
      clauses: [
        {
          contextKind: 'user',
          attribute: 'attr',
          op: info.op,
          negate: false,
          values: values[info.kind]!,
          inMode: 'typed' as const,
        },
      ],
    }));
    const { doc, problems } = buildTargeting(draft, base, 2);
    expect(problems).toEqual([]);
    const result = validateFlag(composeFlag('f', bool, doc), { mode: 'strict' });
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(doc.rules[0]!.clauses[0]!.values).toEqual(['a', 3, true]);
    expect(doc.rules.find((r) => r.clauses[0]!.op === 'segmentMatch')!.clauses[0]).toEqual({
      contextKind: 'user',
      attribute: 'segmentMatch',
      op: 'segmentMatch',
      values: ['beta-testers'],
    });
  });

  it('reports each bad clause value at its place, with the line', () => {
    const problems: Problem[] = [];
    const clause = (op: string, values: string) => ({
      contextKind: 'user',
      attribute: 'a',
      op,
      negate: false,
      values,
      inMode: 'typed' as const,
    });
    buildClause(clause('lessThan', '3\nlots'), '/rules/0/clauses/0', problems);
    buildClause(clause('before', 'yesterday'), '/rules/0/clauses/1', problems);
    buildClause(clause('semVerEqual', 'v1'), '/rules/0/clauses/2', problems);
    buildClause(clause('matches', '(unclosed'), '/rules/0/clauses/3', problems);
    buildClause(clause('in', ' \n '), '/rules/0/clauses/4', problems);
    buildClause({ ...clause('in', 'x'), attribute: '' }, '/rules/0/clauses/5', problems);
    expect(problems).toEqual([
      { path: '/rules/0/clauses/0/values', message: 'line 2: "lots" is not a number' },
      {
        path: '/rules/0/clauses/1/values',
        message: 'line 1: "yesterday" is neither epoch milliseconds nor an RFC 3339 date-time',
      },
      { path: '/rules/0/clauses/2/values', message: 'line 1: "v1" is not a semantic version' },
      { path: '/rules/0/clauses/3/values', message: 'line 1: "(unclosed" is not a valid regular expression' },
      { path: '/rules/0/clauses/4/values', message: 'give at least one value' },
      { path: '/rules/0/clauses/5/attribute', message: 'name the attribute to compare, e.g. key or email' },
    ]);
  });

  it('requires rollout percentages that add up to exactly 100, with at most three decimals', () => {
    expect(evenPercents(3)).toEqual(['33.334', '33.333', '33.333']);
    expect(percentToWeight('12.345')).toBe(12_345);
    expect(percentToWeight('12.3456')).toBeUndefined();
    expect(percentToWeight('100.5')).toBeUndefined();
    expect(percentToWeight('-1')).toBeUndefined();
    const problems: Problem[] = [];
    buildServe({ ...newServe(2), mode: 'rollout', percents: ['30', '60'] }, 2, '/fallthrough', problems);
    buildServe({ ...newServe(2), mode: 'rollout', percents: ['30', 'half'] }, 2, '/rules/1', problems);
    expect(problems).toEqual([
      { path: '/fallthrough/rollout', message: 'the percentages add up to 90%, not 100%' },
      {
        path: '/rules/1/rollout/1',
        message: '"half" is not a percentage between 0 and 100 with at most three decimals',
      },
    ]);
    const ok = buildServe(
      { ...newServe(2), mode: 'rollout', percents: ['30', '70'], bucketBy: 'org' },
      2,
      '/x',
      [],
    );
    expect(ok).toEqual({
      rollout: {
        variations: [
          { variation: 0, weight: 30_000 },
          { variation: 1, weight: 70_000 },
        ],
        bucketBy: 'org',
      },
    });
  });

  it('keeps user targets working once other kinds are targeted (user placeholders), and refuses a key served twice', () => {
    const draft = toDraft(base, 2);
    draft.targets.push({ contextKind: 'org', variation: 1, values: 'acme' });
    const { doc, problems } = buildTargeting(draft, base, 2);
    expect(problems).toEqual([]);
    expect(doc.targets).toEqual([{ values: ['vip-1', 'vip-2'], variation: 0 }]);
    expect(doc.contextTargets).toEqual([
      { contextKind: 'user', values: [], variation: 0 },
      { contextKind: 'org', values: ['acme'], variation: 1 },
    ]);
    const flag = composeFlag('f', bool, { ...doc, prerequisites: [] });
    const ctx = (input: object) => Context.from(input) as Context;
    const data = { getFlag: () => undefined, getSegment: () => undefined };
    expect(evaluate(flag, ctx({ kind: 'user', key: 'vip-2' }), data).detail.reason).toEqual({
      kind: 'TARGET_MATCH',
    });
    expect(evaluate(flag, ctx({ kind: 'org', key: 'acme' }), data).detail.value).toBe(false);
    // Round trip keeps the order and the kinds.
    expect(toDraft(doc, 2).targets.map((t) => t.contextKind)).toEqual(['user', 'org']);

    draft.targets.push({ contextKind: 'user', variation: 1, values: 'vip-1' });
    expect(buildTargeting(draft, base, 2).problems).toEqual([
      { path: '/targets/2/values', message: 'user "vip-1" is already targeted with another variation' },
    ]);
  });

  it('names missing choices: a prerequisite without a flag, a duplicate one, an empty rule', () => {
    const draft = toDraft(base, 2);
    draft.prerequisites.push({ key: '', variation: 0 }, { key: 'checkout-enabled', variation: 1 });
    draft.rules[0]!.clauses = [];
    expect(buildTargeting(draft, base, 2).problems).toEqual([
      { path: '/prerequisites/1/key', message: 'choose a flag' },
      { path: '/prerequisites/2/key', message: '"checkout-enabled" is already a prerequisite' },
      { path: '/rules/0/clauses', message: 'a rule needs at least one condition' },
    ]);
  });
});

describe('preview', () => {
  it('evaluates a typed context with prerequisites and segments, and explains a bad context', () => {
    const doc = buildTargeting(toDraft(base, 2), base, 2).doc;
    const flag = composeFlag('beta', bool, doc);
    const prerequisite = composeFlag('checkout-enabled', bool, {
      ...base,
      prerequisites: [],
      rules: [],
      targets: [],
      on: false,
      fallthrough: { variation: 0 },
    });
    const flags = new Map([['checkout-enabled', prerequisite]]);
    const ann = parseContext('{"kind": "user", "key": "u1", "email": "ann@example.com"}');
    if (!ann.ok) throw new Error(ann.message);
    expect(evaluateFor(flag, ann.context, flags, new Map()).reason).toEqual({
      kind: 'PREREQUISITE_FAILED',
      prerequisiteKey: 'checkout-enabled',
    });
    flags.set('checkout-enabled', { ...prerequisite, on: true });
    expect(evaluateFor(flag, ann.context, flags, new Map())).toEqual({
      value: true,
      variationIndex: 0,
      reason: { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'example-staff' },
    });
    expect(parseContext('{"kind": "user"')).toMatchObject({
      ok: false,
      message: expect.stringContaining('Not valid JSON'),
    });
    expect(parseContext('[1]')).toMatchObject({ ok: false });
    expect(parseContext('{"kind": "user", "key": ""}')).toMatchObject({
      ok: false,
      message: expect.stringContaining('Not a valid context'),
    });
  });
});

describe('segment draft', () => {
  const segment: Segment = {
    projectKey: 'p',
    envKey: 'e',
    key: 'beta',
    version: 3,
    salt: 's',
    archived: false,
    createdAt: 0,
    updatedAt: 0,
    name: 'Beta',
    description: '',
    tags: ['a'],
    included: ['u1'],
    excluded: [],
    includedContexts: [{ contextKind: 'org', values: ['acme'] }],
    excludedContexts: [],
    rules: [
      {
        id: 'r',
        clauses: [{ contextKind: 'user', attribute: 'email', op: 'endsWith', values: ['@x.com'] }],
        weight: 12_500,
        bucketBy: 'org',
      },
    ],
  };

  it('round-trips untouched and reports problems at their fields', () => {
    const draft = segmentToDraft(segment);
    expect(draft.rules[0]!.percent).toBe('12.5');
    const built = buildSegment(draft);
    expect(built.problems).toEqual([]);
    expect(replaceOps(segmentDoc(segment), built.doc, SEGMENT_FIELDS)).toEqual([]);
    const bad = buildSegment({
      ...draft,
      name: ' ',
      excluded: 'u1',
      rules: [{ ...draft.rules[0]!, percent: '200' }],
    });
    expect(bad.problems).toEqual([
      { path: '/name', message: 'give the segment a name' },
      { path: '/excluded', message: '"u1" is both included and excluded (exclusion wins)' },
      {
        path: '/rules/0/weight',
        message: '"200" is not a percentage between 0 and 100 with at most three decimals',
      },
    ]);
  });
});
