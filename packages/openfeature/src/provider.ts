import {
  basicLogger,
  init,
  type LDClient,
  type LDContext,
  type LDLogger,
  type LDOptions,
} from '@flagstaff/node-server-sdk';
import {
  ErrorCode,
  type EvaluationContext,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Paradigm,
  type Provider,
  ProviderEvents,
  ProviderFatalError,
  ProviderNotReadyError,
  type ResolutionDetails,
  type TrackingEventDetails,
} from '@openfeature/server-sdk';
import { toJsonValue, translateContext } from './context.js';
import { type EvaluationOutcome, generalError, toResolution, typeMismatch } from './reasons.js';
import { PROVIDER_NAME, PROVIDER_VERSION, WRAPPER_NAME } from './version.js';

/** Options of a provider that creates its own client: the client's options plus the provider's own. */
export interface FlagstaffProviderOptions extends LDOptions {
  /**
   * Seconds that `initialize()` (and so `OpenFeature.setProviderAndWait`) waits for the client's first flag
   * data before it rejects and the provider goes to the ERROR status. Default 10; 0 does not wait at all.
   */
  initializationTimeout?: number;
}

/** Options of a provider that wraps an existing client, whose own options are already set. */
export type FlagstaffClientProviderOptions = Pick<
  FlagstaffProviderOptions,
  'initializationTimeout' | 'logger'
>;

const DEFAULT_INITIALIZATION_TIMEOUT = 10;
/** Longest delay setTimeout honours; a longer one would fire at once. */
const MAX_INITIALIZATION_TIMEOUT = (2 ** 31 - 1) / 1000;

type Variation<T> = (key: string, context: LDContext, defaultValue: T) => Promise<EvaluationOutcome>;

/**
 * An OpenFeature server provider backed by the Flagstaff server SDK:
 *
 * ```ts
 * await OpenFeature.setProviderAndWait(new FlagstaffProvider(sdkKey, { initializationTimeout: 5 }));
 * const enabled = await OpenFeature.getClient().getBooleanValue('my-flag', false, { targetingKey: 'u1' });
 * ```
 */
export class FlagstaffProvider implements Provider {
  readonly metadata = { name: PROVIDER_NAME } as const;
  readonly runsOn: Paradigm = 'server';
  readonly events = new OpenFeatureEventEmitter();

  private readonly client: LDClient;
  private readonly logger: LDLogger;
  private readonly initializationTimeout: number;
  /** A configuration error found by the constructor, reported by `initialize()` (see the constructor). */
  private readonly configurationError: Error | undefined;
  /**
   * Where `initialize()` stands. While it is pending the OpenFeature SDK turns its outcome into READY or
   * ERROR itself; only after it has failed do the client's own later `ready`/`failed` events need relaying.
   */
  private initialization: 'not started' | 'pending' | 'succeeded' | 'failed' = 'not started';
  private closed = false;
  // Arrow functions, so that onClose() can remove exactly these listeners from a client that may be shared.
  private readonly onUpdate = (change: { key: string }) => this.onFlagChanged(change.key);
  private readonly onReady = () => this.onClientReady();
  private readonly onFailed = (error: Error) => this.onClientFailed(error);

  /** Creates a client with `init(sdkKey, options)`; the provider owns it and closes it in `onClose()`. */
  constructor(sdkKey: string, options?: FlagstaffProviderOptions);
  /**
   * Wraps an existing client (created with `init`, perhaps used directly elsewhere too). The provider still
   * closes it in `onClose()`, which OpenFeature calls on `OpenFeature.close()` or when the provider is replaced.
   */
  constructor(client: LDClient, options?: FlagstaffClientProviderOptions);
  constructor(sdkKeyOrClient: string | LDClient, options: FlagstaffProviderOptions = {}) {
    const { initializationTimeout, ...ldOptions } = options;
    this.logger = options.logger ?? basicLogger();
    this.initializationTimeout = checkTimeout(initializationTimeout, this.logger);

    if (typeof sdkKeyOrClient === 'object' && sdkKeyOrClient !== null) {
      this.client = sdkKeyOrClient;
    } else {
      try {
        this.client = init(sdkKeyOrClient, {
          wrapperName: WRAPPER_NAME,
          wrapperVersion: PROVIDER_VERSION,
          ...ldOptions,
          logger: this.logger,
        });
      } catch (e) {
        // OpenFeature's way to report a provider that cannot work is its status, not a crash at startup: the
        // application keeps running on default values and `setProviderAndWait` rejects with this error. An
        // offline client stands in so that every method still has a client to call.
        this.configurationError = e instanceof Error ? e : new Error(String(e));
        this.client = init('', { offline: true, logger: this.logger });
      }
    }

    this.client.on('update', this.onUpdate).on('ready', this.onReady).on('failed', this.onFailed);
  }

  /** The underlying client, e.g. for `allFlagsState` or `secureModeHash`, which OpenFeature has no call for. */
  getClient(): LDClient {
    return this.client;
  }

