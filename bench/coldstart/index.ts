/**
 * Lambda cold start in daemon mode: whole `node` processes, fresh each run, that require an SDK and its
 * DynamoDB store, init with `useLdd: true` on a table of 200 flags in dynalite, and evaluate one flag.
 * Ours (built dist) against the seed's `launchdarkly-node-server-sdk@7` with
 * `launchdarkly-node-server-sdk-dynamodb@4` (AWS SDK v2), with the DynamoDB requests each made, and the
 * size of each side bundled with esbuild.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable } from '../lib/table.js';
import { median } from '../lib/timing.js';
import { ensureBuilt } from './build.js';
import { printBundleSizes } from './bundle.js';
import { FLAG_COUNT, generateDataSet, PREFIX, SEGMENT_COUNT, TABLE, writeTable } from './data.js';
import { type LocalDynamoDB, roundTrips, type ServedRequest, startDynalite } from './dynamo.js';
import { type Run, runChild, type Variant } from './processes.js';

export const description =
  'Lambda cold start in daemon mode (DynamoDB via dynalite): ours vs the seed (SDK v7 + DynamoDB v4)';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Measured rounds; one more round runs first, unrecorded, so every file is in the OS cache. */
export const ROUNDS = 15;

const OURS_CJS = 'ours, require, credentials in clientOptions';
const OURS_ENV = 'ours, require, credentials from the environment';
const OURS_ESM = 'ours, import, credentials in clientOptions';
const OURS_OWN_CLIENT = 'ours, require, own AWS SDK v3 DynamoDBClient';
const OURS_USE_AWS_SDK = 'ours, require, useAwsSdk: true';
const SEED_CJS = 'seed, require, credentials in clientOptions';
const SEED_ENV = 'seed, require, credentials from the environment';
const NODE_ALONE = "node -e '' (no SDK)";

function variants(db: LocalDynamoDB, flagKey: string, context: unknown): Variant[] {
  // The seed's packages are those installed for packages/interop-v7 (they may be hoisted).
  const seedRequire = createRequire(join(repoRoot, 'packages/interop-v7/package.json'));
  const common = {
    table: TABLE,
    prefix: PREFIX,
    endpoint: db.endpoint,
    region: db.region,
    accessKeyId: db.accessKeyId,
    secretAccessKey: db.secretAccessKey,
    flagKey,
    context,
  };
  const ours = {
    ...common,
    sdk: 'ours',
    sdkModule: '@flagstaff/node-server-sdk',
    storeModule: '@flagstaff/store-dynamodb',
    awsSdkModule: '@aws-sdk/client-dynamodb',
  };
  const seed = {
    ...common,
    sdk: 'seed',
    sdkModule: seedRequire.resolve('launchdarkly-node-server-sdk'),
    storeModule: seedRequire.resolve('launchdarkly-node-server-sdk-dynamodb'),
  };
  return [
    { label: OURS_CJS, script: 'coldstart.cjs', config: { ...ours, credentials: 'options' } },
    { label: SEED_CJS, script: 'coldstart.cjs', config: { ...seed, credentials: 'options' } },
    {
      label: OURS_ENV,
      script: 'coldstart.cjs',
      config: { ...ours, credentials: 'env' },
      envCredentials: true,
    },
    {
      label: SEED_ENV,
      script: 'coldstart.cjs',
      config: { ...seed, credentials: 'env' },
      envCredentials: true,
    },
    { label: OURS_ESM, script: 'coldstart.mjs', config: { ...ours, credentials: 'options' } },
    { label: OURS_OWN_CLIENT, script: 'coldstart.cjs', config: { ...ours, ownClient: true } },
    {
      label: OURS_USE_AWS_SDK,
      script: 'coldstart.cjs',
      config: { ...ours, credentials: 'options', useAwsSdk: true },
    },
    { label: NODE_ALONE },
  ];
}

/** Median with the median absolute deviation in percent, as the other benchmarks show it. */
function formatMs(values: number[]): string {
  if (values.length === 0) return '–';
  const mid = median(values);
  const spread = median(values.map((v) => Math.abs(v - mid))) / mid;
  return `${mid.toFixed(1)} ±${(spread * 100).toFixed(0)}%`;
}

/** Operations of one run's requests, e.g. `1 GetItem`, in the order first seen. */
function operations(requests: readonly ServedRequest[]): string {
  if (requests.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const r of requests) counts.set(r.operation, (counts.get(r.operation) ?? 0) + 1);
  return [...counts].map(([operation, n]) => `${n} ${operation}`).join(', ');
}

/** The same description for every run, or each distinct one with how many runs had it. */
function describeAll(list: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of list) counts.set(item, (counts.get(item) ?? 0) + 1);
  if (counts.size === 1) return list[0] ?? '–';
  return [...counts].map(([item, n]) => `${item} (${n} runs)`).join('; ');
}

function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

export async function run(): Promise<void> {
  console.log(`Built code: ${ensureBuilt(repoRoot)}.`);
  const db = await startDynalite();
  try {
    await measure(db);
  } finally {
    await db.close();
  }
  console.log('\n### Bundle size (esbuild, platform node, format cjs, minified)\n');
  await printBundleSizes(repoRoot);
}

