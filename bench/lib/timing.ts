/**
 * The timing loop shared by all benchmarks. Contestants are measured in interleaved rounds so that
 * background load (other processes, thermal or frequency changes) lands on all of them alike, and
 * results are medians over rounds so a few disturbed samples do not move them.
 */

export interface Contestant {
  name: string;
  /** One operation. `i` counts calls, so the operation can cycle through its inputs. */
  op: (i: number) => unknown;
  /** True when `op` returns a promise; each call is then awaited before the next, as a caller would. */
  async?: boolean;
}

export interface TimingOptions {
  /** Rounds; each round takes one sample of every contestant. */
  samples: number;
  /** Target duration of one sample, used to size batches after warm-up. */
  sampleMs: number;
  /** Minimum time each contestant runs before measuring, so it is optimized when measured. */
  warmupMs: number;
  /** A fixed number of calls per sample instead of sizing batches from `sampleMs`. */
  iterations?: number | undefined;
}

export const defaultTimingOptions: TimingOptions = { samples: 21, sampleMs: 100, warmupMs: 200 };

export interface Measurement {
  name: string;
  /** Nanoseconds per call of each sample, in round order (index r is round r for every contestant). */
  samples: number[];
  /** Calls per sample. */
  iterations: number;
  median: number;
  /** Median absolute deviation of the samples, relative to the median. */
  spread: number;
}

// Results go here so no engine could ever treat a call as dead code.
let sink: unknown;

/** The result of the most recent measured call (it exists so the results above are observable). */
export function lastResult(): unknown {
  return sink;
}

/** Runs `n` calls starting at call number `first` and returns the elapsed nanoseconds. */
async function batch(contestant: Contestant, first: number, n: number): Promise<number> {
  const op = contestant.op;
  const end = first + n;
  const start = process.hrtime.bigint();
  if (contestant.async) {
    for (let i = first; i < end; i++) sink = await op(i);
  } else {
    for (let i = first; i < end; i++) sink = op(i);
  }
  return Number(process.hrtime.bigint() - start);
}

/** Runs batches of doubling size for at least `warmupMs`; returns an estimate of ns per call. */
async function warmUp(contestant: Contestant, warmupMs: number): Promise<number> {
  const budget = warmupMs * 1e6;
  let spent = 0;
  let calls = 0;
  let n = 1;
  let elapsed = 0;
  let perCall = 0;
  // Keep going until the budget is used and the last batch took at least 1 ms, long enough for its
  // per-call time to be a usable estimate; batches grow until they take a quarter of the budget.
  while (spent < budget || elapsed < 1e6) {
    elapsed = await batch(contestant, calls, n);
    spent += elapsed;
    calls += n;
    perCall = elapsed / n;
    if (elapsed < budget / 4 || elapsed < 1e6) n *= 2;
  }
  return perCall;
}

/**
 * Measures every contestant `samples` times. Within each round the contestants run one after the
 * other, and the starting contestant rotates from round to round (A B, B A, A B, ...) so that neither
 * always runs first, right after the other one or a garbage collection it triggered.
 */
export async function measure(contestants: Contestant[], options: TimingOptions): Promise<Measurement[]> {
  const iterations: number[] = [];
  for (const contestant of contestants) {
    const nsPerCall = await warmUp(contestant, options.warmupMs);
    iterations.push(options.iterations ?? Math.max(1, Math.round((options.sampleMs * 1e6) / nsPerCall)));
  }
  const samples: number[][] = contestants.map(() => []);
  const nextCall: number[] = contestants.map(() => 0);
  for (let round = 0; round < options.samples; round++) {
    for (let k = 0; k < contestants.length; k++) {
      const index = (round + k) % contestants.length;
      const n = iterations[index]!;
      const elapsed = await batch(contestants[index]!, nextCall[index]!, n);
      nextCall[index]! += n;
      samples[index]!.push(elapsed / n);
    }
  }
  return contestants.map((contestant, index) => {
    const own = samples[index]!;
    const mid = median(own);
    return {
      name: contestant.name,
      samples: own,
      iterations: iterations[index]!,
      median: mid,
      spread: median(own.map((x) => Math.abs(x - mid))) / mid,
    };
  });
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * How many times faster `ours` is than `official`: the median over rounds of official/ours, pairing
 * the two samples of the same round so that load which hit one round hits both sides of its ratio.
 */
export function pairedRatio(ours: Measurement, official: Measurement): number {
  const ratios: number[] = [];
  const rounds = Math.min(ours.samples.length, official.samples.length);
  for (let r = 0; r < rounds; r++) ratios.push(official.samples[r]! / ours.samples[r]!);
  return median(ratios);
}
