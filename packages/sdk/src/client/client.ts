import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  Context,
  ContextError,
  type EvalResult,
  type EvaluationData,
  type EvaluationDetail,
  evaluateWithDefault,
  type Flag,
  isExperiment,
  type JsonValue,
  type VariationType,
} from '@flagstaff/eval';
import type { LDClient, LDContext, LDEvaluationDetail } from '../api/client.js';
import type { DataSource, DataSourceContext, DataSourceFactory } from '../api/dataSource.js';
import type { LDOptions } from '../api/options.js';
import type { LDFeatureStore } from '../api/store.js';
import { pollingDataSource } from '../datasource/polling.js';
import { streamingDataSource } from '../datasource/streaming.js';
import { createEventProcessor, type EventProcessor, type FlushResult } from '../events/index.js';
import { buildConfig, type Config } from '../options/config.js';
import { FEATURES } from '../store/dataKinds.js';
import { InMemoryFeatureStore } from '../store/inMemoryFeatureStore.js';
import { StoreAccess } from '../store/storeAccess.js';
import { StoreUpdates } from '../store/storeUpdates.js';
import { LDClientError, LDTimeoutError } from './errors.js';
import {
  type FlagStateMetadata,
  FlagsState,
  type LDFlagsState,
  type LDFlagsStateOptions,
} from './flagsState.js';

type State = 'initializing' | 'ready' | 'failed' | 'closed';

const NOT_READY = Object.freeze({
  kind: 'ERROR',
  errorKind: 'CLIENT_NOT_READY',
}) as EvaluationDetail['reason'];

const STORE_ERROR = Object.freeze({
  kind: 'ERROR',
  errorKind: 'EXCEPTION',
}) as EvaluationDetail['reason'];

/**
 * The server-side client. Evaluations read the in-memory store synchronously, so `variation()` does one
 * context validation, two Map lookups, the evaluation and the event bookkeeping before it resolves.
 */
export class Client extends EventEmitter implements LDClient {
  private readonly config: Config;
  private readonly store: StoreAccess;
  private readonly events: EventProcessor;
  private readonly dataSource: DataSource | undefined;
  private state: State = 'initializing';
  private failure: Error | undefined;
  private readonly waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(sdkKey: string, options?: LDOptions) {
    super();
    this.config = buildConfig(sdkKey, options);
    const { config } = this;
    this.store = new StoreAccess(resolveStore(config));
    this.events = createEventProcessor(config, {
      dataStoreType: this.store.store.getDescription?.() ?? 'custom',
    });
    const updates = new StoreUpdates(
      this.store,
      () => this.hasUpdateListeners(),
      (keys) => this.emitUpdates(keys),
    );

    if (config.useLdd) {
      // Daemon mode reads the store on every evaluation and ignores `$inited` (spec §7.4): the client
      // is initialized at once, and `ready` fires on the next tick so that listeners added after
      // construction still hear it.
      this.dataSource = undefined;
      this.state = 'ready';
      setImmediate(() => {
        if (this.state === 'ready') this.emit('ready');
      });
      return;
    }
    if (config.offline) {
      // Offline answers defaults.
      this.dataSource = undefined;
      setImmediate(() => this.markReady());
      return;
    }
    const factory: DataSourceFactory =
      config.updateProcessor ?? (config.stream ? streamingDataSource : pollingDataSource);
    const context: DataSourceContext = {
      config,
      logger: config.logger,
      updates,
      status: {
        ready: () => this.markReady(),
        // The data source has already logged the interruption; listeners may still want it.
        interrupted: (error) => {
          if (this.listenerCount('error') > 0) this.emit('error', error);
        },
        failed: (error) => this.markFailed(error),
      },
      onStreamInit: (info) => this.events.recordStreamInit?.(info),
    };
    this.dataSource = factory(context);
    this.dataSource.start();
  }

  initialized(): boolean {
    return this.state === 'ready';
  }

  isOffline(): boolean {
    return this.config.offline;
  }

  waitForInitialization(options?: { timeout?: number }): Promise<LDClient> {
    if (this.state === 'ready') return Promise.resolve(this);
    if (this.state === 'failed' || this.state === 'closed') {
      return Promise.reject(this.failure ?? new LDClientError('the client was closed before it initialized'));
    }
    const timeout = options?.timeout;
    if (timeout === undefined) {
      this.config.logger.warn(
        'waitForInitialization() without a timeout may wait forever; pass { timeout } in seconds',
      );
    }
    return new Promise<LDClient>((resolve, reject) => {
      // This timer is deliberately left referenced: a script awaiting initialization must not exit
      // with the promise pending just because the stream socket does not hold the process open.
      const timer = setTimeout(
        () => {
          if (timeout === undefined) return;
          remove();
          reject(new LDTimeoutError(`waitForInitialization timed out after ${timeout} seconds`));
        },
        timeout === undefined ? 2 ** 31 - 1 : timeout * 1000,
      );
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve(this);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const remove = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      this.waiters.push(waiter);
    });
  }

