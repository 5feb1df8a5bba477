import type { Clause, EvaluationData, Flag, Segment } from '@flagstaff/eval';
import type { DataKind } from '../api/store.js';
import { FEATURES, SEGMENTS } from './dataKinds.js';

export interface LoadedForEvaluation {
  flag: Flag | undefined;
  data: EvaluationData;
}

/** How the loader reads: from memory when possible (undefined = not known there), else from the store. */
export interface LoaderSource {
  cached(kind: DataKind, key: string): unknown | null | undefined;
  fetch(kind: DataKind, key: string): Promise<unknown | undefined>;
}

/**
 * Gathers a flag and everything its evaluation can reach (prerequisites, segments, nested segments)
 * into synchronous lookups. Items already in memory are taken at once; the rest are read in one round
 * of parallel reads per level. When everything is in memory the result is returned synchronously,
 * which spares an evaluation several promise hops (about 15x the cost of the evaluation itself).
 */
export function loadForEvaluation(
  source: LoaderSource,
  flagKey: string,
): LoadedForEvaluation | Promise<LoadedForEvaluation> {
  return new Load(source, flagKey).run();
}

// A class rather than closures: one allocation per evaluation, and nothing for a bundler's
// keep-names helper to rename on every call.
class Load implements EvaluationData {
  private readonly flags = new Map<string, Flag | undefined>();
  private readonly segments = new Map<string, Segment | undefined>();
  private wantedFlags: string[] = [];
  private wantedSegments: string[] = [];

  constructor(
    private readonly source: LoaderSource,
    private readonly flagKey: string,
  ) {
    this.wantFlag(flagKey);
  }

  getFlag(key: string): Flag | undefined {
    return this.flags.get(key);
  }

  getSegment(key: string): Segment | undefined {
    return this.segments.get(key);
  }

  run(): LoadedForEvaluation | Promise<LoadedForEvaluation> {
    while (this.wantedFlags.length > 0 || this.wantedSegments.length > 0) {
      const flagKeys = this.wantedFlags;
      const segmentKeys = this.wantedSegments;
      this.wantedFlags = [];
      this.wantedSegments = [];
      const missingFlags: string[] = [];
      const missingSegments: string[] = [];
      for (const key of flagKeys) {
        const item = this.source.cached(FEATURES, key);
        if (item === undefined) missingFlags.push(key);
        else this.acceptFlag(key, item);
      }
      for (const key of segmentKeys) {
        const item = this.source.cached(SEGMENTS, key);
        if (item === undefined) missingSegments.push(key);
        else this.acceptSegment(key, item);
      }
      if (missingFlags.length > 0 || missingSegments.length > 0) {
        return this.fetch(missingFlags, missingSegments);
      }
    }
    return { flag: this.flags.get(this.flagKey), data: this };
  }

  private async fetch(flagKeys: string[], segmentKeys: string[]): Promise<LoadedForEvaluation> {
    const [flags, segments] = await Promise.all([
      Promise.all(flagKeys.map((k) => this.source.fetch(FEATURES, k))),
      Promise.all(segmentKeys.map((k) => this.source.fetch(SEGMENTS, k))),
    ]);
    for (const [i, key] of flagKeys.entries()) this.acceptFlag(key, flags[i]);
    for (const [i, key] of segmentKeys.entries()) this.acceptSegment(key, segments[i]);
    return this.run();
  }

  /** A key enters its map (as undefined) when first wanted, so it is never wanted twice. */
  private wantFlag(key: string): void {
    if (this.flags.has(key)) return;
    this.flags.set(key, undefined);
    this.wantedFlags.push(key);
  }

  private wantSegments(clauses: readonly Clause[] | undefined): void {
    if (clauses === undefined) return;
    for (const clause of clauses) {
      if (clause.op !== 'segmentMatch') continue;
      for (const v of clause.values) {
        if (typeof v !== 'string' || this.segments.has(v)) continue;
        this.segments.set(v, undefined);
        this.wantedSegments.push(v);
      }
    }
  }

  private acceptFlag(key: string, item: unknown): void {
    const flag = (item ?? undefined) as Flag | undefined;
    this.flags.set(key, flag);
    if (flag === undefined) return;
    if (flag.prerequisites !== undefined) for (const p of flag.prerequisites) this.wantFlag(p.key);
    if (flag.rules !== undefined) for (const rule of flag.rules) this.wantSegments(rule.clauses);
  }

  private acceptSegment(key: string, item: unknown): void {
    const segment = (item ?? undefined) as Segment | undefined;
    this.segments.set(key, segment);
    if (segment?.rules !== undefined) for (const rule of segment.rules) this.wantSegments(rule.clauses);
  }
}
