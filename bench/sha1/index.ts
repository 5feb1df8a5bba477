/**
 * Our pure-TypeScript SHA-1 against node:crypto, for the inputs percentage rollouts hash. The crypto
 * side is what the official SDK does per bucketing: createHash, hex digest, parseInt of 15 hex digits.
 * The numbers decide whether the pure hash should stay the evaluator's default.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sha1BucketHasher, sha1Hex } from '@flagstaff/eval';
import { cryptoBucket, cryptoHex } from '../lib/cryptoSha1.js';
import { Random } from '../lib/random.js';
import { type ComparisonRow, comparisonTable } from '../lib/table.js';
import { type Measurement, measure, type TimingOptions } from '../lib/timing.js';
import { verify } from './verify.js';

export const description = 'SHA-1 bucketing hash: pure TypeScript (@flagstaff/eval) vs node:crypto';

const INPUTS_PER_SIZE = 1024;

/** Distinct inputs of one size class, so timing cycles through many strings rather than one. */
function inputs(make: (random: Random, n: number) => string): string[] {
  const random = new Random(42);
  return Array.from({ length: INPUTS_PER_SIZE }, (_, n) => make(random, n));
}

const sizes: Array<{ name: string; inputs: string[] }> = [
  {
    // flagKey.salt.contextKey, the string a rollout hashes: one 64-byte block.
    name: '~35 B (1 block)',
    inputs: inputs((_, n) => `flag-key.salt-value.user-key-${10000 + n * 7}`),
  },
  {
    // Long keys and a UUID-like salt: two blocks.
    name: '~100 B (2 blocks)',
    inputs: inputs((r, n) => `checkout-redesign-experiment.${r.hex(32)}.user-${r.hex(8)}-${r.hex(20)}-${n}`),
  },
  { name: '1 KB (17 blocks)', inputs: inputs((r) => r.hex(1024)) },
];

/** Runs the equivalence check in a child process (a fresh V8) and returns its summary. */
async function verifyInChild(): Promise<string> {
  const script = fileURLToPath(new URL('./verify.ts', import.meta.url));
  // Same flags as this process: the tsx loader and the condition that resolves @flagstaff/eval to source.
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, script]);
  return stdout.trim();
}

type Size = (typeof sizes)[number];

async function measureBuckets({ name, inputs: list }: Size, options: TimingOptions): Promise<ComparisonRow> {
  const n = list.length;
  const [ours, crypto] = (await measure(
    [
      { name: 'sha1BucketHasher', op: (i) => sha1BucketHasher(list[i % n]!) },
      { name: 'crypto bucket', op: (i) => cryptoBucket(list[i % n]!) },
    ],
    options,
  )) as [Measurement, Measurement];
  return { name: `bucket, ${name}`, ours, official: crypto };
}

export async function run(options: TimingOptions): Promise<void> {
  console.log(`Verification (child process): ${await verifyInChild()}\n`);
  for (const { name, inputs: list } of sizes) {
    const bytes = list.map((s) => Buffer.byteLength(s));
    console.log(
      `- ${name}: ${Math.min(...bytes)} to ${Math.max(...bytes)} bytes, ${list.length} distinct inputs`,
    );
  }

  const bucketRows: ComparisonRow[] = [];
  const hexRows: ComparisonRow[] = [];
  for (const size of sizes) {
    bucketRows.push(await measureBuckets(size, options));
    const list = size.inputs;
    const n = list.length;
    const [ours, crypto] = (await measure(
      [
        { name: 'sha1Hex', op: (i) => sha1Hex(list[i % n]!) },
        { name: 'crypto hex', op: (i) => cryptoHex(list[i % n]!) },
      ],
      options,
    )) as [Measurement, Measurement];
    hexRows.push({ name: `hex digest, ${size.name}`, ours, official: crypto });
  }
  console.log(
    '\nours = sha1BucketHasher / sha1Hex; official = node:crypto createHash (+ parseInt of 15 hex digits),',
  );
  console.log('in a process that has hashed only the ASCII inputs below:\n');
  console.log(comparisonTable([...bucketRows, ...hexRows]));

  // The same check again, now in this process: afterwards V8 has seen the pure hash take its non-ASCII
  // paths, and in our trials that left it slower on plain ASCII input, by an amount that varies from
  // process to process. Timing it again shows the range a long-running process may be in.
  console.log(`\nVerification (this process): ${verify()}`);
  const after: ComparisonRow[] = [];
  for (const size of sizes) after.push(await measureBuckets(size, options));
  console.log(
    '\nThe bucket rows again, after this process has hashed the 100,000 mixed verification inputs:\n',
  );
  console.log(comparisonTable(after));
}