  variation(
    key: string,
    context: LDContext,
    defaultValue: unknown,
    callback?: (err: Error | null, value: unknown) => void,
  ): Promise<unknown> {
    const result = this.evaluate(key, context, defaultValue as JsonValue, 'any', false);
    return settle(result, (d) => d.value, callback);
  }

  variationDetail(
    key: string,
    context: LDContext,
    defaultValue: unknown,
    callback?: (err: Error | null, detail: LDEvaluationDetail) => void,
  ): Promise<LDEvaluationDetail> {
    return settle(this.evaluate(key, context, defaultValue as JsonValue, 'any', true), (d) => d, callback);
  }

  boolVariation(key: string, context: LDContext, defaultValue: boolean): Promise<boolean> {
    return settle(this.evaluate(key, context, defaultValue, 'boolean', false), (d) => d.value as boolean);
  }

  numberVariation(key: string, context: LDContext, defaultValue: number): Promise<number> {
    return settle(this.evaluate(key, context, defaultValue, 'number', false), (d) => d.value as number);
  }

  stringVariation(key: string, context: LDContext, defaultValue: string): Promise<string> {
    return settle(this.evaluate(key, context, defaultValue, 'string', false), (d) => d.value as string);
  }

  jsonVariation(key: string, context: LDContext, defaultValue: unknown): Promise<unknown> {
    return settle(this.evaluate(key, context, defaultValue as JsonValue, 'any', false), (d) => d.value);
  }

  boolVariationDetail(key: string, context: LDContext, defaultValue: boolean) {
    return settle(
      this.evaluate(key, context, defaultValue, 'boolean', true),
      (d) => d as EvaluationDetail<boolean>,
    );
  }

  numberVariationDetail(key: string, context: LDContext, defaultValue: number) {
    return settle(
      this.evaluate(key, context, defaultValue, 'number', true),
      (d) => d as EvaluationDetail<number>,
    );
  }

  stringVariationDetail(key: string, context: LDContext, defaultValue: string) {
    return settle(
      this.evaluate(key, context, defaultValue, 'string', true),
      (d) => d as EvaluationDetail<string>,
    );
  }

  jsonVariationDetail(key: string, context: LDContext, defaultValue: unknown) {
    return settle(
      this.evaluate(key, context, defaultValue as JsonValue, 'any', true),
      (d) => d as EvaluationDetail<unknown>,
    );
  }

  /**
   * One evaluation with its events (spec §3.9). Synchronous when the store is; otherwise the flag and
   * what it depends on are loaded first.
   */
  private evaluate(
    key: string,
    input: LDContext,
    defaultValue: JsonValue,
    type: VariationType,
    withReason: boolean,
  ): EvaluationDetail | Promise<EvaluationDetail> {
    if (this.config.offline) return { value: defaultValue, variationIndex: null, reason: NOT_READY };
    const context = Context.from(input);
    if (context instanceof ContextError) {
      this.config.logger.warn(
        `Invalid context for flag "${key}": ${context.message}; returning the default value`,
      );
      return {
        value: defaultValue,
        variationIndex: null,
        reason: { kind: 'ERROR', errorKind: 'USER_NOT_SPECIFIED' },
      };
    }
    const syncData = this.store.syncData;
    if (syncData !== undefined) {
      if (this.state !== 'ready' && !this.store.initializedSync()) {
        return { value: defaultValue, variationIndex: null, reason: NOT_READY };
      }
      return this.finish(key, syncData.getFlag(key), context, syncData, defaultValue, type, withReason);
    }
    if (this.state === 'ready') {
      // A store that holds the flag and what it needs in memory answers without a promise.
      let loaded: ReturnType<StoreAccess['loadForEvaluation']>;
      try {
        loaded = this.store.loadForEvaluation(key);
      } catch (error) {
        return this.storeFailed(key, context, defaultValue, withReason, error);
      }
      if (!(loaded instanceof Promise)) {
        return this.finish(key, loaded.flag, context, loaded.data, defaultValue, type, withReason);
      }
      return loaded.then(
        ({ flag, data }) => this.finish(key, flag, context, data, defaultValue, type, withReason),
        (error: unknown) => this.storeFailed(key, context, defaultValue, withReason, error),
      );
    }
    return this.evaluateFromAsyncStore(key, context, defaultValue, type, withReason);
  }