  /**
   * Waits for the client's first flag data, at most `initializationTimeout` seconds, and rejects rather than
   * hang when it does not come (no network, wrong URL): with ProviderNotReadyError on timeout (ERROR status;
   * the client keeps trying and the provider emits PROVIDER_READY once it succeeds), with ProviderFatalError
   * when the client has failed for good (e.g. a rejected SDK key) or was closed (FATAL status).
   */
  async initialize(): Promise<void> {
    if (this.configurationError !== undefined) {
      this.initialization = 'failed';
      throw new ProviderFatalError(`Flagstaff provider: ${this.configurationError.message}`, {
        cause: this.configurationError,
      });
    }
    this.initialization = 'pending';
    try {
      await this.client.waitForInitialization({ timeout: this.initializationTimeout });
      this.initialization = 'succeeded';
    } catch (e) {
      this.initialization = 'failed';
      const error = e instanceof Error ? e : new Error(String(e));
      // By name, not class: the client may come from another copy of the SDK (or be LaunchDarkly's own), and
      // both name their timeout error this way.
      if (error.name === 'LaunchDarklyTimeoutError') {
        throw new ProviderNotReadyError(
          `Flagstaff provider: no flag data within the initialization timeout of ` +
            `${this.initializationTimeout} seconds. Evaluations return their default values ` +
            '(PROVIDER_NOT_READY) until the client connects; the provider then emits PROVIDER_READY.',
          { cause: error },
        );
      }
      throw new ProviderFatalError(`Flagstaff provider: the client failed to initialize: ${error.message}`, {
        cause: error,
      });
    }
  }

  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return this.evaluate(flagKey, defaultValue, context, (k, c, d) =>
      this.client.boolVariationDetail(k, c, d),
    );
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return this.evaluate(flagKey, defaultValue, context, (k, c, d) =>
      this.client.stringVariationDetail(k, c, d),
    );
  }

  resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return this.evaluate(flagKey, defaultValue, context, (k, c, d) =>
      this.client.numberVariationDetail(k, c, d),
    );
  }

  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    // The client's JSON method accepts a value of any type, so the object check is the provider's.
    return this.evaluate(
      flagKey,
      defaultValue,
      context,
      (k, c, d) => this.client.jsonVariationDetail(k, c, d),
      (value) => typeof value === 'object' && value !== null,
    );
  }

  /**
   * OpenFeature's tracking API: a custom event with the context's keys, the details' `value` as the metric
   * value (what experiments with numeric metrics read) and the other details as the event's data.
   */
  track(trackingEventName: string, context: EvaluationContext, details?: TrackingEventDetails): void {
    const { context: ldContext } = translateContext(context ?? {}, this.logger);
    const { value, ...rest } = details ?? {};
    const data = Object.keys(rest).length > 0 ? toJsonValue(rest) : undefined;
    this.client.track(trackingEventName, ldContext, data, value);
  }

  /** Stops listening to the client and closes it, which delivers the events still buffered. */
  async onClose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.off('update', this.onUpdate).off('ready', this.onReady).off('failed', this.onFailed);
    try {
      // A LaunchDarkly client's close() returns nothing; ours says whether the last events were delivered.
      const result = (await this.client.close()) as { error?: Error } | undefined;
      if (result?.error !== undefined) {
        this.logger.warn(`Flagstaff provider: events not delivered on close: ${result.error.message}`);
      }
    } catch (e) {
      this.logger.error(
        `Flagstaff provider: closing the client failed: ${e instanceof Error ? e.message : e}`,
      );
    }
  }

  private async evaluate<T>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    variation: Variation<T>,
    acceptsValue?: (value: unknown) => boolean,
  ): Promise<ResolutionDetails<T>> {
    try {
      const { context: ldContext, keyMissing } = translateContext(context ?? {}, this.logger);
      const detail = await variation(flagKey, ldContext, defaultValue);
      if (acceptsValue !== undefined && detail.variationIndex !== null && !acceptsValue(detail.value)) {
        return typeMismatch(defaultValue, flagKey, detail.value);
      }
      return toResolution(detail, flagKey, defaultValue, keyMissing);
    } catch (e) {
      // The client's methods do not reject for evaluation problems; this is a store failure or a bug, and
      // OpenFeature's contract is the default value, not an exception.
      this.logger.error(
        `Flagstaff provider: evaluating "${flagKey}" failed: ${e instanceof Error ? e.message : e}`,
      );
      return generalError(defaultValue, flagKey, e);
    }
  }

  private onFlagChanged(key: string): void {
    this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [key] });
  }

  private onClientReady(): void {
    // The stand-in client of a provider that could not be configured becomes "ready" too; it stays FATAL.
    if (this.initialization !== 'failed' || this.closed || this.configurationError !== undefined) return;
    this.initialization = 'succeeded';
    this.events.emit(ProviderEvents.Ready, { message: 'the client received its flag data after all' });
  }

  private onClientFailed(error: Error): void {
    if (this.initialization !== 'failed' || this.closed) return;
    // The data source has stopped for good (e.g. the SDK key was rejected): nothing will make it ready now.
    this.events.emit(ProviderEvents.Error, {
      message: `Flagstaff provider: the client failed: ${error.message}`,
      errorCode: ErrorCode.PROVIDER_FATAL,
    });
  }
}

function checkTimeout(value: unknown, logger: LDLogger): number {
  if (value === undefined) return DEFAULT_INITIALIZATION_TIMEOUT;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    return Math.min(value, MAX_INITIALIZATION_TIMEOUT);
  }
  // Waiting forever is what this option exists to prevent, so an unusable value gets the default, not that.
  logger.warn(
    `Flagstaff provider: initializationTimeout must be a finite number of seconds >= 0; ` +
      `using ${DEFAULT_INITIALIZATION_TIMEOUT}`,
  );
  return DEFAULT_INITIALIZATION_TIMEOUT;
}
