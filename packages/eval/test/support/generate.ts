/*
 * Random flag/segment/context worlds for the differential test against LaunchDarkly's Node SDK v9
 * (differential.test.ts). Every generated item must be one on which v9 and spec §1-3 agree: where they
 * do not (spec DIVERGENCE items and the v9 quirks listed below), the generator stays away, so that
 * any mismatch the test reports is a real bug on one side.
 *
 * v9 behaviour this generator deliberately avoids (read from js-server-sdk-common 2.x, bundled with
 * node-server-sdk 9.13.7):
 * - `in` with array or object clause values (spec §3.6 DIVERGENCE: v9 compares with `===`), and null
 *   anywhere (v9 lets `[null]` attributes match `in [null]`); values here are non-null scalars.
 * - A clause that errors (bad attribute reference, segment cycle) followed by more clauses: v9 goes
 *   on with the later clauses, and their outcome replaces the error. So a rule has at most one clause
 *   that may error, and it comes last.
 * - Experiments whose context lacks the rollout's kind and reaches the last-bucket fallback (v9 sets
 *   inExperiment without checking hadContext): experiment weights always sum to 100000.
 * - Seed 0: v9 tests the seed for truthiness, so 0 buckets like an absent seed, although spec §3.8
 *   says otherwise. Seed 0 only appears on rollouts whose outcome does not depend on the bucket,
 *   unless `seedZeroBucketing` is set.
 * - Reference components starting with `~` (v9 does not unescape them), `~` followed by `|` or `^`
 *   (v9 accepts those), trailing `/`, empty `bucketBy` (v9 treats it as absent), empty contextKind
 *   strings, a literal (kind-less) clause attribute `_meta`, non-boolean `anonymous` on non-legacy
 *   contexts, a multi-kind member named `multi`, empty keys in segment lists (v9 skips empty keys).
 * - A prerequisite cycle detected before the last prerequisite of a flag: v9 goes on with the later
 *   prerequisites and a failing one replaces the MALFORMED_FLAG (see limitCycleEdges).
 * - Segment rules without a `clauses` property: v9 never matches them, while our engine follows the
 *   SDK test harness (segment-recursion.yml relies on such a rule matching, as Go's evaluator does).
 * - Non-integer variation indexes (v9 serves `variations[1.5]`, i.e. undefined, as a success).
 * - Names that exist on Object.prototype, whitespace in semver strings, lowercase `t`/`z` in dates,
 *   and regular expressions whose meaning differs between engines.
 */
import type {
  Clause,
  Flag,
  FlagRule,
  JsonObject,
  JsonValue,
  Prerequisite,
  Rollout,
  Segment,
  SegmentRule,
  SegmentTarget,
  Target,
  VariationOrRollout,
} from '../../src/index.js';
import type { Random } from './random.js';

// The generator covers every operator the engine knows; the coverage check makes sure each is hit.
export { OPERATORS } from '../../src/model/flag.js';

import { OPERATORS } from '../../src/model/flag.js';

export interface GeneratorOptions {
  flags: number;
  segments: number;
  contexts: number;
  /** Extra flags with one single-clause rule per operator (see operatorProbe). */
  operatorProbes?: number;
  /** Let seed 0 reach bucketing-sensitive rollouts (v9 disagrees with the spec there; see above). */
  seedZeroBucketing?: boolean;
}

export interface World {
  index: number;
  flags: Flag[];
  segments: Segment[];
  /** Context inputs as a caller would pass them: single, multi-kind, legacy users, some invalid. */
  contexts: JsonObject[];
  /** Keys no flag has, evaluated to exercise FLAG_NOT_FOUND. */
  unknownFlagKeys: string[];
}

type Domain = 'string' | 'number' | 'semver' | 'date' | 'bool' | 'kind' | 'key';

const KINDS = ['user', 'org', 'device'] as const;
const KEYS: Record<string, readonly string[]> = {
  user: ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u:7', 'u%8'],
  org: ['o0', 'o1', 'o2', 'o3', 'o4'],
  device: ['d0', 'd1', 'd2', 'd3'],
};
const STRINGS = [
  'alpha',
  'beta',
  'gamma',
  'Alpha',
  'alphabet',
  'al',
  'bet',
  'a.b',
  'x-1',
  '',
  'ümlaut',
  'foo bar',
  '123',
  'true',
  'u1',
];
// Operator-specific clause values that often fit STRINGS, so every string operator gets matches.
const AFFIXES: Record<string, readonly string[]> = {
  startsWith: ['al', 'Al', 'be', 'x-', '', 'ü', 'fo', '1', 'u', 'gam'],
  endsWith: ['a', 'ha', 'bet', 'et', '1', '', 'ar', 'b', 't', 'ue'],
  contains: ['ph', 'a', 'et', ' ', '.', 'ml', 'l', '-', 'mm', '2'],
};
const NUMBERS = [0, 1, 2.5, -3, 10, 42, 99.5, 100, 1000, 123];
const SEMVERS = [
  '2',
  '2.1',
  '2.0.0',
  '2.0.0-rc.1',
  '2.0.0-rc.2',
  '2.0.0-beta',
  '2.0.0-rc.1+build.7',
  '1.2.3',
  '1.2.3+build',
  '1.2.3+build.5',
  '1.10.0',
  '1.9.9',
  '2.1.0',
  '2-rc',
  '2.1-beta.1',
  '0.0.1',
  '10.0.0',
  '1.2.3-alpha.10',
  '1.2.3-alpha.9',
  '1.2.3-alpha.beta',
];
/** Versions drawn more often, equal in pairs after padding or dropping build metadata. */
const COMMON_SEMVERS = ['2', '2.0.0', '2.1', '2.1.0', '1.2.3', '1.2.3+build', '2.0.0-rc.1'];
const BAD_SEMVERS = ['v1.2.3', '02.0.0', '1.2.3.4', 'abc', '1.2.3-01', '', '1..2', '2.'];
// Simple patterns that mean the same in every regex flavour; the bad ones fail to compile in JS.
const REGEXES = ['^al', 'a.b', 'ph', '[0-9]+', 'ta$', '^(alpha|beta)$', 'x-\\d', '^$', 'A', '\\s', 'ü'];
const BAD_REGEXES = ['(', '[a-', '*a', 'a{2,1}', '+'];
const DATE_INSTANTS = [
  946684800000, 1262304000000, 1512543600000, 1577836800000, 1577836800123, 1700000000000, 1893456000000,
];
const DATE_JITTER = [0, 0, 0, 1, -1, 999, -1000, 60_000, -3_600_000, 86_400_000];
/** Zone offsets in minutes; 0 is also written as Z. */
const OFFSETS = [0, 0, 330, -420, 60, -180, 345, -570, 720];
const BAD_DATES = ['2020-01-01', 'not a date', '1512543600000', '2020-01-01 00:00:00Z', ''];

