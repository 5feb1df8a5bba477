/**
 * `await client.variation(key, context, default)` through both SDKs' public API, with events off and on.
 * The four clients (ours and official, events off and on) are timed in the same interleaved rounds.
 */
import { deepStrictEqual } from 'node:assert/strict';
import type { Flag, JsonObject } from '@flagstaff/eval';
import * as ours from '@flagstaff/node-server-sdk';
import * as official from '@launchdarkly/node-server-sdk';
import { scenarios as evalScenarios } from '../eval/scenarios.js';
import { type ComparisonRow, comparisonTable, markdownTable } from '../lib/table.js';
import { type Measurement, measure, pairedRatio, type TimingOptions } from '../lib/timing.js';
import { type Delivered, type EventsServer, startEventsServer } from './eventsServer.js';

interface Scenario {
  name: string;
  flag: Flag;
  contexts: JsonObject[];
  expect: { reasonKind: string; ruleIndex?: number; variations: number[] };
}

/** What the benchmark uses of a client; both SDKs' clients have these methods. */
interface VariationClient {
  variation(key: string, context: JsonObject, defaultValue: unknown): Promise<unknown>;
  variationDetail(key: string, context: JsonObject, defaultValue: unknown): Promise<unknown>;
  flush(): Promise<unknown>;
  close(): unknown;
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };

// An hour: no timed flush can fall into a measurement; flushes happen only where the benchmark asks.
const FLUSH_INTERVAL_S = 3600;

function evalScenario(key: string): { flag: Flag; contexts: JsonObject[] } {
  const found = evalScenarios.find((s) => s.flag.key === key);
  if (found === undefined) throw new Error(`bench/eval/scenarios.ts has no flag "${key}"`);
  return found;
}

/** The rules and rollout flags of the eval benchmark, and a plain flag that serves its fallthrough. */
function scenarios(): Scenario[] {
  const rules = evalScenario('rules-flag');
  const rollout = evalScenario('rollout-flag');
  // The rules flag without its rules: on, no targets, fallthrough serves variation 3.
  const simple: Flag = { ...rules.flag, key: 'simple-flag', salt: 'simple-flag-salt', rules: [] };
  return [
    {
      name: '(a) on, fallthrough variation',
      flag: simple,
      contexts: rules.contexts,
      expect: { reasonKind: 'FALLTHROUGH', variations: [3] },
    },
    {
      name: '(b) 50/50 rollout',
      flag: rollout.flag,
      contexts: rollout.contexts,
      expect: { reasonKind: 'FALLTHROUGH', variations: [0, 1] },
    },
    {
      name: '(c) 3 rules × 5 clauses',
      flag: rules.flag,
      contexts: rules.contexts,
      expect: { reasonKind: 'RULE_MATCH', ruleIndex: 2, variations: [2] },
    },
  ];
}

/** Events off: offline from the network, as in the eval benchmark. Events on: to the local server. */
function options(server: EventsServer | undefined, prefix: string) {
  return server === undefined
    ? { sendEvents: false, diagnosticOptOut: true, logger: silent }
    : {
        sendEvents: true,
        eventsUri: server.uri(prefix),
        flushInterval: FLUSH_INTERVAL_S,
        diagnosticOptOut: true,
        logger: silent,
      };
}

// Each client gets its own JSON copy of the flags, so no SDK sees objects another one has prepared.
async function oursClient(flags: Flag[], server?: EventsServer): Promise<VariationClient> {
  const td = new ours.integrations.TestData();
  for (const flag of flags) await td.usePreconfiguredFlag(JSON.parse(JSON.stringify(flag)));
  const client = ours.init('sdk-key-bench', { updateProcessor: td.getFactory(), ...options(server, 'ours') });
  await client.waitForInitialization({ timeout: 10 });
  return client;
}

async function officialClient(flags: Flag[], server?: EventsServer): Promise<VariationClient> {
  const td = new official.integrations.TestData();
  for (const flag of flags) await td.usePreconfiguredFlag(JSON.parse(JSON.stringify(flag)));
  const client = official.init('sdk-key-bench', {
    updateProcessor: td.getFactory(),
    ...options(server, 'official'),
  });
  await client.waitForInitialization({ timeout: 10 });
  // Its LDContext type demands a `key`, which JsonObject cannot promise; every context here has one.
  return client as unknown as VariationClient;
}

function normalize(detail: unknown): unknown {
  return JSON.parse(JSON.stringify(detail));
}

/**
 * Every context of the scenario through all four clients: the details must be identical and on the path
 * the scenario is for. Returns a one-line summary.
 */
