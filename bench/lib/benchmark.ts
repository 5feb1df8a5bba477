import type { TimingOptions } from './timing.js';

/** What each `bench/<name>/index.ts` exports; `bench/run.ts` finds them by directory. */
export interface BenchmarkModule {
  /** One line shown in the run header and in the list of benchmarks. */
  description: string;
  /** Verifies that the contestants agree, then measures them and prints its tables. */
  run(options: TimingOptions): Promise<void>;
}