/** Top-level context attributes and the kind of value they usually hold. */
const SLOTS: readonly (readonly [string, Domain])[] = [
  ['name', 'string'],
  ['email', 'string'],
  ['country', 'string'],
  ['plan', 'string'],
  ['age', 'number'],
  ['score', 'number'],
  ['version', 'semver'],
  ['created', 'date'],
  ['beta', 'bool'],
  ['a/b', 'string'],
  ['x~y', 'string'],
];
const LEGACY_BUILT_INS = ['name', 'email', 'country', 'firstName', 'lastName', 'avatar', 'ip'];

// Clause attributes per value domain. With a contextKind they are references (so `/a~1b` names the
// attribute `a/b`); without one they are literal names (so `/name` names a missing attribute).
const REF_ATTRIBUTES: Record<Domain, readonly string[]> = {
  string: [
    'name',
    '/name',
    'email',
    'plan',
    '/plan',
    '/address/city',
    '/a~1b',
    '/x~0y',
    'country',
    'tags',
    '/tags',
    '/address/zip',
    'nickname',
    '/address',
  ],
  number: ['age', '/age', 'score', '/address/geo/lat', 'tags', '/address/zip'],
  semver: ['version', '/version'],
  date: ['created', '/created', 'age'],
  bool: ['beta', '/beta', 'anonymous', '/anonymous'],
  kind: ['kind', '/kind'],
  key: ['key', '/key'],
};
const LITERAL_ATTRIBUTES: Record<Domain, readonly string[]> = {
  string: ['name', 'email', 'plan', 'country', 'a/b', 'x~y', 'tags', '/name', 'nickname', 'firstName'],
  number: ['age', 'score', 'tags'],
  semver: ['version'],
  date: ['created'],
  bool: ['beta', 'anonymous'],
  kind: ['kind'],
  key: ['key'],
};
/** Invalid references (spec §2.4) that v9 rejects too. */
const BAD_REFERENCES = ['/', '//name', '/a~2b', '/name~', '_meta', '/_meta/privateAttributes'];

const OP_DOMAINS: Record<string, readonly Domain[]> = {
  in: ['string', 'number', 'semver', 'date', 'bool', 'kind', 'key'],
  startsWith: ['string', 'key'],
  endsWith: ['string', 'key'],
  contains: ['string', 'key'],
  matches: ['string', 'key'],
  lessThan: ['number'],
  lessThanOrEqual: ['number'],
  greaterThan: ['number'],
  greaterThanOrEqual: ['number'],
  before: ['date'],
  after: ['date'],
  semVerEqual: ['semver'],
  semVerLessThan: ['semver'],
  semVerGreaterThan: ['semver'],
};

// Relative weights of list lengths: [weight, length].
const FLAG_RULE_COUNTS = weights([2, 3, 3, 2, 1]);
const SEGMENT_RULE_COUNTS = weights([2, 4, 3, 1]);
const CLAUSE_COUNTS = weights([0, 6, 3, 1]);
const SEGMENT_CLAUSE_COUNTS = weights([1, 6, 3]);
const VALUE_COUNTS = weights([0, 5, 3, 1]);

/** `[w0, w1, ...]` to weighted choices of the lengths 0, 1, ... */
function weights(byLength: number[]): [number, number][] {
  return byLength.map((weight, length) => [weight, length]);
}

const VARIATION_THEMES: readonly (readonly JsonValue[])[] = [
  [true, false],
  ['red', 'green', 'blue', 'yellow'],
  [0, 1, 2.5, -7],
  [{ a: 1 }, [1, 'two'], { nested: { ok: true } }, 'plain'],
];

/** Builds one world; keys are prefixed with `w<index>.` so that many worlds can share one SDK store. */
export function generateWorld(rng: Random, index: number, options: GeneratorOptions): World {
  return new WorldBuilder(rng, index, options).build();
}

class WorldBuilder {
  private readonly prefix: string;
  private readonly segmentKeys: string[] = [];
  /** Segments whose evaluation may end in MALFORMED_FLAG (bad references, reachable cycles). */
  private readonly riskySegments = new Set<string>();
  private readonly flagVariations: JsonValue[][] = [];

