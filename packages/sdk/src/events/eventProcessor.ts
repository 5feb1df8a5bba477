import {
  type Context,
  ContextRedactor,
  EventSummarizer,
  isExperiment,
  type JsonValue,
  type SummarizableEvaluation,
} from '@flagstaff/eval';
import type { LDLogger } from '../api/logger.js';
import type { Config } from '../options/config.js';
import { ContextDeduplicator } from './contextDeduplicator.js';
import { type DiagnosticStatsEvent, DiagnosticsRecorder, describeDataStore } from './diagnostics.js';
import { EventSender } from './eventSender.js';
import {
  ContextSnapshot,
  type OutputEvent,
  type QueuedEvent,
  type QueuedFeatureEvent,
  shouldSample,
  snapshotContext,
  toOutputEvent,
} from './queuedEvents.js';
import type {
  EvaluationEvent,
  EventProcessor,
  EventProcessorOptions,
  FlushResult,
  StreamInitInfo,
} from './types.js';

const DEFAULT_RETRY_DELAY_MS = 1000;
// Config allows zero intervals; a timer firing continuously would only burn CPU.
const MIN_INTERVAL_MS = 10;

/**
 * The event pipeline of one client (spec §6). Returns a processor that records nothing when events
 * are off (`sendEvents: false` or `offline`).
 */
export function createEventProcessor(config: Config, options: EventProcessorOptions = {}): EventProcessor {
  if (!config.sendEvents || config.offline) return new NoopEventProcessor();
  return new DefaultEventProcessor(config, options);
}

class NoopEventProcessor implements EventProcessor {
  recordEvaluation(): void {}
  recordIdentify(): void {}
  recordCustom(): void {}
  recordStreamInit(): void {}
  flush(): Promise<FlushResult> {
    return Promise.resolve({ delivered: 0, dropped: 0 });
  }
  close(): Promise<FlushResult> {
    return Promise.resolve({ delivered: 0, dropped: 0 });
  }
}

/** The evaluation handed to the summarizer; one object reused for every evaluation (see below). */
interface SummaryInput extends SummarizableEvaluation {
  key: string;
  contextKinds: readonly string[];
  value: JsonValue;
  default: JsonValue;
  variation: number | undefined;
  version: number | undefined;
  creationDate: number;
}

class DefaultEventProcessor implements EventProcessor {
  private readonly logger: LDLogger;
  private readonly now: () => number;
  private readonly capacity: number;
  private readonly summarizer = new EventSummarizer();
  private readonly redactor: ContextRedactor;
  private readonly dedup: ContextDeduplicator;
  private readonly sender: EventSender;
  private readonly diagnostics: DiagnosticsRecorder | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  // Summarizing is the one thing every evaluation does, so it allocates nothing: the summarizer
  // copies the fields it keeps (value, default, kinds) and never holds on to its argument.
  private readonly summaryInput: SummaryInput = {
    key: '',
    contextKinds: [],
    value: null,
    default: null,
    variation: undefined,
    version: undefined,
    creationDate: 0,
  };

  private queue: QueuedEvent[] = [];
  /** False once closed or permanently refused: records are ignored. */
  private accepting = true;
  private closing: Promise<FlushResult> | undefined;
  private fatalError: Error | undefined;
  /** The last server `Date` seen, so a fast local clock cannot extend debugging (spec §6.5). */
  private lastKnownPastTime = 0;
  /** Lost since the last flush: reported by the next one. */
  private droppedSinceFlush = 0;
  private overflowing = false;

  // Statistics for the periodic diagnostic event.
  private droppedForDiagnostics = 0;
  private deduplicatedUsers = 0;
  private eventsInLastBatch = 0;
  private diagnosticDue = false;

  // Flushes run one at a time: `inFlight` is delivering, `waiting` starts when it ends and takes its
  // batch only then, so every caller that joins it gets everything recorded before its call.
  private inFlight: Promise<FlushResult> | undefined;
  private waiting: Promise<FlushResult> | undefined;

  constructor(config: Config, options: EventProcessorOptions) {
    this.logger = config.logger;
    this.now = options.now ?? Date.now;
    this.capacity = config.capacity;
    this.redactor = new ContextRedactor({
      allAttributesPrivate: config.allAttributesPrivate,
      privateAttributes: config.privateAttributes,
    });
    this.dedup = new ContextDeduplicator(config.contextKeysCapacity);
    this.sender = new EventSender(config, options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);

    // Every timer is unref'd: none of them may keep a script or a Lambda invocation alive.
    this.every(config.flushIntervalMs, () => this.onFlushTimer());
    this.every(config.contextKeysFlushIntervalMs, () => this.dedup.reset());
    if (!config.diagnosticOptOut) {
      const diagnostics = new DiagnosticsRecorder(
        config,
        this.now,
        options.dataStoreType ?? describeDataStore(config),
      );
      this.diagnostics = diagnostics;
      this.postDiagnostic(diagnostics.initEvent());
      this.every(config.diagnosticRecordingIntervalMs, () => this.onDiagnosticTimer());
    }
  }