  private async evaluateFromAsyncStore(
    key: string,
    context: Context,
    defaultValue: JsonValue,
    type: VariationType,
    withReason: boolean,
  ): Promise<EvaluationDetail> {
    let loaded: Awaited<ReturnType<StoreAccess['loadForEvaluation']>>;
    try {
      if (this.state !== 'ready' && !(await this.store.initialized())) {
        return { value: defaultValue, variationIndex: null, reason: NOT_READY };
      }
      loaded = await this.store.loadForEvaluation(key);
    } catch (error) {
      return this.storeFailed(key, context, defaultValue, withReason, error);
    }
    return this.finish(key, loaded.flag, context, loaded.data, defaultValue, type, withReason);
  }

  /**
   * The store could not answer and had nothing cached: the default with an `EXCEPTION` error, not
   * `FLAG_NOT_FOUND`, because the flag may well exist. The store has already logged the outage.
   */
  private storeFailed(
    key: string,
    context: Context,
    defaultValue: JsonValue,
    withReason: boolean,
    error: unknown,
  ): EvaluationDetail {
    this.config.logger.debug(
      `Evaluating "${key}": the feature store failed (${error instanceof Error ? error.message : String(error)}); returning the default value`,
    );
    const detail: EvaluationDetail = { value: defaultValue, variationIndex: null, reason: STORE_ERROR };
    this.recordEvents(key, undefined, context, detail, undefined, defaultValue, withReason);
    return detail;
  }

  private finish(
    key: string,
    flag: Flag | undefined,
    context: Context,
    data: EvaluationData,
    defaultValue: JsonValue,
    type: VariationType,
    withReason: boolean,
  ): EvaluationDetail {
    if (this.state !== 'ready') {
      this.config.logger.warn(
        `Evaluating "${key}" from the store's last known data: the client is not initialized`,
      );
    }
    const { detail, evaluation } = evaluateWithDefault(flag, context, data, defaultValue, type);
    if (flag === undefined)
      this.config.logger.info(`Unknown feature flag "${key}"; returning the default value`);
    this.recordEvents(key, flag, context, detail, evaluation, defaultValue, withReason);
    return detail;
  }

  private recordEvents(
    key: string,
    flag: Flag | undefined,
    context: Context,
    detail: EvaluationDetail,
    evaluation: EvalResult | undefined,
    defaultValue: JsonValue,
    withReason: boolean,
  ): void {
    const prerequisites = evaluation?.prerequisiteEvaluations;
    if (prerequisites !== undefined) {
      for (const p of prerequisites) {
        this.events.recordEvaluation({
          context,
          flagKey: p.flag.key,
          flag: p.flag,
          value: p.detail.value,
          default: null,
          variation: p.detail.variationIndex ?? undefined,
          reason: p.detail.reason,
          withReason,
          prereqOf: p.prereqOf,
        });
      }
    }
    this.events.recordEvaluation({
      context,
      flagKey: key,
      flag,
      value: detail.value,
      default: defaultValue,
      variation: detail.variationIndex ?? undefined,
      reason: detail.reason,
      withReason,
    });
  }

  async allFlagsState(
    input: LDContext,
    options: LDFlagsStateOptions = {},
    callback?: (err: Error | null, state: LDFlagsState) => void,
  ): Promise<LDFlagsState> {
    const state = await this.buildFlagsState(input, options);
    callback?.(null, state);
    return state;
  }

  private async buildFlagsState(input: LDContext, options: LDFlagsStateOptions): Promise<LDFlagsState> {
    if (this.config.offline) return new FlagsState(false);
    const context = Context.from(input);
    if (context instanceof ContextError) {
      this.config.logger.warn(`allFlagsState: invalid context (${context.message})`);
      return new FlagsState(false);
    }
    if (this.state !== 'ready') {
      if (!(await this.store.initialized())) {
        this.config.logger.warn('allFlagsState called before the client initialized and the store is empty');
        return new FlagsState(false);
      }
      this.config.logger.warn(
        "allFlagsState called before the client initialized; using the store's last known data",
      );
    }
    let flags: Record<string, Flag>;
    let data: EvaluationData;
    try {
      flags = await this.store.allStrict<Flag>(FEATURES);
      data = this.store.syncData ?? (await this.loadAllData(flags));
    } catch (error) {
      this.config.logger.warn(
        `allFlagsState: the feature store failed (${error instanceof Error ? error.message : String(error)})`,
      );
      return new FlagsState(false);
    }
    const state = new FlagsState(true);
    for (const [key, flag] of Object.entries(flags)) {
      if (options.clientSideOnly && !isClientSide(flag)) continue;
      const { detail, evaluation } = evaluateWithDefault(flag, context, data, null);
      const experiment = isExperiment(flag, detail.reason);
      const tracked = flag.trackEvents === true || experiment;
      const debugging = typeof flag.debugEventsUntilDate === 'number';
      const omitDetails = options.detailsOnlyForTrackedFlags === true && !tracked && !debugging;
      const meta: FlagStateMetadata = {};
      if (detail.variationIndex !== null) meta.variation = detail.variationIndex;
      if (!omitDetails) meta.version = flag.version;
      if (experiment || (options.withReasons && !omitDetails)) meta.reason = detail.reason;
      if (tracked) meta.trackEvents = true;
      if (experiment) meta.trackReason = true;
      if (debugging) meta.debugEventsUntilDate = flag.debugEventsUntilDate as number;
      if (evaluation?.prerequisites?.length) meta.prerequisites = evaluation.prerequisites;
      state.add(key, detail.value, meta);
    }
    return state;
  }