  constructor(
    private readonly rng: Random,
    private readonly index: number,
    private readonly options: GeneratorOptions,
  ) {
    this.prefix = `w${index}.`;
  }

  build(): World {
    const { rng, options } = this;
    for (let i = 0; i < options.segments; i++) this.segmentKeys.push(`${this.prefix}seg${i}`);
    const segmentRefs = new Map<string, string[]>();
    const segmentsWithBadData = new Set<string>();
    const segments = this.segmentKeys.map((key) => this.segment(key, segmentRefs, segmentsWithBadData));
    if (segments.length > 1 && rng.chance(0.5)) this.plantSegmentCycle(segments, segmentRefs);
    this.markRiskySegments(segmentRefs, segmentsWithBadData);

    // Variations are chosen up front, so prerequisites can name a valid index of later flags too.
    for (let i = 0; i < options.flags; i++)
      this.flagVariations.push(rng.pick(VARIATION_THEMES).slice(0, rng.range(2, 4)));
    const flags = this.flagVariations.map((_, i) => this.flag(i));
    if (flags.length > 1 && rng.chance(0.5)) this.plantPrerequisiteCycle(flags);
    limitCycleEdges(flags);
    for (let p = 0; p < (options.operatorProbes ?? 0); p++) flags.push(this.operatorProbe(p));
    const contexts = Array.from({ length: options.contexts }, () => this.context());
    return { index: this.index, flags, segments, contexts, unknownFlagKeys: [`${this.prefix}no-such-flag`] };
  }

  // ---------------------------------------------------------------------------------------------
  // Flags

  private flag(i: number): Flag {
    const { rng } = this;
    const variations = this.flagVariations[i]!;
    const n = variations.length;
    const flag: Flag = {
      key: this.flagKey(i),
      version: 1,
      on: rng.chance(0.85),
      variations,
      fallthrough: { variation: 0 },
    };
    const salt = rng.weighted<string | undefined>([
      [6, `salt${rng.int(100)}`],
      [1, ''],
      [3, undefined],
    ]);
    if (salt !== undefined) flag.salt = salt;
    if (rng.chance(0.55)) flag.offVariation = this.variationIndex(n);

    if (rng.chance(0.3)) {
      const prerequisites: Prerequisite[] = [];
      for (let p = rng.range(1, 2); p > 0; p--) prerequisites.push(this.prerequisite(i));
      flag.prerequisites = prerequisites;
    }
    this.addTargets(flag, n);

    const ruleCount = rng.weighted(FLAG_RULE_COUNTS);
    if (ruleCount > 0 || rng.chance(0.5)) {
      flag.rules = Array.from({ length: ruleCount }, (_, r) => this.flagRule(r, n));
    }

    const fallthrough = rng.weighted<'ok' | 'empty' | 'absent'>([
      [97, 'ok'],
      [2, 'empty'],
      [1, 'absent'],
    ]);
    if (fallthrough === 'ok') flag.fallthrough = this.variationOrRollout(n);
    else if (fallthrough === 'empty') flag.fallthrough = {};
    else delete (flag as Partial<Flag>).fallthrough;
    return flag;
  }

  /**
   * A flag with one single-clause rule per operator, in random order: random flags match most
   * operators rarely (several clauses, earlier rules, targets), and this keeps every operator's
   * matches numerous enough for the coverage check.
   */
  private operatorProbe(p: number): Flag {
    const { rng } = this;
    const ops = rng.sample(
      OPERATORS.filter((o) => o !== 'segmentMatch'),
      OPERATORS.length,
    );
    const rules: FlagRule[] = ops.map((op, r) => ({
      id: `probe${r}`,
      clauses: [this.clause(op)],
      variation: 1,
    }));
    const segmentClause = this.safeSegmentClause();
    if (segmentClause) {
      rules.splice(rng.int(rules.length + 1), 0, {
        id: 'probe-segment',
        clauses: [segmentClause],
        variation: 1,
      });
    }
    return {
      key: `${this.prefix}probe${p}`,
      version: 1,
      on: true,
      variations: ['probe-off', 'probe-match', 'probe-fallthrough'],
      rules,
      fallthrough: { variation: 2 },
    };
  }

  private flagKey(i: number): string {
    return `${this.prefix}flag${i}`;
  }

  /** Mostly chains to earlier flags; sometimes any flag (cycles, self) or a missing one. */
  private prerequisite(i: number): Prerequisite {
    const { rng } = this;
    const target = rng.weighted<'earlier' | 'any' | 'missing'>([
      [7, i > 0 ? 'earlier' : 'any'],
      [1.5, 'any'],
      [1.5, 'missing'],
    ]);
    if (target === 'missing') {
      return { key: `${this.prefix}missing-flag${rng.int(3)}`, variation: rng.int(2) };
    }
    const j = target === 'earlier' ? rng.int(i) : rng.int(this.flagVariations.length);
    return { key: this.flagKey(j), variation: rng.int(this.flagVariations[j]!.length) };
  }

  /** A short cycle (a flag requiring itself, or two requiring each other) among flags that are on. */
  private plantPrerequisiteCycle(flags: Flag[]): void {
    const { rng } = this;
    const a = rng.int(flags.length);
    const b = rng.chance(0.3) ? a : rng.int(flags.length);
    for (const [from, to] of cyclePairs(a, b)) {
      const flag = flags[from]!;
      const target = flags[to]!;
      flag.on = true;
      flag.prerequisites = [
        ...(flag.prerequisites ?? []),
        { key: target.key, variation: rng.int(target.variations.length) },
      ];
    }
  }