async function verify(scenario: Scenario, clients: Record<string, VariationClient>): Promise<string> {
  const { flag, contexts, expect } = scenario;
  const counts = new Map<number | null, number>();
  let first: unknown;
  for (const context of contexts) {
    const details = new Map<string, unknown>();
    for (const [name, client] of Object.entries(clients)) {
      details.set(name, normalize(await client.variationDetail(flag.key, context, 'default')));
    }
    const reference = details.get('ours, events off') as {
      variationIndex: number | null;
      reason: { kind: string; ruleIndex?: number };
    };
    for (const [name, detail] of details) {
      deepStrictEqual(
        detail,
        reference,
        `${scenario.name}: "${name}" and "ours, events off" disagree for ${JSON.stringify(context)}`,
      );
    }
    if (reference.reason.kind !== expect.reasonKind || reference.reason.ruleIndex !== expect.ruleIndex) {
      throw new Error(
        `${scenario.name}: expected ${JSON.stringify(expect)}, got ${JSON.stringify(reference)}`,
      );
    }
    counts.set(reference.variationIndex, (counts.get(reference.variationIndex) ?? 0) + 1);
    first ??= reference;
  }
  for (const variation of expect.variations) {
    if (!counts.has(variation)) throw new Error(`${scenario.name}: no context got variation ${variation}`);
  }
  const split = [...counts].map(([variation, n]) => `variation ${variation} × ${n}`).join(', ');
  return `- ${scenario.name}: identical for all ${contexts.length} contexts (${split}); first: \`${JSON.stringify(first)}\``;
}

function describeDelivered(d: Delivered): string {
  const kinds = [...d.kinds].map(([kind, n]) => `${n} ${kind}`).join(', ');
  return `${d.payloads} payload(s): ${kinds || 'no events'}; ${d.summarized} evaluations summarized`;
}

export async function runThroughput(timing: TimingOptions): Promise<void> {
  const list = scenarios();
  const flags = list.map((s) => s.flag);
  const server = await startEventsServer();
  const clients = {
    'ours, events off': await oursClient(flags),
    'official, events off': await officialClient(flags),
    'ours, events on': await oursClient(flags, server),
    'official, events on': await officialClient(flags, server),
  };
  try {
    console.log(
      'All four clients return the same variationDetail (checked for every context before timing):\n',
    );
    for (const scenario of list) console.log(await verify(scenario, clients));

    // The check above made 3,000 evaluations on each events-on client: both must report all of them.
    await clients['ours, events on'].flush();
    await clients['official, events on'].flush();
    const checked = list.reduce((n, s) => n + s.contexts.length, 0);
    for (const prefix of ['ours', 'official']) {
      const delivered = server.delivered(prefix);
      console.log(`- events from ${prefix} after the check: ${describeDelivered(delivered)}`);
      if (delivered.summarized !== checked) {
        throw new Error(`${prefix} summarized ${delivered.summarized} evaluations, expected ${checked}`);
      }
    }

    const offRows: ComparisonRow[] = [];
    const onRows: ComparisonRow[] = [];
    const eventCost: string[][] = [];
    for (const { name, flag, contexts } of list) {
      const n = contexts.length;
      const timed = (label: keyof typeof clients) => {
        const client = clients[label];
        return {
          name: label,
          op: (i: number) => client.variation(flag.key, contexts[i % n]!, 'default'),
          async: true,
        };
      };
      const [oursOff, officialOff, oursOn, officialOn] = (await measure(
        [
          timed('ours, events off'),
          timed('official, events off'),
          timed('ours, events on'),
          timed('official, events on'),
        ],
        timing,
      )) as [Measurement, Measurement, Measurement, Measurement];
      offRows.push({ name, ours: oursOff, official: officialOff });
      onRows.push({ name, ours: oursOn, official: officialOn });
      const extra = (off: Measurement, on: Measurement) =>
        `${(on.median - off.median).toFixed(0)} ns (${pairedRatio(off, on).toFixed(2)}×)`;
      eventCost.push([name, extra(oursOff, oursOn), extra(officialOff, officialOn)]);
    }

    console.log('\nawait client.variation(), events off (sendEvents: false):\n');
    console.log(comparisonTable(offRows));
    console.log('\nawait client.variation(), events on (sendEvents: true, to the local server):\n');
    console.log(comparisonTable(onRows));
    console.log('\nWhat turning events on adds per call: on − off medians (on/off, paired by round):\n');
    console.log(markdownTable(['name', 'ours', 'official'], eventCost, ['left', 'right', 'right']));

    await clients['ours, events on'].flush();
    await clients['official, events on'].flush();
    console.log('\nEvents the local server received from the events-on clients over the whole run:\n');
    for (const prefix of ['ours', 'official']) {
      console.log(`- ${prefix}: ${describeDelivered(server.delivered(prefix))}`);
    }
  } finally {
    for (const client of Object.values(clients)) await client.close();
    await server.close();
  }
}