  /** For stores without synchronous reads: every flag and segment, read once. */
  private async loadAllData(flags: Record<string, Flag>): Promise<EvaluationData> {
    const { SEGMENTS } = await import('../store/dataKinds.js');
    const segments = await this.store.allStrict<import('@flagstaff/eval').Segment>(SEGMENTS);
    return { getFlag: (k) => flags[k], getSegment: (k) => segments[k] };
  }

  secureModeHash(input: LDContext): string {
    const context = Context.from(input);
    if (context instanceof ContextError)
      throw new TypeError(`secureModeHash: invalid context (${context.message})`);
    return createHmac('sha256', this.config.sdkKey).update(context.canonicalKey).digest('hex');
  }

  track(key: string, input: LDContext, data?: unknown, metricValue?: number): void {
    const context = Context.from(input);
    if (context instanceof ContextError) {
      this.config.logger.warn(`track("${key}"): invalid context (${context.message}); no event sent`);
      return;
    }
    if (metricValue !== undefined && typeof metricValue !== 'number') {
      this.config.logger.warn(`track("${key}"): metricValue must be a number; it is left out`);
      metricValue = undefined;
    }
    this.events.recordCustom(key, context, data, metricValue);
  }

  identify(input: LDContext): void {
    const context = Context.from(input);
    if (context instanceof ContextError) {
      this.config.logger.warn(`identify: invalid context (${context.message}); no event sent`);
      return;
    }
    this.events.recordIdentify(context);
  }

  async flush(callback?: (err: Error | null, result: FlushResult) => void): Promise<FlushResult> {
    const result = await this.events.flush();
    callback?.(result.error ?? null, result);
    return result;
  }

  async close(): Promise<FlushResult> {
    if (this.state !== 'closed') {
      this.dataSource?.stop();
      const wasReady = this.state === 'ready';
      this.state = 'closed';
      if (!wasReady) this.rejectWaiters(new LDClientError('the client was closed before it initialized'));
    }
    const result = await this.events.close();
    this.store.store.close();
    return result;
  }

  private markReady(): void {
    if (this.state !== 'initializing') return;
    this.state = 'ready';
    for (const w of this.waiters.splice(0)) w.resolve();
    this.emit('ready');
  }

  private markFailed(error: Error): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    const wasReady = this.state === 'ready';
    this.failure = error;
    this.emitError(error);
    if (wasReady) return;
    this.state = 'failed';
    this.rejectWaiters(error);
    this.emit('failed', error);
  }

  private rejectWaiters(error: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(error);
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.config.logger.error(error.message);
  }

  private hasUpdateListeners(): boolean {
    if (this.listenerCount('update') > 0) return true;
    for (const name of this.eventNames())
      if (typeof name === 'string' && name.startsWith('update:')) return true;
    return false;
  }

  private emitUpdates(keys: Set<string>): void {
    for (const key of keys) {
      this.emit('update', { key });
      this.emit(`update:${key}`, { key });
    }
  }
}

function resolveStore(config: Config): LDFeatureStore {
  const option = config.featureStore;
  if (option === undefined) return new InMemoryFeatureStore();
  if (typeof option === 'function') return option({ sdkKey: config.sdkKey, logger: config.logger });
  return option;
}

function isClientSide(flag: Flag): boolean {
  return flag.clientSideAvailability
    ? flag.clientSideAvailability.usingEnvironmentId
    : flag.clientSide === true;
}

/** Turns a sync or async detail into the Promise (and optional callback) the API promises. */
function settle<T>(
  result: EvaluationDetail | Promise<EvaluationDetail>,
  pick: (detail: EvaluationDetail) => T,
  callback?: (err: Error | null, value: T) => void,
): Promise<T> {
  if (result instanceof Promise) {
    return result.then((detail) => {
      const value = pick(detail);
      callback?.(null, value);
      return value;
    });
  }
  const value = pick(result);
  callback?.(null, value);
  return Promise.resolve(value);
}