  private addTargets(flag: Flag, n: number): void {
    const { rng } = this;
    let targets: Target[] | undefined;
    if (rng.chance(0.3)) {
      targets = Array.from({ length: rng.range(1, 2) }, () => ({
        values: rng.sample(KEYS.user!, rng.range(1, 4)),
        variation: this.variationIndex(n),
      }));
      flag.targets = targets;
    }
    if (!rng.chance(0.3)) return;
    const contextTargets: Target[] = [];
    for (const kind of rng.sample(['org', 'device', 'user'], rng.range(1, 2))) {
      contextTargets.push({
        contextKind: kind,
        values: rng.sample(KEYS[kind]!, rng.range(1, 3)),
        variation: this.variationIndex(n),
      });
    }
    // User entries in contextTargets only say where the `targets` entry with that variation is tested.
    for (const target of targets ?? []) {
      if (!rng.chance(0.75)) continue;
      const placeholder: Target = { values: [], variation: target.variation };
      if (rng.chance(0.6)) placeholder.contextKind = 'user';
      contextTargets.push(placeholder);
    }
    if (rng.chance(0.1)) contextTargets.push({ contextKind: 'user', values: [], variation: rng.int(n) });
    flag.contextTargets = shuffle(rng, contextTargets);
  }

  private flagRule(r: number, n: number): FlagRule {
    const { rng } = this;
    const rule: FlagRule = {};
    if (rng.chance(0.92)) rule.id = `rule${r}-${rng.int(1000)}`;
    const shape = rng.weighted<'absent' | 'empty' | 'clauses'>([
      [3, 'absent'],
      [4, 'empty'],
      [93, 'clauses'],
    ]);
    if (shape === 'empty') rule.clauses = [];
    if (shape === 'clauses') {
      const clauses = Array.from(
        { length: rng.weighted(CLAUSE_COUNTS) },
        () => (rng.chance(0.15) ? this.safeSegmentClause() : undefined) ?? this.clause(),
      );
      if (rng.chance(0.12)) clauses.push(this.riskyFlagClause());
      rule.clauses = clauses;
    }
    Object.assign(rule, this.variationOrRollout(n));
    if (rng.chance(0.1)) rule.trackEvents = true;
    return rule;
  }

  /** Mostly in range; sometimes one past either end (MALFORMED_FLAG when chosen). */
  private variationIndex(n: number): number {
    const { rng } = this;
    if (rng.chance(0.97)) return rng.int(n);
    return rng.chance(0.5) ? n : -1;
  }

  private variationOrRollout(n: number): VariationOrRollout {
    const { rng } = this;
    const shape = rng.weighted<'variation' | 'rollout' | 'experiment' | 'neither' | 'noVariations'>([
      [55, 'variation'],
      [25, 'rollout'],
      [16, 'experiment'],
      [2, 'neither'],
      [2, 'noVariations'],
    ]);
    switch (shape) {
      case 'variation':
        return { variation: this.variationIndex(n) };
      case 'rollout':
        return { rollout: this.rollout(n, false) };
      case 'experiment':
        return { rollout: this.rollout(n, true) };
      case 'neither':
        return {};
      case 'noVariations':
        return { rollout: { variations: [] } };
    }
  }

  private rollout(n: number, experiment: boolean): Rollout {
    const { rng } = this;
    const parts = rng.range(1, 3);
    const seedShape = rng.weighted<'none' | 'random' | 'zero'>([
      [45, 'none'],
      [40, 'random'],
      [15, 'zero'],
    ]);
    // Seed 0 without the opt-in: put all weight on one variation, so the bucket cannot matter.
    const degenerate = seedShape === 'zero' && !this.options.seedZeroBucketing;
    let weights: number[];
    if (degenerate) {
      const full = rng.int(parts);
      weights = Array.from({ length: parts }, (_, k) => (k === full ? 100_000 : 0));
    } else {
      // Non-experiments sometimes fall short of 100% and so reach the last-variation fallback.
      const total = !experiment && rng.chance(0.15) ? rng.int(100_000) : 100_000;
      weights = partition(rng, total, parts);
    }
    const rollout: Rollout = {
      variations: weights.map((weight) => {
        const wv: Rollout['variations'][number] = { variation: this.variationIndex(n), weight };
        if (experiment) {
          const untracked = rng.weighted<boolean | undefined>([
            [3, true],
            [2, false],
            [5, undefined],
          ]);
          if (untracked !== undefined) wv.untracked = untracked;
        }
        return wv;
      }),
    };
    if (experiment) rollout.kind = 'experiment';
    else if (rng.chance(0.5)) rollout.kind = 'rollout';
    if (rng.chance(0.5)) rollout.contextKind = rng.pick(KINDS);
    if (rng.chance(0.4)) rollout.bucketBy = this.bucketBy(rollout.contextKind !== undefined);
    if (seedShape === 'random') rollout.seed = rng.range(-1000, 1_000_000);
    else if (seedShape === 'zero') rollout.seed = 0;
    return rollout;
  }

  /** A bucketBy attribute: a reference when a kind is named (rarely an invalid one), else a literal. */
  private bucketBy(withKind: boolean): string {
    const { rng } = this;
    if (withKind) {
      if (rng.chance(0.06)) return rng.pick(BAD_REFERENCES);
      return rng.pick([
        'name',
        '/name',
        'age',
        'score',
        '/address/city',
        '/address/zip',
        'key',
        'tags',
        'beta',
      ]);
    }
    return rng.pick(['name', 'email', 'age', 'a/b', 'score', 'key', '/name', 'nickname']);
  }

