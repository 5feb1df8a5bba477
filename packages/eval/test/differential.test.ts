// Differential test: random worlds of flags, segments and contexts are evaluated by our engine and by
// LaunchDarkly's official Node SDK v9 (the oracle); value, variation index and reason must agree for
// every flag x context. The generator (support/generate.ts) stays inside the cases where v9 and the
// spec agree, so any mismatch is a bug on one side. Replay a run with FLAGSTAFF_DIFF_SEED=<seed>.
import { isDeepStrictEqual } from 'node:util';
import { init, integrations, type LDContext, type LDEvaluationDetail } from '@launchdarkly/node-server-sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Context,
  type EvaluationData,
  type EvaluationDetail,
  evaluateWithDefault,
  type Flag,
  type JsonValue,
  type VariationOrRollout,
} from '../src/index.js';
import { cycles, dependencies, generateWorld, OPERATORS, type World } from './support/generate.js';
import { Random } from './support/random.js';

const CASES = positiveInteger(process.env.FLAGSTAFF_DIFF_CASES, 20_000);
const SEED = seedFromEnvironment(process.env.FLAGSTAFF_DIFF_SEED);
/** Opt-in: let seed 0 decide buckets, where v9 9.13.7 and spec §3.8 disagree (see generate.ts). */
const SEED_ZERO_BUCKETING = process.env.FLAGSTAFF_DIFF_SEED_ZERO === '1';
const WORLD_SIZE = { flags: 22, operatorProbes: 2, segments: 6, contexts: 30 };
const MAX_REPORTED = 5;
/** Below this many cases a run is too small for every coverage category to be hit reliably. */
const COVERAGE_MINIMUM_CASES = 10_000;
const DEFAULT_VALUES: JsonValue[] = ['default', 0, false, { fallback: true }];

const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };

interface Outcome {
  cases: number;
  mismatches: number;
  reports: string[];
  coverage: Map<string, number>;
  millis: number;
}

interface Comparable {
  value: unknown;
  variationIndex: number | null;
  reason: Record<string, unknown>;
}

let outcome: Outcome;

describe('differential test against @launchdarkly/node-server-sdk v9', () => {
  beforeAll(
    async () => {
      outcome = await run();
    },
    Math.max(120_000, CASES * 10),
  );

  it(`agrees with v9 on value, variation index and reason (at least ${CASES} cases)`, () => {
    expect(outcome.cases).toBeGreaterThanOrEqual(CASES);
    if (outcome.mismatches > 0) {
      throw new Error(
        `${outcome.mismatches} of ${outcome.cases} evaluations differ from v9 (seed ${SEED}; replay with ` +
          `FLAGSTAFF_DIFF_SEED=${SEED} FLAGSTAFF_DIFF_CASES=${CASES}). First ${outcome.reports.length}:\n\n` +
          outcome.reports.join('\n\n'),
      );
    }
  });

  it.skipIf(CASES < COVERAGE_MINIMUM_CASES)('covers every reason, error kind, operator and feature', () => {
    const missing = expectedCategories().filter((name) => !outcome.coverage.get(name));
    expect(missing, `coverage categories with zero hits (seed ${SEED})`).toEqual([]);
  });
});

async function run(): Promise<Outcome> {
  const started = Date.now();
  console.log(`differential test: seed ${SEED}, ${CASES} cases (FLAGSTAFF_DIFF_SEED=${SEED} to replay)`);
  const rng = new Random(SEED);
  const worlds: World[] = [];
  let planned = 0;
  while (planned < CASES) {
    const world = generateWorld(rng, worlds.length, {
      ...WORLD_SIZE,
      seedZeroBucketing: SEED_ZERO_BUCKETING,
    });
    assertNullFree(world);
    worlds.push(world);
    planned += world.contexts.length * (world.flags.length + world.unknownFlagKeys.length);
  }

  // Keys carry a per-world prefix, so every world can live in one SDK store.
  const td = new integrations.TestData();
  for (const world of worlds) {
    for (const flag of world.flags) await td.usePreconfiguredFlag(flag);
    for (const segment of world.segments) await td.usePreconfiguredSegment(segment);
  }
  const client = init('sdk-key', {
    updateProcessor: td.getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silentLogger,
  });
  const result: Outcome = { cases: 0, mismatches: 0, reports: [], coverage: new Map(), millis: 0 };
  try {
    await client.waitForInitialization({ timeout: 10 });
    for (const world of worlds) {
      await runWorld(world, rng, result, (key, context, defaultValue) =>
        client.variationDetail(key, context, defaultValue),
      );
    }
  } finally {
    client.close();
  }
  result.millis = Date.now() - started;
  console.log(
    `differential test: ${result.cases} cases in ${worlds.length} worlds, ${result.mismatches} mismatches, ` +
      `${result.millis} ms\n${formatCoverage(result.coverage)}`,
  );
  return result;
}

