/**
 * Cold start as whole processes: each run is a fresh `node` process that imports one SDK's built code,
 * initializes it from a flag file and evaluates one flag (children/coldstart.mjs and .cjs). The parent
 * times spawn to exit; the child reports when each step finished, in ms since its process started.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable } from '../lib/table.js';
import { median } from '../lib/timing.js';
import { flagFileJson, generateContexts, generateFlags } from './flags.js';

const childrenDir = join(dirname(fileURLToPath(import.meta.url)), 'children');

const FLAG_COUNT = 50;
const SEED = 0x5eed0050;
/** Measured rounds; one more round runs first, unrecorded, so every file is in the OS cache. */
export const COLD_START_ROUNDS = 15;

interface Variant {
  label: string;
  script: 'coldstart.mjs' | 'coldstart.cjs';
  /** Package to load, `-` for none (Node's own start-up). */
  pkg: string;
}

const OURS = '@flagstaff/node-server-sdk';
const OFFICIAL = '@launchdarkly/node-server-sdk';

const variants: Variant[] = [
  { label: 'ours, ESM import', script: 'coldstart.mjs', pkg: OURS },
  { label: 'official, ESM import', script: 'coldstart.mjs', pkg: OFFICIAL },
  { label: 'ours, CommonJS require', script: 'coldstart.cjs', pkg: OURS },
  { label: 'official, CommonJS require', script: 'coldstart.cjs', pkg: OFFICIAL },
  { label: 'node alone (no SDK)', script: 'coldstart.mjs', pkg: '-' },
];

/** What a child prints: ms since its process started when each step finished. */
interface ChildTimes {
  scriptStart: number;
  imported?: number;
  created?: number;
  ready?: number;
  firstValue?: number;
  value?: unknown;
}

interface Run extends ChildTimes {
  /** Spawn to exit, measured by the parent. */
  wall: number;
}

function runChild(variant: Variant, args: string[]): Promise<Run> {
  // The child must load only what the script imports: no tsx or other preloads from NODE_OPTIONS.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let wall = 0;
    const child = spawn(process.execPath, [variant.script, variant.pkg, ...args], {
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
    child.on('exit', () => {
      wall = performance.now() - started;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${variant.label}: child exited with ${code}\n${stderr}`));
        return;
      }
      try {
        resolve({ ...(JSON.parse(stdout) as ChildTimes), wall });
      } catch {
        reject(new Error(`${variant.label}: unexpected output ${JSON.stringify(stdout)}\n${stderr}`));
      }
    });
  });
}

/** Median with the median absolute deviation in percent, as the ns/op tables show it. */
function formatMs(values: number[]): string {
  if (values.length === 0) return '–';
  const mid = median(values);
  const spread = median(values.map((v) => Math.abs(v - mid))) / mid;
  return `${mid.toFixed(1)} ±${(spread * 100).toFixed(0)}%`;
}

function pairedMsRatio(ours: number[], official: number[]): string {
  return `${median(ours.map((o, r) => official[r]! / o)).toFixed(2)}×`;
}

export async function runColdStart(tempDir: string): Promise<void> {
  const flags = generateFlags(FLAG_COUNT, SEED);
  const file = join(tempDir, 'cold-start-flags.json');
  writeFileSync(file, flagFileJson(flags));
  // A flag that is on and has rules, so the first evaluation walks rules rather than returning early.
  const flag = flags.find((f) => f.on && (f.rules?.length ?? 0) > 0);
  if (flag === undefined) throw new Error('the generated flags have no flag that is on with rules');
  const context = generateContexts(1, SEED)[0]!;
  const args = [file, flag.key, JSON.stringify(context)];

  const runs = new Map<Variant, Run[]>(variants.map((v) => [v, []]));
  for (let round = -1; round < COLD_START_ROUNDS; round++) {
    for (let k = 0; k < variants.length; k++) {
      // The starting variant rotates, as in the in-process timing loop.
      const variant = variants[(Math.max(round, 0) + k) % variants.length]!;
      const run = await runChild(variant, args);
      if (round >= 0) runs.get(variant)!.push(run);
    }
  }

  // Both SDKs, both module systems, every run: one value, the one both SDKs compute for this flag.
  const values = new Set(
    [...runs].filter(([v]) => v.pkg !== '-').flatMap(([, list]) => list.map((r) => JSON.stringify(r.value))),
  );
  if (values.size !== 1)
    throw new Error(`cold-start runs returned different values: ${[...values].join(', ')}`);
  console.log(
    `${FLAG_COUNT} generated flags in a ${(flagFileJson(flags).length / 1024).toFixed(0)} KiB JSON file; ` +
      `first variation of "${flag.key}" (${flag.rules?.length} rules) returned ${[...values][0]} in every run.\n`,
  );

  const column = (list: Run[], pick: (r: Run) => number | undefined): number[] =>
    list.map(pick).filter((v): v is number => v !== undefined);
  const sinceImport = (r: Run, end: number | undefined) =>
    end === undefined || r.imported === undefined ? undefined : end - r.imported;
  console.log(
    markdownTable(
      [
        'process',
        'spawn → exit ms',
        'script start ms',
        'import / require ms',
        'init → ready ms',
        'first variation ms',
        'init → first value ms',
      ],
      [...runs].map(([variant, list]) => [
        variant.label,
        formatMs(column(list, (r) => r.wall)),
        formatMs(column(list, (r) => r.scriptStart)),
        formatMs(column(list, (r) => (r.imported === undefined ? undefined : r.imported - r.scriptStart))),
        formatMs(column(list, (r) => sinceImport(r, r.ready))),
        formatMs(column(list, (r) => (r.ready === undefined ? undefined : r.firstValue! - r.ready))),
        formatMs(column(list, (r) => sinceImport(r, r.firstValue))),
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );

  const ratios: string[][] = [];
  for (const [oursLabel, officialLabel, name] of [
    ['ours, ESM import', 'official, ESM import', 'ESM import'],
    ['ours, CommonJS require', 'official, CommonJS require', 'CommonJS require'],
  ] as const) {
    const o = runs.get(variants.find((v) => v.label === oursLabel)!)!;
    const f = runs.get(variants.find((v) => v.label === officialLabel)!)!;
    ratios.push([
      name,
      pairedMsRatio(
        column(o, (r) => r.wall),
        column(f, (r) => r.wall),
      ),
      pairedMsRatio(
        column(o, (r) => r.imported! - r.scriptStart),
        column(f, (r) => r.imported! - r.scriptStart),
      ),
      pairedMsRatio(
        column(o, (r) => sinceImport(r, r.firstValue)),
        column(f, (r) => sinceImport(r, r.firstValue)),
      ),
    ]);
  }
  console.log('\nofficial/ours, median over rounds of the ratio of the two runs of the same round:\n');
  console.log(
    markdownTable(
      ['module system', 'spawn → exit', 'import / require', 'init → first value', 'rounds'],
      ratios.map((row) => [...row, String(COLD_START_ROUNDS)]),
      ['left', 'right', 'right', 'right', 'right'],
    ),
  );
}