  // ---------------------------------------------------------------------------------------------
  // Clauses

  /** A clause that can never make the evaluation fail. */
  private clause(forcedOp?: string): Clause {
    const { rng } = this;
    const op =
      forcedOp ??
      rng.weighted<string>([
        ...OPERATORS.filter((o) => o !== 'segmentMatch').map((o) => [o === 'in' ? 3 : 1, o] as const),
        [0.2, 'unknownOperator'],
      ]);
    // Mostly an attribute of the operator's value domain; sometimes any attribute (type mismatches).
    const domains = OP_DOMAINS[op] ?? ['string'];
    const domain = rng.chance(0.8) ? rng.pick(domains) : rng.pick(Object.keys(REF_ATTRIBUTES) as Domain[]);
    const clause: Clause = { attribute: '', op, values: [] };
    if (rng.chance(0.7)) {
      clause.contextKind = rng.weighted([
        [3, 'user'],
        [1, 'org'],
        [1, 'device'],
      ]);
      clause.attribute = rng.pick(REF_ATTRIBUTES[domain]);
    } else {
      clause.attribute = rng.pick(LITERAL_ATTRIBUTES[domain]);
    }
    const keyKind = clause.contextKind ?? 'user';
    clause.values = Array.from({ length: rng.weighted(VALUE_COUNTS) }, () =>
      this.clauseValue(op, domain, keyKind),
    );
    this.maybeNegate(clause);
    return clause;
  }

  private maybeNegate(clause: Clause): void {
    const r = this.rng.next();
    if (r < 0.25) clause.negate = true;
    else if (r < 0.5) clause.negate = false;
  }

  private clauseValue(op: string, domain: Domain, keyKind: string): JsonValue {
    const { rng } = this;
    if (domain === 'key') {
      if (op === 'in') return rng.pick(KEYS[keyKind] ?? KEYS.user!);
      if (op === 'matches') return rng.pick(['^u', '[0-9]$', ':', '^o1$', '%']);
      return rng.pick(['u', 'o', 'd', '1', ':', 'u1', '']);
    }
    switch (op) {
      case 'startsWith':
      case 'endsWith':
      case 'contains':
        return rng.chance(0.9) ? rng.pick(rng.chance(0.6) ? AFFIXES[op]! : STRINGS) : rng.pick(NUMBERS);
      case 'matches':
        return rng.weighted<JsonValue>([
          [80, rng.pick(REGEXES)],
          [15, rng.pick(BAD_REGEXES)],
          [5, rng.pick(NUMBERS)],
        ]);
      case 'lessThan':
      case 'lessThanOrEqual':
      case 'greaterThan':
      case 'greaterThanOrEqual':
        return rng.chance(0.9) ? rng.pick(NUMBERS) : rng.pick(['10', '2.5', 'true']);
      case 'before':
      case 'after':
        return this.dateValue(0.04);
      case 'semVerEqual':
        // Equality needs the same version on both sides, so draw mostly from the common ones.
        return rng.chance(0.6)
          ? rng.pick(COMMON_SEMVERS)
          : rng.chance(0.9)
            ? this.semverValue()
            : rng.pick(NUMBERS);
      case 'semVerLessThan':
      case 'semVerGreaterThan':
        return rng.chance(0.9) ? this.semverValue() : rng.pick(NUMBERS);
      default:
        // `in` and unknown operators: non-null scalars only (see the DIVERGENCE note at the top).
        return rng.chance(0.85) ? this.domainValue(domain) : this.mismatchedScalar();
    }
  }

  /** A segmentMatch clause over segments that cannot fail, or undefined when there are none. */
  private safeSegmentClause(): Clause | undefined {
    const safe = this.segmentKeys.filter((k) => !this.riskySegments.has(k));
    if (safe.length === 0) return undefined;
    const values: string[] = this.rng.sample(safe, this.rng.range(1, 2));
    if (this.rng.chance(0.15)) values.push(`${this.prefix}missing-segment`);
    return this.segmentClause(values);
  }

  private segmentClause(values: string[]): Clause {
    const clause: Clause = { attribute: '', op: 'segmentMatch', values: shuffle(this.rng, values) };
    if (this.rng.chance(0.3)) delete clause.attribute;
    this.maybeNegate(clause);
    return clause;
  }

  /** The one clause of a flag rule that may fail: a bad reference or a segmentMatch over any segment. */
  private riskyFlagClause(): Clause {
    if (this.rng.chance(0.5) && this.segmentKeys.length > 0) {
      return this.segmentClause(this.rng.sample(this.segmentKeys, this.rng.range(1, 2)));
    }
    return this.badReferenceClause();
  }

  private badReferenceClause(): Clause {
    const clause = this.clause();
    if (this.rng.chance(0.8)) {
      clause.contextKind ??= 'user';
      clause.attribute = this.rng.pick(BAD_REFERENCES);
    } else {
      // Without a contextKind only the empty name is invalid (it is a literal).
      delete clause.contextKind;
      if (this.rng.chance(0.5)) clause.attribute = '';
      else delete clause.attribute;
    }
    return clause;
  }

  // ---------------------------------------------------------------------------------------------
  // Segments

