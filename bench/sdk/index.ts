/**
 * The SDK as a whole against the official one: `variation()` through the public API with events off and
 * on, cold start as separate processes, and heap per 1,000 flags. Part 1 runs our TypeScript sources in
 * this process, like the other benchmarks; parts 2 and 3 load our built dist in child processes, because
 * start-up and memory are what users get from the published JavaScript.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TimingOptions } from '../lib/timing.js';
import { ensureBuilt } from './build.js';
import { COLD_START_ROUNDS, runColdStart } from './coldstart.js';
import { HEAP_RUNS, runHeap } from './heap.js';
import { runThroughput } from './throughput.js';

export const description =
  'the SDK through its public API: @flagstaff/node-server-sdk vs @launchdarkly/node-server-sdk';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function run(options: TimingOptions): Promise<void> {
  console.log('### 1. await client.variation(), events off and on\n');
  await runThroughput(options);

  console.log('\n### 2. Cold start, one process per run\n');
  console.log(`Built code: ${ensureBuilt(repoRoot)}.`);
  const tempDir = mkdtempSync(join(tmpdir(), 'flagstaff-bench-sdk-'));
  try {
    console.log(
      `${COLD_START_ROUNDS} rounds (after one unrecorded round) of one process per row, alternating.\n`,
    );
    await runColdStart(tempDir);

    console.log(`\n### 3. Heap per 1,000 flags, ${HEAP_RUNS} processes per SDK\n`);
    await runHeap(tempDir);
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}