type Oracle = (key: string, context: LDContext, defaultValue: JsonValue) => Promise<LDEvaluationDetail>;

async function runWorld(world: World, rng: Random, result: Outcome, oracle: Oracle): Promise<void> {
  const flags = new Map(world.flags.map((f) => [f.key, f]));
  const segments = new Map(world.segments.map((s) => [s.key, s]));
  const data: EvaluationData = { getFlag: (key) => flags.get(key), getSegment: (key) => segments.get(key) };
  const keys = [...world.flags.map((f) => f.key), ...world.unknownFlagKeys];

  const pending: Promise<void>[] = [];
  for (const input of world.contexts) {
    const context = Context.from(input);
    // The SDK gets its own copy, so neither side can see what the other might do to the object.
    const sdkContext = structuredClone(input) as unknown as LDContext;
    for (const key of keys) {
      const defaultValue = rng.pick(DEFAULT_VALUES);
      const flag = flags.get(key);
      const ours = evaluateWithDefault(flag, context, data, defaultValue).detail;
      pending.push(
        oracle(key, sdkContext, defaultValue).then((theirs) => {
          result.cases++;
          const a = comparable(ours);
          const b = comparable(theirs);
          countCoverage(result.coverage, world, flag, input, ours);
          if (isDeepStrictEqual(a, b)) return;
          result.mismatches++;
          if (result.reports.length < MAX_REPORTED) {
            result.reports.push(report(result.reports.length + 1, world, key, input, defaultValue, a, b));
          }
        }),
      );
    }
  }
  await Promise.all(pending);
}

/** Normalizes a detail for comparison: undefined index is null, undefined reason properties dropped. */
function comparable(detail: EvaluationDetail | LDEvaluationDetail): Comparable {
  const reason: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(detail.reason ?? {}))
    if (value !== undefined) reason[name] = value;
  return { value: detail.value, variationIndex: detail.variationIndex ?? null, reason };
}

function report(
  n: number,
  world: World,
  key: string,
  context: unknown,
  defaultValue: JsonValue,
  ours: Comparable,
  theirs: Comparable,
): string {
  const flag = world.flags.find((f) => f.key === key);
  const deps = dependencies(world, key);
  return [
    `#${n} seed ${SEED}, world ${world.index}, flag ${key}`,
    `flag: ${flag ? JSON.stringify(flag) : '(not in the store)'}`,
    `prerequisite flags: ${JSON.stringify(deps.flags)}`,
    `segments: ${JSON.stringify(deps.segments)}`,
    `context: ${JSON.stringify(context)}`,
    `default: ${JSON.stringify(defaultValue)}`,
    `ours: ${JSON.stringify(ours)}`,
    `v9:   ${JSON.stringify(theirs)}`,
  ].join('\n');
}

// -------------------------------------------------------------------------------------------------
// Coverage: how many cases reached each outcome and feature, so the generator cannot quietly drift
// into testing nothing.

function expectedCategories(): string[] {
  return [
    'reason OFF',
    'reason FALLTHROUGH',
    'reason TARGET_MATCH',
    'reason RULE_MATCH',
    'reason PREREQUISITE_FAILED',
    'error MALFORMED_FLAG',
    'error USER_NOT_SPECIFIED',
    'error FLAG_NOT_FOUND',
    'off without offVariation',
    'prerequisites met',
    'MALFORMED_FLAG, prerequisite cycle reachable',
    'MALFORMED_FLAG, segment cycle reachable',
    'target via targets',
    'target via contextTargets',
    'inExperiment FALLTHROUGH',
    'inExperiment RULE_MATCH',
    'experiment not inExperiment',
    'rollout served',
    'rollout with seed',
    'rollout with seed 0',
    'rollout with bucketBy',
    'rollout with contextKind',
    'negated clause in matched rule',
    'context single-kind',
    'context multi-kind',
    'context legacy user',
    'matches with invalid regex evaluated',
    ...OPERATORS.map((op) => `op ${op} in matched rule`),
  ];
}

function hit(coverage: Map<string, number>, name: string): void {
  coverage.set(name, (coverage.get(name) ?? 0) + 1);
}