  private segment(key: string, refs: Map<string, string[]>, withBadData: Set<string>): Segment {
    const { rng } = this;
    const segment: Segment = { key, version: 1 };
    if (rng.chance(0.7)) segment.salt = `ssalt${rng.int(100)}`;
    if (rng.chance(0.35)) segment.included = rng.sample(KEYS.user!, rng.range(1, 3));
    if (rng.chance(0.3)) segment.excluded = rng.sample(KEYS.user!, rng.range(1, 3));
    if (rng.chance(0.3)) segment.includedContexts = this.segmentTargets();
    if (rng.chance(0.25)) segment.excludedContexts = this.segmentTargets();
    const ruleCount = rng.weighted(SEGMENT_RULE_COUNTS);
    if (ruleCount > 0 || rng.chance(0.5)) {
      segment.rules = Array.from({ length: ruleCount }, () => this.segmentRule(key, refs, withBadData));
    }
    return segment;
  }

  private segmentTargets(): SegmentTarget[] {
    return this.rng.sample(KINDS, this.rng.range(1, 2)).map((kind) => ({
      contextKind: kind,
      values: this.rng.sample(KEYS[kind]!, this.rng.range(1, 3)),
    }));
  }

  private segmentRule(key: string, refs: Map<string, string[]>, withBadData: Set<string>): SegmentRule {
    const { rng } = this;
    const clauses = Array.from({ length: rng.weighted(SEGMENT_CLAUSE_COUNTS) }, () => this.clause());
    // At most one clause that may fail, placed last (see the note at the top).
    const risky = rng.weighted<'none' | 'segment' | 'badReference'>([
      [72, 'none'],
      [25, 'segment'],
      [3, 'badReference'],
    ]);
    if (risky === 'segment') {
      const targets = rng.sample(this.segmentKeys, rng.range(1, 2));
      if (rng.chance(0.1)) targets.push(`${this.prefix}missing-segment`);
      refs.set(key, [...(refs.get(key) ?? []), ...targets]);
      clauses.push(this.segmentClause(targets));
    } else if (risky === 'badReference') {
      withBadData.add(key);
      clauses.push(this.badReferenceClause());
    }
    const rule: SegmentRule = { id: `srule${rng.int(1000)}`, clauses };
    if (rng.chance(0.4)) {
      rule.weight = rng.chance(0.2) ? rng.pick([0, 100_000]) : rng.int(100_001);
      if (rng.chance(0.4)) rule.rolloutContextKind = rng.pick(KINDS);
      if (rng.chance(0.4)) {
        rule.bucketBy = this.bucketBy(rule.rolloutContextKind !== undefined);
        if (BAD_REFERENCES.includes(rule.bucketBy) && rule.rolloutContextKind !== undefined) {
          withBadData.add(key);
        }
      }
    }
    return rule;
  }

  /** A segment requiring itself, or two requiring each other, through a final catch-all rule. */
  private plantSegmentCycle(segments: Segment[], refs: Map<string, string[]>): void {
    const { rng } = this;
    const a = rng.int(segments.length);
    const b = rng.chance(0.3) ? a : rng.int(segments.length);
    for (const [from, to] of cyclePairs(a, b)) {
      const segment = segments[from]!;
      const target = segments[to]!.key;
      const rule: SegmentRule = { id: `cycle${rng.int(1000)}`, clauses: [this.segmentClause([target])] };
      segment.rules = [...(segment.rules ?? []), rule];
      refs.set(segment.key, [...(refs.get(segment.key) ?? []), target]);
    }
  }