  recordEvaluation(e: EvaluationEvent): void {
    if (!this.accepting) return;
    const flag = e.flag;
    const context = e.context;
    let date = e.creationDate;

    if (flag === undefined || flag.excludeFromSummaries !== true) {
      const s = this.summaryInput;
      s.key = e.flagKey;
      s.contextKinds = context.kinds;
      s.value = e.value;
      s.default = e.default;
      s.variation = e.variation;
      s.version = flag?.version;
      s.creationDate = date ?? this.summaryDate();
      this.summarizer.summarize(s);
    }

    let snapshot: ContextSnapshot | undefined;
    if (this.dedup.add(context.canonicalKey)) {
      date ??= this.clock();
      snapshot = this.snapshot(context);
      this.enqueue({ kind: 'index', creationDate: date, context: snapshot });
    } else {
      this.deduplicatedUsers++;
    }

    // Unknown flags are only summarized; LaunchDarkly's SDK sends no full event for them either.
    if (flag === undefined) return;
    const experiment = isExperiment(flag, e.reason);
    const tracked = experiment || flag.trackEvents === true;
    const until = flag.debugEventsUntilDate;
    let debug = false;
    if (typeof until === 'number' && until > this.lastKnownPastTime) {
      date ??= this.clock();
      debug = until > date;
    }
    // Sampled before anything is built: a flag sampled at 1/N keeps the hot path cheap too.
    const full = tracked && shouldSample(flag.samplingRatio);
    debug &&= shouldSample(flag.samplingRatio);
    if (!full && !debug) return;

    const feature: QueuedFeatureEvent = {
      kind: 'feature',
      creationDate: date ?? this.clock(),
      context: snapshot ?? this.snapshot(context),
      key: e.flagKey,
      value: e.value,
      default: e.default,
      variation: e.variation,
      version: flag.version,
      reason: e.withReason || experiment ? e.reason : undefined,
      prereqOf: e.prereqOf,
      samplingRatio: flag.samplingRatio,
    };
    if (full) this.enqueue(feature);
    if (debug) this.enqueue({ ...feature, kind: 'debug' });
  }

  private clock(): number {
    return this.now();
  }

  /**
   * The time counted into the summary's start and end dates: read on every evaluation so that the end
   * date is exact (spec §6.2). Sharing one reading between evaluations saves ~30 ns but can move the end
   * date back by as long as an invocation, which matters to the Lambda users this SDK is for.
   */
  private summaryDate(): number {
    return this.clock();
  }

  recordIdentify(context: Context): void {
    if (!this.accepting) return;
    // An identified context needs no index event later; identify does not count as deduplicated.
    this.dedup.add(context.canonicalKey);
    this.enqueue({ kind: 'identify', creationDate: this.clock(), context: this.snapshot(context) });
  }

  recordCustom(key: string, context: Context, data?: unknown, metricValue?: number): void {
    if (!this.accepting) return;
    const creationDate = this.clock();
    const snapshot = this.snapshot(context);
    if (this.dedup.add(context.canonicalKey)) {
      this.enqueue({ kind: 'index', creationDate, context: snapshot });
    } else {
      this.deduplicatedUsers++;
    }
    this.enqueue({
      kind: 'custom',
      creationDate,
      context: snapshot,
      key,
      // Serialized at flush time, like LaunchDarkly's SDK does; callers hand it over with the call.
      data,
      metricValue: typeof metricValue === 'number' ? metricValue : undefined,
    });
  }

  recordStreamInit(info: StreamInitInfo): void {
    if (this.accepting) this.diagnostics?.recordStreamInit(info);
  }

  flush(): Promise<FlushResult> {
    if (this.waiting !== undefined) return this.waiting;
    const inFlight = this.inFlight;
    if (inFlight === undefined) return this.startFlush();
    const next = inFlight.then(() => {
      this.waiting = undefined;
      return this.startFlush();
    });
    this.waiting = next;
    return next;
  }

  close(): Promise<FlushResult> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<FlushResult> {
    this.accepting = false;
    this.stopTimers();
    const result = await this.flush();
    this.sender.stop();
    return result;
  }

  private get busy(): boolean {
    return this.inFlight !== undefined || this.waiting !== undefined;
  }