async function measure(db: LocalDynamoDB): Promise<void> {
  const data = generateDataSet();
  await writeTable(db, data);
  const list = variants(db, data.firstFlag.key, data.context);
  const sdkVariants = list.filter((v) => v.script !== undefined);
  console.log(
    `dynalite on ${db.endpoint}, table "${TABLE}", prefix "${PREFIX}": ${FLAG_COUNT} generated flags and ` +
      `${SEGMENT_COUNT} segments (${(data.jsonBytes / 1024).toFixed(0)} KiB of item JSON), written with ` +
      "our store's init.",
  );

  // Verification first: every variant reads the whole table (allFlagsState) and must agree on every
  // flag's value, so the seed's store demonstrably reads what ours wrote.
  const reference = new Map<string, string>();
  for (const variant of sdkVariants) {
    const result = await runChild(db, variant, { verify: true });
    reference.set(variant.label, sortedJson({ value: result.value, all: result.all }));
    const count = Object.keys(result.all ?? {}).length;
    if (count !== FLAG_COUNT) throw new Error(`${variant.label}: allFlagsState had ${count} flags`);
  }
  const distinct = new Set(reference.values());
  if (distinct.size !== 1) {
    throw new Error(`the variants disagree on the flags' values:\n${[...reference].join('\n')}`);
  }
  const verified = JSON.parse([...distinct][0]!) as { value: unknown; all: Record<string, unknown> };
  const defaults = Object.values(verified.all).filter((v) => v === null).length;
  console.log(
    `Verified: every variant's allFlagsState gave the same values for all ${FLAG_COUNT} flags ` +
      `(${defaults} null), and the first variation of "${data.firstFlag.key}" ` +
      `(${data.firstFlag.rules?.length} rules, no prerequisite or segment) returned ${JSON.stringify(verified.value)}.\n`,
  );

  // A flag whose rule matches a segment needs a second read, after the flag: counted once per SDK.
  const dependent = new Map<string, ServedRequest[]>();
  for (const variant of sdkVariants) {
    dependent.set(variant.label, (await runChild(db, variant, { flagKey: data.segmentFlag.key })).requests);
  }

  const runs = new Map<Variant, Run[]>(list.map((v) => [v, []]));
  for (let round = -1; round < ROUNDS; round++) {
    for (let k = 0; k < list.length; k++) {
      // The starting variant rotates, as in the in-process timing loop.
      const variant = list[(Math.max(round, 0) + k) % list.length]!;
      const result = await runChild(db, variant);
      if (round >= 0) runs.get(variant)!.push(result);
    }
  }
  const values = new Set(
    [...runs]
      .filter(([v]) => v.script !== undefined)
      .flatMap(([, r]) => r.map((x) => JSON.stringify(x.value))),
  );
  if (values.size !== 1)
    throw new Error(`cold-start runs returned different values: ${[...values].join(', ')}`);

  console.log(`${ROUNDS} rounds (after one unrecorded round) of one process per row, in rotating order.\n`);
  const col = (l: Run[], pick: (r: Run) => number | undefined) =>
    l.map(pick).filter((v): v is number => v !== undefined);
  const since = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? undefined : to - from;
  console.log(
    markdownTable(
      [
        'process',
        'spawn → exit ms',
        'script start ms',
        'require ms',
        'init → first value ms',
        'start → first value ms',
        'SDK share ms',
        'AWS SDK v3 loaded',
      ],
      [...runs].map(([variant, l]) => [
        variant.label,
        formatMs(col(l, (r) => r.wall)),
        formatMs(col(l, (r) => r.scriptStart)),
        formatMs(col(l, (r) => since(r.scriptStart, r.required))),
        formatMs(col(l, (r) => since(r.required, r.firstValue))),
        formatMs(col(l, (r) => r.firstValue)),
        formatMs(col(l, (r) => since(r.scriptStart, r.firstValue))),
        variant.script === undefined ? '–' : describeAll(l.map((r) => (r.awsSdkV3 ? 'yes' : 'no'))),
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
  );

  console.log('\nseed/ours, median over rounds of the ratio of the two processes of the same round:\n');
  const byLabel = (label: string) => runs.get(list.find((v) => v.label === label)!)!;
  const ratio = (ours: Run[], seed: Run[], pick: (r: Run) => number | undefined): string => {
    const r = ours.map((o, i) => (pick(seed[i]!) ?? Number.NaN) / (pick(o) ?? Number.NaN));
    return `${median(r).toFixed(2)}×`;
  };
  const pairs: [string, string][] = [
    [OURS_CJS, SEED_CJS],
    [OURS_ENV, SEED_ENV],
    [OURS_ESM, SEED_CJS],
    [OURS_OWN_CLIENT, SEED_CJS],
    [OURS_USE_AWS_SDK, SEED_CJS],
  ];
  console.log(
    markdownTable(
      ['ours', 'seed', 'spawn → exit', 'start → first value', 'SDK share', 'require', 'init → first value'],
      pairs.map(([o, s]) => {
        const ours = byLabel(o);
        const seed = byLabel(s);
        return [
          o.replace('ours, ', ''),
          s.replace('seed, ', ''),
          ratio(ours, seed, (r) => r.wall),
          ratio(ours, seed, (r) => r.firstValue),
          ratio(ours, seed, (r) => since(r.scriptStart, r.firstValue)),
          ratio(ours, seed, (r) => since(r.scriptStart, r.required)),
          ratio(ours, seed, (r) => since(r.required, r.firstValue)),
        ];
      }),
      ['left', 'left', 'right', 'right', 'right', 'right', 'right'],
    ),
  );

  console.log('\n### DynamoDB requests per cold start\n');
  console.log(
    markdownTable(
      [
        'process',
        `first value of "${data.firstFlag.key}"`,
        'round trips',
        `first value of "${data.segmentFlag.key}" (segment rule)`,
        'round trips',
      ],
      sdkVariants.map((variant) => {
        const timed = runs.get(variant)!;
        const more = dependent.get(variant.label) ?? [];
        return [
          variant.label,
          describeAll(timed.map((r) => operations(r.requests))),
          describeAll(timed.map((r) => String(roundTrips(r.requests)))),
          operations(more),
          String(roundTrips(more)),
        ];
      }),
    ),
  );
}