  /** A segment is risky when a reachable segment (itself included) has bad data or lies on a cycle. */
  private markRiskySegments(refs: Map<string, string[]>, withBadData: Set<string>): void {
    const reachable = (from: string): Set<string> => {
      const seen = new Set<string>();
      const stack = [...(refs.get(from) ?? [])];
      while (stack.length > 0) {
        const key = stack.pop()!;
        if (seen.has(key) || !this.segmentKeys.includes(key)) continue;
        seen.add(key);
        stack.push(...(refs.get(key) ?? []));
      }
      return seen;
    };
    for (const key of this.segmentKeys) {
      const closure = reachable(key);
      const nodes = [key, ...closure];
      if (nodes.some((k) => withBadData.has(k) || reachable(k).has(k))) this.riskySegments.add(key);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Contexts

  private context(): JsonObject {
    const { rng } = this;
    const shape = rng.weighted<'single' | 'multi' | 'legacy' | 'invalid'>([
      [45, 'single'],
      [25, 'multi'],
      [25, 'legacy'],
      [5, 'invalid'],
    ]);
    switch (shape) {
      case 'single': {
        const kind = rng.weighted<string>([
          [3, 'user'],
          [1, 'org'],
          [1, 'device'],
        ]);
        return { kind, ...this.member(kind) };
      }
      case 'multi': {
        // Occasionally a single member: valid, and treated as that single-kind context.
        const kinds = rng.chance(0.05) ? [rng.pick(KINDS)] : rng.sample(KINDS, rng.range(2, 3));
        const context: JsonObject = { kind: 'multi' };
        for (const kind of kinds) context[kind] = this.member(kind);
        return context;
      }
      case 'legacy':
        return this.legacyUser();
      case 'invalid':
        return structuredClone(
          rng.pick<JsonObject>([
            { kind: 'user', key: '' },
            { kind: 'user' },
            { kind: 'org', key: 5 },
            { kind: 'bad kind', key: 'x' },
            { kind: 'kind', key: 'x' },
            { kind: 'ümlaut', key: 'x' },
            { kind: 'multi' },
            { kind: 'multi', user: 'not an object' },
            { kind: 'multi', user: { key: '' }, org: { key: 'o1' } },
            { kind: 'multi', user: { key: 'u1' }, org: { name: 'no key' } },
            { name: 'legacy user without a key' },
          ]),
        );
    }
  }

  /** The attributes of one kind (without `kind`, which the caller adds where it belongs). */
  private member(kind: string): JsonObject {
    const { rng } = this;
    const member: JsonObject = { key: rng.pick(KEYS[kind]!) };
    for (const [name, domain] of SLOTS) if (rng.chance(0.5)) member[name] = this.attributeValue(domain);
    if (rng.chance(0.4)) member.tags = this.tagsValue();
    if (rng.chance(0.4)) member.address = this.addressValue();
    if (rng.chance(0.3)) member.anonymous = rng.chance(0.5);
    if (rng.chance(0.1)) {
      member._meta = { privateAttributes: rng.sample(['email', '/address/city', 'name'], 2) };
    }
    return member;
  }

  private legacyUser(): JsonObject {
    const { rng } = this;
    const key = rng.weighted<JsonValue>([
      [88, rng.pick(KEYS.user!)],
      [7, ''],
      [5, rng.pick([7, 123])],
    ]);
    const user: JsonObject = { key };
    for (const name of LEGACY_BUILT_INS) {
      if (rng.chance(0.4)) user[name] = rng.chance(0.9) ? rng.pick(STRINGS) : this.mismatchedScalar();
    }
    if (rng.chance(0.3)) user.anonymous = rng.chance(0.9) ? rng.chance(0.5) : rng.pick([0, 1]);
    if (rng.chance(0.7)) {
      const custom: JsonObject = {};
      for (const [name, domain] of SLOTS) {
        // Built-ins normally live at the top level; a custom one fills in only when that is unset.
        if (LEGACY_BUILT_INS.includes(name) && (user[name] !== undefined || !rng.chance(0.2))) continue;
        if (rng.chance(0.5)) custom[name] = this.attributeValue(domain);
      }
      if (rng.chance(0.4)) custom.tags = this.tagsValue();
      if (rng.chance(0.4)) custom.address = this.addressValue();
      user.custom = custom;
    }
    // Not a built-in and not in `custom`: legacy conversion drops it, so clauses never see it.
    if (rng.chance(0.2)) user.plan = 'ignored';
    if (rng.chance(0.1)) user.privateAttributeNames = ['email'];
    return user;
  }

  // ---------------------------------------------------------------------------------------------
  // Values

  private attributeValue(domain: Domain): JsonValue {
    const { rng } = this;
    const r = rng.next();
    if (r < 0.75) return this.domainValue(domain);
    if (r < 0.88) return this.mismatchedScalar();
    return Array.from({ length: rng.int(4) }, () =>
      rng.chance(0.85) ? this.domainValue(domain) : this.mismatchedScalar(),
    );
  }

  private domainValue(domain: Domain): JsonValue {
    const { rng } = this;
    switch (domain) {
      case 'string':
        return rng.pick(STRINGS);
      case 'number':
        return rng.pick(NUMBERS);
      case 'semver':
        return this.semverValue();
      case 'date':
        return this.dateValue(0.1);
      case 'bool':
        return rng.chance(0.5);
      case 'kind':
        return rng.pick([...KINDS, 'other']);
      case 'key':
        return rng.pick(KEYS[rng.pick(KINDS)]!);
    }
  }

  /** A scalar of some random type: '123' vs 123, 'true' vs true and so on. */
  private mismatchedScalar(): JsonValue {
    const { rng } = this;
    return rng.weighted<() => JsonValue>([
      [3, () => rng.pick(STRINGS)],
      [3, () => rng.pick(NUMBERS)],
      [2, () => rng.chance(0.5)],
      [1, () => this.semverValue()],
      [1, () => this.dateValue(0)],
    ])();
  }

  private semverValue(): string {
    const { rng } = this;
    return rng.pick(
      rng.weighted([
        [45, COMMON_SEMVERS],
        [40, SEMVERS],
        [15, BAD_SEMVERS],
      ]),
    );
  }

  /** Epoch milliseconds or an RFC 3339 string (Z or ±hh:mm, optional 3-digit fraction). */
  private dateValue(badRate: number): JsonValue {
    const { rng } = this;
    if (rng.chance(badRate)) return rng.pick(BAD_DATES);
    const instant = rng.pick(DATE_INSTANTS) + rng.pick(DATE_JITTER);
    if (rng.chance(0.35)) return instant;
    const offset = rng.pick(OFFSETS);
    return formatDate(instant, offset, rng.chance(0.5), offset === 0 && rng.chance(0.7));
  }

  private tagsValue(): JsonValue {
    const { rng } = this;
    if (rng.chance(0.15)) return rng.pick(STRINGS);
    return Array.from({ length: rng.int(5) }, () =>
      rng.weighted<() => JsonValue>([
        [6, () => rng.pick(STRINGS)],
        [3, () => rng.pick(NUMBERS)],
        [1, () => [rng.pick(STRINGS)]],
      ])(),
    );
  }

  private addressValue(): JsonValue {
    const { rng } = this;
    if (rng.chance(0.15)) return 'somewhere';
    const address: JsonObject = {};
    if (rng.chance(0.7)) address.city = this.attributeValue('string');
    if (rng.chance(0.5)) address.zip = rng.pick(['80301', 80301, 'A1', 42]);
    if (rng.chance(0.5)) address.geo = rng.chance(0.8) ? { lat: this.attributeValue('number') } : 12.5;
    return address;
  }
}

/**
 * v9 keeps checking a flag's later prerequisites after it detects a cycle, and a later failure then
 * replaces the MALFORMED_FLAG. So every flag keeps at most one prerequisite that can lead back to
 * itself (one inside its strongly connected component), and that one goes last. Dropping edges only
 * shrinks components, so the kept edges still satisfy this afterwards.
 */
function limitCycleEdges(flags: Flag[]): void {
  const byKey = new Map(flags.map((f) => [f.key, f]));
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const key = stack.pop()!;
      for (const p of byKey.get(key)?.prerequisites ?? []) {
        if (p.key === to) return true;
        if (!seen.has(p.key)) {
          seen.add(p.key);
          stack.push(p.key);
        }
      }
    }
    return false;
  };
  for (const flag of flags) {
    const prerequisites = flag.prerequisites;
    if (!prerequisites) continue;
    const cyclic = prerequisites.filter((p) => reaches(p.key, flag.key));
    if (cyclic.length === 0) continue;
    flag.prerequisites = [...prerequisites.filter((p) => !cyclic.includes(p)), cyclic[0]!];
  }
}