  private startFlush(): Promise<FlushResult> {
    const run: Promise<FlushResult> = this.deliver().finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  /** One flush: takes the queue and the summary, posts them as one payload. Never rejects. */
  private async deliver(): Promise<FlushResult> {
    let dropped = this.droppedSinceFlush;
    this.droppedSinceFlush = 0;
    if (this.fatalError !== undefined) return { delivered: 0, dropped, error: this.fatalError };
    try {
      const events = this.takeBatch();
      if (events.length === 0) return { delivered: 0, dropped };
      const { body, count } = this.serialize(events);
      dropped += events.length - count;
      if (count === 0) return { delivered: 0, dropped };
      this.eventsInLastBatch = count;

      const result = await this.sender.postEvents(body);
      if (result.status === 'delivered') {
        if (result.serverTime !== undefined) this.lastKnownPastTime = result.serverTime;
        return { delivered: count, dropped };
      }
      dropped += count;
      const error = result.error ?? new Error('events were not delivered');
      if (result.status === 'fatal') this.disable(error);
      else this.logger.warn(`Dropped ${count} analytics events: ${error.message}`);
      return { delivered: 0, dropped, error };
    } catch (err) {
      // Only a bug gets here; the events taken are lost, the processor keeps working.
      const error = err instanceof Error ? err : new Error(String(err));
      this.logger.error(`Flushing analytics events failed: ${error.message}`);
      return { delivered: 0, dropped, error };
    }
  }

  /** The output events of the next payload: the queue in recording order, then the summary. */
  private takeBatch(): unknown[] {
    const queue = this.queue;
    this.queue = [];
    const summary = this.summarizer.snapshot();
    this.summarizer.reset();
    const out: unknown[] = [];
    for (let i = 0; i < queue.length; i++) out.push(toOutputEvent(queue[i]!, this.redactor));
    if (summary !== undefined) out.push(summary);
    return out;
  }

  /**
   * JSON of the payload. Custom event data and JSON flag values come from the caller and may not
   * serialize (cycles, BigInt); only those events are dropped, not the whole payload.
   */
  private serialize(events: unknown[]): { body: string; count: number } {
    try {
      return { body: JSON.stringify(events), count: events.length };
    } catch {
      const parts: string[] = [];
      for (const event of events) {
        try {
          parts.push(JSON.stringify(event));
        } catch (err) {
          const kind = (event as OutputEvent).kind;
          this.logger.warn(`Dropped a ${kind} event that cannot be serialized: ${String(err)}`);
        }
      }
      return { body: `[${parts.join(',')}]`, count: parts.length };
    }
  }

  /** 401, 403 and the like: the service refuses this SDK key, so nothing will ever be sent again. */
  private disable(error: Error): void {
    if (this.fatalError !== undefined) return;
    this.fatalError = error;
    this.accepting = false;
    this.queue = [];
    this.summarizer.reset();
    this.stopTimers();
    this.sender.stop();
    this.logger.error(
      `Analytics events are disabled for this client: ${error.message}. This usually means the SDK key is invalid.`,
    );
  }

  private enqueue(event: QueuedEvent): void {
    if (this.queue.length < this.capacity) {
      this.queue.push(event);
      this.overflowing = false;
      return;
    }
    this.droppedSinceFlush++;
    this.droppedForDiagnostics++;
    if (!this.overflowing) {
      this.overflowing = true;
      this.logger.warn(
        'Exceeded the event queue capacity; events are dropped. Raise "capacity" to keep them.',
      );
    }
  }

  /**
   * Redaction happens at flush time (see ContextSnapshot), so the context is copied now. Only events
   * of one record call share a snapshot: the same Context instance may be passed again after the
   * caller has changed its objects.
   */
  private snapshot(context: Context): ContextSnapshot {
    let copy: Context;
    try {
      copy = snapshotContext(context);
    } catch {
      // A throwing getter on the caller's object: keep the live context rather than fail the call.
      copy = context;
    }
    return new ContextSnapshot(copy);
  }

  private onFlushTimer(): void {
    // A timer never adds a request while a flush is delivering: in Lambda, whoever awaits that flush
    // may let the environment freeze as soon as it resolves, cutting a second request short.
    if (this.busy) return;
    if (this.diagnosticDue) this.sendDiagnosticStats();
    if (this.queue.length > 0 || !this.summarizer.empty) void this.flush();
  }

  private onDiagnosticTimer(): void {
    // Deferred to an idle flush-timer tick (see onFlushTimer).
    if (this.busy) this.diagnosticDue = true;
    else this.sendDiagnosticStats();
  }

  private sendDiagnosticStats(): void {
    const diagnostics = this.diagnostics;
    this.diagnosticDue = false;
    if (diagnostics === undefined) return;
    const event: DiagnosticStatsEvent = diagnostics.statsEvent(
      this.droppedForDiagnostics,
      this.deduplicatedUsers,
      this.eventsInLastBatch,
    );
    this.droppedForDiagnostics = 0;
    this.deduplicatedUsers = 0;
    this.postDiagnostic(event);
  }

  /** Fire and forget: diagnostics never delay or fail a flush. */
  private postDiagnostic(event: object): void {
    this.sender.postDiagnostic(event).then(
      (result) => {
        if (result.status !== 'delivered') {
          this.logger.debug(`Diagnostic event not delivered: ${result.error?.message ?? 'unknown error'}`);
        }
      },
      (err: unknown) => this.logger.debug(`Diagnostic event not delivered: ${String(err)}`),
    );
  }

  private every(ms: number, tick: () => void): void {
    const timer = setInterval(tick, Math.max(ms, MIN_INTERVAL_MS));
    timer.unref();
    this.timers.push(timer);
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
  }
}
