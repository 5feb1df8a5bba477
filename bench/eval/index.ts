/**
 * Time per evaluation, ours against the official Node server SDK, on the same flag JSON and contexts.
 * Ours is timed twice: with `Context.from` in the timed path (the SDK converts the caller's context on
 * every call, so this is the like-for-like row) and with contexts parsed once (the evaluator alone).
 */
import { deepStrictEqual } from 'node:assert/strict';
import {
  type BucketHasher,
  Context,
  ContextError,
  type EvaluateOptions,
  type EvaluationData,
  type EvaluationDetail,
  evaluate,
  type Flag,
  type JsonObject,
  type Segment,
} from '@flagstaff/eval';
import {
  init,
  integrations,
  type LDClient,
  type LDContext,
  type LDLogger,
} from '@launchdarkly/node-server-sdk';
import { cryptoBucket } from '../lib/cryptoSha1.js';
import { type ComparisonRow, comparisonTable, formatNs, markdownTable } from '../lib/table.js';
import { type Measurement, measure, type TimingOptions } from '../lib/timing.js';
import { type Scenario, scenarios, segment } from './scenarios.js';

export const description = 'time per flag evaluation: @flagstaff/eval vs @launchdarkly/node-server-sdk';

const silent: LDLogger = { error() {}, warn() {}, info() {}, debug() {} };

/** The bucketing hash as the official SDK computes it, for the evaluator's `hasher` option. */
const cryptoHasher: BucketHasher = cryptoBucket;

function parse(json: JsonObject): Context {
  const context = Context.from(json);
  if (context instanceof ContextError) throw new Error(`benchmark context is invalid: ${context.message}`);
  return context;
}

/** The official client, fed the same JSON through TestData and kept offline. */
async function officialClient(flags: Flag[], segments: Segment[]): Promise<LDClient> {
  const td = new integrations.TestData();
  for (const s of segments) await td.usePreconfiguredSegment(s);
  for (const f of flags) await td.usePreconfiguredFlag(f);
  const client = init('sdk-key-unused', {
    updateProcessor: td.getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silent,
  });
  await client.waitForInitialization({ timeout: 10 });
  return client;
}

/** Drops properties whose value is undefined, which the two engines are free to include or omit. */
function normalize(detail: unknown): unknown {
  return JSON.parse(JSON.stringify(detail));
}

/**
 * Evaluates every context of the scenario with both engines and fails unless they return the same
 * detail and it is the path the scenario claims to exercise. Returns a one-line summary.
 */
async function verify(
  scenario: Scenario,
  data: EvaluationData,
  client: LDClient,
  options?: EvaluateOptions,
): Promise<string> {
  const counts = new Map<number | null, number>();
  let first: EvaluationDetail | undefined;
  for (const json of scenario.contexts) {
    const ours = evaluate(scenario.flag, parse(json), data, options).detail;
    const official = await client.variationDetail(scenario.flag.key, json as LDContext, 'default');
    deepStrictEqual(
      normalize(official),
      normalize(ours),
      `${scenario.name}: engines disagree for context ${JSON.stringify(json)}`,
    );
    const { expect } = scenario;
    const reason = ours.reason as { kind: string; ruleIndex?: number };
    if (reason.kind !== expect.reasonKind || reason.ruleIndex !== expect.ruleIndex) {
      throw new Error(`${scenario.name}: expected ${JSON.stringify(expect)}, got ${JSON.stringify(ours)}`);
    }
    counts.set(ours.variationIndex, (counts.get(ours.variationIndex) ?? 0) + 1);
    first ??= ours;
  }
  for (const variation of scenario.expect.variations ?? []) {
    if (!counts.has(variation)) throw new Error(`${scenario.name}: no context got variation ${variation}`);
  }
  const split = [...counts].map(([variation, n]) => `variation ${variation} × ${n}`).join(', ');
  const n = scenario.contexts.length;
  return `- ${scenario.name}: ${scenario.description}.\n  Identical for all ${n} contexts (${split}); first: \`${JSON.stringify(normalize(first))}\``;
}

export async function run(options: TimingOptions): Promise<void> {
  const flags = new Map(scenarios.map((s) => [s.flag.key, s.flag]));
  const segments = new Map([[segment.key, segment]]);
  const data: EvaluationData = { getFlag: (key) => flags.get(key), getSegment: (key) => segments.get(key) };
  const client = await officialClient([...flags.values()], [...segments.values()]);
  try {
    console.log('Both engines return the same detail (checked for every context before timing):\n');
    for (const scenario of scenarios) console.log(await verify(scenario, data, client));

    const rows: ComparisonRow[] = [];
    const evaluateOnly: ComparisonRow[] = [];
    for (const { name, flag, contexts } of scenarios) {
      const parsed = contexts.map(parse);
      const n = contexts.length;
      const [ours, oursEvaluateOnly, official] = (await measure(
        [
          { name: 'ours', op: (i) => evaluate(flag, parse(contexts[i % n]!), data).detail },
          { name: 'ours, evaluate only', op: (i) => evaluate(flag, parsed[i % n]!, data).detail },
          {
            name: 'official',
            op: (i) => client.variationDetail(flag.key, contexts[i % n] as LDContext, 'default'),
            async: true,
          },
        ],
        options,
      )) as [Measurement, Measurement, Measurement];
      rows.push({ name, ours, official });
      evaluateOnly.push({ name: `${name}, evaluate only`, ours: oursEvaluateOnly, official });
    }
    console.log('\nours = Context.from(json) + evaluate(); official = await client.variationDetail():\n');
    console.log(comparisonTable(rows));
    console.log('\nours, evaluate only = evaluate() on a context parsed once (same official samples):\n');
    console.log(comparisonTable(evaluateOnly));

    // The evaluator with the hash the official SDK uses plugged in: what changing the default would do.
    const hasherRows: ComparisonRow[] = [];
    const withCrypto: EvaluateOptions = { hasher: cryptoHasher };
    for (const scenario of scenarios.filter((s) => s.buckets)) {
      await verify(scenario, data, client, withCrypto);
      const { name, flag, contexts } = scenario;
      const n = contexts.length;
      const [pure, crypto] = (await measure(
        [
          { name: 'pure SHA-1', op: (i) => evaluate(flag, parse(contexts[i % n]!), data).detail },
          {
            name: 'node:crypto',
            op: (i) => evaluate(flag, parse(contexts[i % n]!), data, withCrypto).detail,
          },
        ],
        options,
      )) as [Measurement, Measurement];
      hasherRows.push({ name, ours: pure, official: crypto });
    }
    console.log(
      '\nours with the default pure SHA-1 hasher vs ours with a node:crypto hasher (same details):\n',
    );
    console.log(comparisonTable(hasherRows, { ours: 'pure SHA-1', official: 'node:crypto' }));

    // What the loop itself costs, so readers can see how much of the official time is the await alone.
    const [empty, awaited] = (await measure(
      [
        { name: 'empty synchronous call', op: (i) => i },
        { name: 'awaited call of an empty async function', op: async (i) => i, async: true },
      ],
      options,
    )) as [Measurement, Measurement];
    console.log('\nHarness overhead (included in the rows above):\n');
    console.log(
      markdownTable(
        ['loop', 'ns/op', 'samples'],
        [empty, awaited].map((m) => [m.name, formatNs(m), String(m.samples.length)]),
        ['left', 'right', 'right'],
      ),
    );
  } finally {
    client.close();
  }
}
