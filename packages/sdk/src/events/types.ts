import type { Context, Flag, JsonValue, Reason } from '@flagstaff/eval';

/** One flag evaluation as the client reports it (including each prerequisite of the evaluated flag). */
export interface EvaluationEvent {
  context: Context;
  flagKey: string;
  /** The flag that was evaluated; undefined when it was not found (summarized as `unknown: true`). */
  flag: Flag | undefined;
  /** What the caller got: the default when evaluation failed or chose no variation. */
  value: JsonValue;
  default: JsonValue;
  variation: number | undefined;
  reason: Reason;
  /** The call was a `*Detail` variant, so feature events carry the reason. */
  withReason: boolean;
  /** Key of the flag this one is a prerequisite of. */
  prereqOf?: string;
  /** Epoch milliseconds; defaults to the processor's clock. */
  creationDate?: number;
}

export interface FlushResult {
  /** Events posted successfully by this flush (the summary event counts as one). */
  delivered: number;
  /** Events lost since the previous flush: capacity overflow plus payloads that could not be delivered. */
  dropped: number;
  /** The last delivery error, if any; after a permanent failure (401, 403) every flush reports it. */
  error?: Error;
}

/** A stream connection attempt, reported by the streaming data source for diagnostics. */
export interface StreamInitInfo {
  /** Epoch milliseconds when the attempt started. */
  timestamp: number;
  /** True when the attempt failed or timed out before the first `put`. */
  failed: boolean;
  /** Time from the start of the attempt until the first `put` or the failure. */
  durationMillis: number;
}

export interface EventProcessor {
  recordEvaluation(e: EvaluationEvent): void;
  recordIdentify(context: Context): void;
  recordCustom(key: string, context: Context, data?: unknown, metricValue?: number): void;
  /**
   * Posts everything recorded so far plus the summary. Resolves (never rejects) once delivery has
   * succeeded or definitely failed; flushes run one after another, and an empty flush posts nothing.
   */
  flush(): Promise<FlushResult>;
  /** Final flush, then every timer stops; later records are ignored. Idempotent. */
  close(): Promise<FlushResult>;
  /** For the data source; a no-op when diagnostics are off. */
  recordStreamInit?(info: StreamInitInfo): void;
}

export interface EventProcessorOptions {
  /** Clock for creation dates and the debug-event window; default `Date.now`. */
  now?: () => number;
  /**
   * Reported as `dataStoreType` in diagnostics. Default: the configured store's `getDescription()`
   * when the option holds a store instance, `custom` for a store factory, otherwise `memory`.
   */
  dataStoreType?: string;
  /** @internal Delay before the single retry of a failed post; tests shorten it. Default 1000 ms. */
  retryDelayMs?: number;
}

/** The JSON objects posted to `{eventsUri}/bulk` (schema 4), apart from the summary event. */
export interface FeatureEventOutput {
  kind: 'feature' | 'debug';
  creationDate: number;
  context: Record<string, unknown>;
  key: string;
  value: JsonValue;
  default: JsonValue;
  samplingRatio?: number;
  prereqOf?: string;
  variation?: number;
  version?: number;
  reason?: Reason;
}

export interface ContextEventOutput {
  kind: 'index' | 'identify';
  creationDate: number;
  context: Record<string, unknown>;
}

export interface CustomEventOutput {
  kind: 'custom';
  creationDate: number;
  key: string;
  context: Record<string, unknown>;
  data?: unknown;
  metricValue?: number;
}