function countCoverage(
  coverage: Map<string, number>,
  world: World,
  flag: Flag | undefined,
  input: Record<string, unknown>,
  detail: EvaluationDetail,
): void {
  const reason = detail.reason;
  hit(coverage, reason.kind === 'ERROR' ? `error ${reason.errorKind}` : `reason ${reason.kind}`);
  if (!flag || (reason.kind === 'ERROR' && reason.errorKind === 'USER_NOT_SPECIFIED')) return;

  hit(
    coverage,
    `context ${input.kind === undefined ? 'legacy user' : input.kind === 'multi' ? 'multi-kind' : 'single-kind'}`,
  );
  if (reason.kind === 'OFF' && detail.variationIndex === null) hit(coverage, 'off without offVariation');
  if (
    flag.prerequisites?.length &&
    flag.on &&
    reason.kind !== 'PREREQUISITE_FAILED' &&
    reason.kind !== 'ERROR'
  ) {
    hit(coverage, 'prerequisites met');
  }
  if (reason.kind === 'ERROR' && reason.errorKind === 'MALFORMED_FLAG') {
    const found = cycles(world, flag.key);
    if (found.prerequisite) hit(coverage, 'MALFORMED_FLAG, prerequisite cycle reachable');
    if (found.segment) hit(coverage, 'MALFORMED_FLAG, segment cycle reachable');
  }
  if (reason.kind === 'TARGET_MATCH') {
    hit(coverage, flag.contextTargets?.length ? 'target via contextTargets' : 'target via targets');
  }
  if (flag.on && hasInvalidRegex(flag)) hit(coverage, 'matches with invalid regex evaluated');

  let served: VariationOrRollout | undefined;
  if (reason.kind === 'FALLTHROUGH') served = flag.fallthrough;
  if (reason.kind === 'RULE_MATCH') {
    const rule = flag.rules?.[reason.ruleIndex];
    served = rule;
    for (const clause of rule?.clauses ?? []) {
      if (clause.negate) hit(coverage, 'negated clause in matched rule');
      else hit(coverage, `op ${clause.op} in matched rule`);
    }
  }
  if ((reason.kind === 'FALLTHROUGH' || reason.kind === 'RULE_MATCH') && reason.inExperiment) {
    hit(coverage, `inExperiment ${reason.kind}`);
  }
  const rollout = served?.rollout;
  if (rollout && (served?.variation === undefined || served.variation === null)) {
    hit(coverage, 'rollout served');
    const experiment = rollout.kind === 'experiment';
    if (experiment && !('inExperiment' in reason)) hit(coverage, 'experiment not inExperiment');
    if (rollout.seed === 0) hit(coverage, 'rollout with seed 0');
    else if (rollout.seed !== undefined) hit(coverage, 'rollout with seed');
    if (rollout.bucketBy !== undefined && !experiment) hit(coverage, 'rollout with bucketBy');
    if (rollout.contextKind !== undefined) hit(coverage, 'rollout with contextKind');
  }
}

function hasInvalidRegex(flag: Flag): boolean {
  return (flag.rules ?? []).some((rule) =>
    (rule.clauses ?? []).some(
      (clause) => clause.op === 'matches' && clause.values.some((v) => typeof v === 'string' && !compiles(v)),
    ),
  );
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function formatCoverage(coverage: Map<string, number>): string {
  const names = [...new Set([...expectedCategories(), ...coverage.keys()])].sort();
  return names.map((name) => `  ${name.padEnd(44)} ${coverage.get(name) ?? 0}`).join('\n');
}

function seedFromEnvironment(text: string | undefined): number {
  if (text === undefined || text === '') return Random.freshSeed();
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`FLAGSTAFF_DIFF_SEED must be an integer in [0, 2^32), got ${JSON.stringify(text)}`);
  }
  return seed;
}

/**
 * v9 deletes null properties from flags and segments on ingest (except inside `variations`), and a
 * property set to undefined would vanish in its JSON copy: either would make both sides see
 * different data, so the generator must produce neither.
 */
function assertNullFree(world: World): void {
  const visit = (value: unknown, path: string): void => {
    if (value === null || value === undefined) throw new Error(`generator produced ${value} at ${path}`);
    if (typeof value !== 'object') return;
    for (const [name, child] of Object.entries(value)) visit(child, `${path}/${name}`);
  };
  for (const flag of world.flags) visit(flag, flag.key);
  for (const segment of world.segments) visit(segment, segment.key);
  for (const [i, context] of world.contexts.entries()) visit(context, `context ${i}`);
}

function positiveInteger(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}