/** The edges of a one- or two-flag (or segment) cycle between indexes `a` and `b`. */
function cyclePairs(a: number, b: number): [number, number][] {
  return a === b
    ? [[a, a]]
    : [
        [a, b],
        [b, a],
      ];
}

/** Splits `total` into `parts` non-negative integers, in random proportions. */
function partition(rng: Random, total: number, parts: number): number[] {
  const cuts = Array.from({ length: parts - 1 }, () => rng.int(total + 1)).sort((a, b) => a - b);
  const out: number[] = [];
  let previous = 0;
  for (const cut of cuts) {
    out.push(cut - previous);
    previous = cut;
  }
  out.push(total - previous);
  return out;
}

function shuffle<T>(rng: Random, items: T[]): T[] {
  return rng.sample(items, items.length);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** RFC 3339 with an uppercase T, the given zone offset, and optionally milliseconds. */
export function formatDate(epochMs: number, offsetMinutes: number, fraction: boolean, zulu: boolean): string {
  const local = new Date(epochMs + offsetMinutes * 60_000);
  const date = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  const millis = fraction ? `.${pad(local.getUTCMilliseconds(), 3)}` : '';
  let zone = 'Z';
  if (!zulu) {
    const abs = Math.abs(offsetMinutes);
    zone = `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }
  return `${date}T${time}${millis}${zone}`;
}

/**
 * The flags and segments an evaluation of `flagKey` can reach (prerequisites and segmentMatch,
 * transitively), for reproducing a mismatch from its report.
 */
export function dependencies(world: World, flagKey: string): { flags: Flag[]; segments: Segment[] } {
  const flagsByKey = new Map(world.flags.map((f) => [f.key, f]));
  const segmentsByKey = new Map(world.segments.map((s) => [s.key, s]));
  const flags = new Map<string, Flag>();
  const segments = new Map<string, Segment>();
  const visitClauses = (clauses: readonly Clause[] | undefined): void => {
    for (const clause of clauses ?? []) {
      if (clause.op !== 'segmentMatch') continue;
      for (const value of clause.values) {
        const segment = typeof value === 'string' ? segmentsByKey.get(value) : undefined;
        if (!segment || segments.has(segment.key)) continue;
        segments.set(segment.key, segment);
        for (const rule of segment.rules ?? []) visitClauses(rule.clauses);
      }
    }
  };
  const visitFlag = (key: string): void => {
    const flag = flagsByKey.get(key);
    if (!flag || flags.has(key)) return;
    flags.set(key, flag);
    for (const rule of flag.rules ?? []) visitClauses(rule.clauses);
    for (const prerequisite of flag.prerequisites ?? []) visitFlag(prerequisite.key);
  };
  visitFlag(flagKey);
  flags.delete(flagKey);
  return { flags: [...flags.values()], segments: [...segments.values()] };
}

/** Whether `flagKey` can reach a prerequisite cycle, and whether it can reach a segment cycle. */
export function cycles(world: World, flagKey: string): { prerequisite: boolean; segment: boolean } {
  const flagsByKey = new Map(world.flags.map((f) => [f.key, f]));
  const segmentsByKey = new Map(world.segments.map((s) => [s.key, s]));
  const onCycle = (start: string, next: (key: string) => string[]): boolean => {
    const seen = new Set<string>();
    const stack = next(start);
    while (stack.length > 0) {
      const key = stack.pop()!;
      if (key === start) return true;
      if (seen.has(key)) continue;
      seen.add(key);
      stack.push(...next(key));
    }
    return false;
  };
  const prerequisitesOf = (key: string): string[] =>
    (flagsByKey.get(key)?.prerequisites ?? []).map((p) => p.key);
  const segmentRefs = (clauses: readonly Clause[] | undefined): string[] =>
    (clauses ?? [])
      .filter((c) => c.op === 'segmentMatch')
      .flatMap((c) => c.values.filter((v): v is string => typeof v === 'string' && segmentsByKey.has(v)));
  const segmentsOf = (key: string): string[] =>
    (segmentsByKey.get(key)?.rules ?? []).flatMap((rule) => segmentRefs(rule.clauses));
  const deps = dependencies(world, flagKey);
  const reachableFlags = [flagKey, ...deps.flags.map((f) => f.key)];
  return {
    prerequisite: reachableFlags.some((key) => onCycle(key, prerequisitesOf)),
    segment: deps.segments.some((s) => onCycle(s.key, segmentsOf)),
  };
}
