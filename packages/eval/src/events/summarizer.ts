import type { JsonValue } from '../model/json.js';

/** What the summarizer needs to know about one feature evaluation (spec §6.2, summary events). */
export interface SummarizableEvaluation {
  /** Flag key. */
  key: string;
  contextKinds: readonly string[];
  /** The value returned to the caller (the default on error). */
  value: JsonValue;
  default: JsonValue;
  /** Absent when no variation was chosen. */
  variation?: number;
  /** Flag version; absent for unknown flags. */
  version?: number;
  /** Epoch milliseconds. */
  creationDate: number;
  /** Copied from the flag: its evaluations are never counted. */
  excludeFromSummaries?: boolean;
}

export interface SummaryEvent {
  kind: 'summary';
  startDate: number;
  endDate: number;
  features: Record<string, FlagSummary>;
}

export interface FlagSummary {
  default: JsonValue;
  contextKinds: string[];
  counters: SummaryCounter[];
}

/**
 * One counter of a summary event. `variation` is allowed on unknown-version counters too because
 * LaunchDarkly writes it whenever it is known, independently of the version.
 */
export type SummaryCounter =
  | { value: JsonValue; count: number; variation?: number; version?: number }
  | { value: JsonValue; count: number; variation?: number; unknown: true };

interface CounterState {
  readonly value: JsonValue;
  readonly variation: number | undefined;
  readonly version: number | undefined;
  count: number;
}

interface FlagState {
  readonly default: JsonValue;
  readonly kinds: Set<string>;
  /** Counters indexed by variation, then version; `undefined` keys stand for "absent". */
  readonly index: Map<number | undefined, Map<number | undefined, CounterState>>;
  /** The same counters in creation order, so snapshots list them the way they were first seen. */
  readonly counters: CounterState[];
}

/**
 * Counts feature evaluations into LaunchDarkly summary events. `summarize` runs on every evaluation,
 * so it only does map lookups and never builds composite string keys.
 */
export class EventSummarizer {
  private readonly flags = new Map<string, FlagState>();
  private startDate = Number.POSITIVE_INFINITY;
  private endDate = Number.NEGATIVE_INFINITY;

  summarize(e: SummarizableEvaluation): void {
    if (e.excludeFromSummaries === true) return;
    let flag = this.flags.get(e.key);
    if (flag === undefined) {
      flag = { default: e.default, kinds: new Set(), index: new Map(), counters: [] };
      this.flags.set(e.key, flag);
    }
    const kinds = e.contextKinds;
    for (let i = 0; i < kinds.length; i++) flag.kinds.add(kinds[i]!);

    // Events decoded from JSON (relay) may carry null where the SDK leaves the property out.
    const variation = e.variation ?? undefined;
    const version = e.version ?? undefined;
    let byVersion = flag.index.get(variation);
    if (byVersion === undefined) {
      byVersion = new Map();
      flag.index.set(variation, byVersion);
    }
    const counter = byVersion.get(version);
    if (counter !== undefined) {
      counter.count++;
    } else {
      const created: CounterState = { value: e.value, variation, version, count: 1 };
      byVersion.set(version, created);
      flag.counters.push(created);
    }

    const date = e.creationDate;
    if (date < this.startDate) this.startDate = date;
    if (date > this.endDate) this.endDate = date;
  }

  /** The summary of everything counted since the last reset, or undefined when nothing was counted. */
  snapshot(): SummaryEvent | undefined {
    if (this.flags.size === 0) return undefined;
    const features: Record<string, FlagSummary> = {};
    for (const [key, flag] of this.flags) {
      features[key] = {
        default: flag.default,
        contextKinds: [...flag.kinds],
        counters: flag.counters.map(toCounter),
      };
    }
    return { kind: 'summary', startDate: this.startDate, endDate: this.endDate, features };
  }

  reset(): void {
    this.flags.clear();
    this.startDate = Number.POSITIVE_INFINITY;
    this.endDate = Number.NEGATIVE_INFINITY;
  }

  get empty(): boolean {
    return this.flags.size === 0;
  }
}

// Property order follows LaunchDarkly's output (value, count, variation, version | unknown) so that
// serialized payloads compare equal byte for byte.
function toCounter(state: CounterState): SummaryCounter {
  const out: { value: JsonValue; count: number; variation?: number; version?: number; unknown?: true } = {
    value: state.value,
    count: state.count,
  };
  if (state.variation !== undefined) out.variation = state.variation;
  if (state.version !== undefined) out.version = state.version;
  else out.unknown = true;
  return out as SummaryCounter;
}
