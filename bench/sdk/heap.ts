/**
 * Heap retained per 1,000 flags: each SDK loads the same generated flags through TestData in its own
 * `node --expose-gc` process (children/heap.mjs), and heapUsed after full collections is compared with
 * the baseline before loading, then again after every flag was evaluated for 100 contexts.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable } from '../lib/table.js';
import { median } from '../lib/timing.js';
import { generateContexts, generateFlags } from './flags.js';

const childrenDir = join(dirname(fileURLToPath(import.meta.url)), 'children');

const FLAG_COUNT = 1000;
const CONTEXT_COUNT = 100;
const WARM_UP_FLAG_COUNT = 200;
/** Processes per SDK. heapUsed after full collections barely moves between runs, so a few suffice. */
export const HEAP_RUNS = 3;
const MIB = 2 ** 20;

interface HeapReport {
  baseline: number;
  afterLoad: number;
  afterEvaluation: number;
  digest: string;
  reasons: Record<string, number>;
}

const contestants = [
  { name: 'ours', pkg: '@flagstaff/node-server-sdk' },
  { name: 'official', pkg: '@launchdarkly/node-server-sdk' },
] as const;

function runChild(pkg: string, args: string[]): Promise<HeapReport> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', 'heap.mjs', pkg, ...args], {
      cwd: childrenDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`heap child for ${pkg} exited with ${code}\n${stderr}`));
      else resolve(JSON.parse(stdout) as HeapReport);
    });
  });
}

/** MiB per 1,000 flags, median over runs, with the range when runs differ in the shown digits. */
function perThousand(values: number[]): string {
  const scale = (v: number) => v / MIB / (FLAG_COUNT / 1000);
  const mid = scale(median(values)).toFixed(2);
  const lo = scale(Math.min(...values)).toFixed(2);
  const hi = scale(Math.max(...values)).toFixed(2);
  return lo === hi ? mid : `${mid} (${lo}–${hi})`;
}

export async function runHeap(tempDir: string): Promise<void> {
  const flags = generateFlags(FLAG_COUNT, 0x5eed1000);
  const flagsJson = JSON.stringify(flags);
  const files = {
    flags: join(tempDir, 'heap-flags.json'),
    warmUp: join(tempDir, 'heap-warm-up-flags.json'),
    contexts: join(tempDir, 'heap-contexts.json'),
  };
  writeFileSync(files.flags, flagsJson);
  writeFileSync(files.warmUp, JSON.stringify(generateFlags(WARM_UP_FLAG_COUNT, 0x7a51)));
  writeFileSync(files.contexts, JSON.stringify(generateContexts(CONTEXT_COUNT, 0xc0de)));
  const args = [files.flags, files.warmUp, files.contexts];

  const reports = new Map<string, HeapReport[]>(contestants.map((c) => [c.name, []]));
  for (let run = 0; run < HEAP_RUNS; run++) {
    // Alternating which SDK goes first, so neither always runs on a machine the other just warmed.
    const order = run % 2 === 0 ? contestants : [...contestants].reverse();
    for (const { name, pkg } of order) reports.get(name)!.push(await runChild(pkg, args));
  }

  // The same 100,000 details from both SDKs in every run, or the memory compared is not comparable work.
  const all = [...reports.values()].flat();
  const digests = new Set(all.map((r) => r.digest));
  if (digests.size !== 1) throw new Error('heap runs disagree on evaluation details (digests differ)');
  const reasons = Object.entries(all[0]!.reasons)
    .sort(([, a], [, b]) => b - a)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  const rules = flags.reduce((n, f) => n + (f.rules?.length ?? 0), 0);
  const clauses = flags.reduce(
    (n, f) => n + (f.rules ?? []).reduce((m, r) => m + (r.clauses?.length ?? 0), 0),
    0,
  );
  const targetKeys = flags.reduce(
    (n, f) =>
      n + [...(f.targets ?? []), ...(f.contextTargets ?? [])].reduce((m, t) => m + t.values.length, 0),
    0,
  );
  console.log(
    `${FLAG_COUNT} generated flags (${rules} rules, ${clauses} clauses, ${targetKeys} target keys; ` +
      `${(flagsJson.length / MIB).toFixed(2)} MiB of JSON text), ${CONTEXT_COUNT} contexts. Both SDKs returned ` +
      `identical details for all ${FLAG_COUNT * CONTEXT_COUNT} evaluations in every run (${reasons}).\n`,
  );

  const ours = reports.get('ours')!;
  const official = reports.get('official')!;
  const loaded = (list: HeapReport[]) => list.map((r) => r.afterLoad - r.baseline);
  const evaluated = (list: HeapReport[]) => list.map((r) => r.afterEvaluation - r.baseline);
  const ratio = (o: number[], f: number[]) => `${(median(f) / median(o)).toFixed(2)}×`;
  console.log(
    markdownTable(
      ['heap retained, MiB per 1,000 flags', 'ours', 'official', 'ratio (official/ours)', 'runs'],
      [
        [
          'after loading through TestData',
          perThousand(loaded(ours)),
          perThousand(loaded(official)),
          ratio(loaded(ours), loaded(official)),
          String(HEAP_RUNS),
        ],
        [
          `after evaluating each flag for ${CONTEXT_COUNT} contexts`,
          perThousand(evaluated(ours)),
          perThousand(evaluated(official)),
          ratio(evaluated(ours), evaluated(official)),
          String(HEAP_RUNS),
        ],
      ],
      ['left', 'right', 'right', 'right', 'right'],
    ),
  );
}
