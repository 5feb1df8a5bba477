/**
 * Benchmark entry: `npm run bench` runs every benchmark, `npm run bench -- eval sha1` the named ones.
 * A benchmark is any directory next to this file holding an `index.ts` that exports `description` and
 * `run` (see lib/benchmark.ts), so adding one needs no registration here.
 *
 * Options: --samples=N (rounds), --sample-ms=N (duration of one sample), --warmup-ms=N,
 * --iterations=N (fixed calls per sample instead of --sample-ms), --list.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchmarkModule } from './lib/benchmark.js';
import { describeEnvironment } from './lib/env.js';
import { defaultTimingOptions, type TimingOptions } from './lib/timing.js';

const benchDir = dirname(fileURLToPath(import.meta.url));

function discover(): string[] {
  return readdirSync(benchDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'lib' && entry.name !== 'node_modules')
    .filter((entry) => existsSync(join(benchDir, entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

async function load(name: string): Promise<BenchmarkModule> {
  const module = (await import(
    pathToFileURL(join(benchDir, name, 'index.ts')).href
  )) as Partial<BenchmarkModule>;
  if (typeof module.run !== 'function')
    throw new Error(`bench/${name}/index.ts does not export a run function`);
  return { description: module.description ?? '', run: module.run };
}

function usage(message: string, available: string[]): never {
  console.error(`${message}\navailable benchmarks: ${available.join(', ')}`);
  console.error(
    'usage: npm run bench -- [name ...] [--samples=N] [--sample-ms=N] [--warmup-ms=N] [--iterations=N]',
  );
  process.exit(2);
}

function parseArgs(
  argv: string[],
  available: string[],
): { names: string[]; options: TimingOptions; list: boolean } {
  const options: TimingOptions = { ...defaultTimingOptions };
  const names: string[] = [];
  let list = false;
  for (const arg of argv) {
    if (arg === '--list') {
      list = true;
      continue;
    }
    const option = /^--([a-z-]+)=(\d+)$/.exec(arg);
    if (option) {
      const value = Number(option[2]);
      if (value < 1) usage(`${arg}: must be at least 1`, available);
      if (option[1] === 'samples') options.samples = value;
      else if (option[1] === 'sample-ms') options.sampleMs = value;
      else if (option[1] === 'warmup-ms') options.warmupMs = value;
      else if (option[1] === 'iterations') options.iterations = value;
      else usage(`unknown option ${arg}`, available);
      continue;
    }
    if (arg.startsWith('-')) usage(`unknown option ${arg}`, available);
    if (!available.includes(arg)) usage(`unknown benchmark "${arg}"`, available);
    if (!names.includes(arg)) names.push(arg);
  }
  return { names: names.length > 0 ? names : available, options, list };
}

const argv = process.argv.slice(2);
const available = discover();
const { names, options, list } = parseArgs(argv, available);
const modules = new Map<string, BenchmarkModule>();
for (const name of names) modules.set(name, await load(name));

if (list) {
  for (const [name, module] of modules) console.log(`${name.padEnd(10)} ${module.description}`);
  process.exit(0);
}

console.log(describeEnvironment(argv));
const sizing =
  options.iterations !== undefined
    ? `${options.iterations} calls per sample`
    : `~${options.sampleMs} ms per sample`;
console.log(
  `timing: ${options.samples} samples, ${sizing}, warm-up ≥ ${options.warmupMs} ms per contestant\n`,
);
for (const [name, module] of modules) {
  console.log(`## ${name}: ${module.description}\n`);
  const started = performance.now();
  await module.run(options);
  console.log(`\n(${name} took ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}
