// The Lambda handler wrapper: one SDK client per execution environment, initialisation that never
// hangs an invocation, and an event-flush policy that does not lose analytics events when Lambda
// freezes or ends the environment.

import type { LDClient, LDLogger, LDOptions } from '@flagstaff/node-server-sdk';
import { basicLogger, init } from '@flagstaff/node-server-sdk';
import { announceHandoff, findExtension, handoffEventsUri, signalDone } from './extension/runtimeSide.js';

/**
 * When events are delivered.
 * - `invocation`: after every invocation (before it returns). No loss, costs one round trip each time.
 * - `shutdown`: once, on SIGTERM before the environment ends. No per-invocation latency, but Lambda
 *   only sends SIGTERM to functions that have an extension registered, and events stay buffered while
 *   the environment is frozen (the analytics arrive late, and the buffer's capacity applies).
 * - `extension`: hand events over loopback to the Flagstaff extension (shipped in the layer), which
 *   delivers them after the response and drains its buffer on SHUTDOWN. The default when the
 *   extension runs in the environment; without it, `invocation` is used.
 */
export type FlushPolicy = 'invocation' | 'shutdown' | 'extension';

export interface WithFlagsOptions {
  /** Default: `FLAGSTAFF_SDK_KEY`, then `LAUNCHDARKLY_SDK_KEY`. Given here, the client starts at import. */
  sdkKey?: string;
  /** Passed to `init`. */
  sdkOptions?: LDOptions;
  /** How long the first invocation waits for flag data before serving defaults; default 1000. */
  initTimeoutMs?: number;
  /** Default `extension` when the Flagstaff extension runs in this environment, else `invocation`. */
  flush?: FlushPolicy;
  /**
   * Data older than this is refreshed (by re-creating the client) before the handler runs; default
   * 5 minutes, 0 disables. A thawed environment holds a stream that died while it was frozen, and the
   * SDK cannot tell; the age is the only signal we have that does not cost a request per invocation.
   */
  maxDataAgeMs?: number;
  /** Default: `sdkOptions.logger`, else the SDK's basic logger. Also given to the SDK if it has none. */
  logger?: LDLogger;
}

/** AWS's handler shape without depending on `@types/aws-lambda`. */
export type Handler<E = unknown, C = unknown, R = unknown> = (event: E, context: C) => R | Promise<R>;

const DEFAULT_INIT_TIMEOUT_MS = 1000;
const DEFAULT_MAX_DATA_AGE_MS = 5 * 60 * 1000;

// Module scope is the execution environment's scope: it survives between invocations of a warm
// environment, and a new environment loads the module afresh.
interface EnvironmentState {
  client: LDClient | undefined;
  logger: LDLogger;
  /** Whether an invocation has already waited for initialisation (only the first one waits). */
  waitedForInit: boolean;
  /** When the data was last known current (`ready` or an `update` from the data source). */
  freshAt: number | undefined;
  /** When the current client was created: the refresh clock for a client that never got data. */
  createdAt: number;
  /** Old clients still delivering their events after a refresh; SIGTERM waits for them too. */
  closing: Set<Promise<unknown>>;
  pending: Promise<void> | undefined;
  sigtermRegistered: boolean;
  extensionWarned: boolean;
  /** The flush policy in force (the last `withFlags` call decides). */
  policy: FlushPolicy;
  /** The extension's loopback port under the `extension` policy. */
  extensionPort: number | undefined;
}

const env: EnvironmentState = {
  client: undefined,
  logger: basicLogger(),
  waitedForInit: false,
  freshAt: undefined,
  createdAt: 0,
  closing: new Set(),
  pending: undefined,
  sigtermRegistered: false,
  extensionWarned: false,
  policy: 'invocation',
  extensionPort: undefined,
};

/**
 * Wraps a Lambda handler. The wrapped handler returns (or throws) what `handler` does; around it, the
 * client is created and initialised, kept fresh, and its events are flushed according to `flush`.
 */
export function withFlags<E, C, R>(handler: Handler<E, C, R>, options: WithFlagsOptions = {}) {
  env.logger = options.logger ?? options.sdkOptions?.logger ?? env.logger;
  const policy = choosePolicy(options.flush);
  env.policy = policy;
  if (policy === 'shutdown' || policy === 'extension') registerSigterm();
  // With an explicit key the connection is opened during Lambda's init phase, overlapping the
  // download of flag data with the rest of the cold start.
  if (options.sdkKey !== undefined && env.client === undefined) createClient(options);

  return async (event: E, context: C): Promise<R> => {
    // One invocation at a time runs in an environment, but a handler that calls itself or a test
    // harness may overlap; the shared promise keeps creation and refresh single.
    env.pending ??= prepare(options).finally(() => {
      env.pending = undefined;
    });
    await env.pending;
    if (policy === 'shutdown') return handler(event, context);
    try {
      return await handler(event, context);
    } finally {
      // Also when the handler throws: the evaluations it made before failing are still counted.
      if (policy === 'extension') {
        // Not awaited: the response goes back at once. Lambda does not freeze the environment until
        // the extension asks for its next event, and the extension waits for this hand-off first, so
        // the runtime's event loop finishes it after the response is sent.
        const client = env.client;
        void flushEvents(client).then(() => handOff(context));
      } else {
        await flushEvents(env.client);
      }
    }
  };
}

/** Settles the flush policy once per `withFlags` call, i.e. while the function module loads. */
function choosePolicy(requested: FlushPolicy | undefined): FlushPolicy {
  if (requested === 'invocation' || requested === 'shutdown') return requested;
  const port = findExtension();
  if (port === undefined) {
    if (requested === 'extension' && !env.extensionWarned) {
      env.extensionWarned = true;
      env.logger.warn(
        'withFlags: flush "extension" asked for, but the Flagstaff extension is not running ' +
          '(is the layer attached?); flushing at the end of every invocation instead',
      );
    }
    return 'invocation';
  }
  env.extensionPort = port;
  announceHandoff();
  return 'extension';
}

/** Under the `extension` policy: the SDK has posted its payloads to the extension; say we are done. */
async function handOff(context: unknown): Promise<void> {
  const requestId = (context as { awsRequestId?: unknown } | undefined)?.awsRequestId;
  if (typeof requestId !== 'string' || env.extensionPort === undefined) return;
  if (!(await signalDone(env.extensionPort, requestId))) {
    env.logger.warn('withFlags: the Flagstaff extension did not take the hand-off signal');
  }
}

/** The environment's client. Throws before the first invocation unless `withFlags` got an `sdkKey`. */
export function getClient(): LDClient {
  if (env.client === undefined) {
    throw new Error('getClient: no client yet; call it inside a handler wrapped with withFlags()');
  }
  return env.client;
}

/**
 * Milliseconds since the flag data was last known current (initialisation or a streamed update), or
 * undefined while the client has no data. A quiet stream also ages the data: the SDK does not tell us
 * about heartbeats, so "no news" and "dead stream" look the same from here.
 */
export function getDataAge(): number | undefined {
  if (env.client === undefined || env.freshAt === undefined) return undefined;
  return Date.now() - env.freshAt;
}

async function prepare(options: WithFlagsOptions): Promise<void> {
  const timeoutMs = options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS;
  if (env.client === undefined) createClient(options);
  if (!env.waitedForInit) {
    // Only the first invocation waits: while the flag service is unreachable, later invocations
    // serve defaults at once instead of each paying the timeout again.
    env.waitedForInit = true;
    await waitForInit(env.client!, timeoutMs);
  } else {
    // In daemon mode the flags come from the persistent store on every read past its cache TTL;
    // there is no stream to go stale, so re-creating the client would only cost a cold start.
    const maxAge = options.sdkOptions?.useLdd ? 0 : (options.maxDataAgeMs ?? DEFAULT_MAX_DATA_AGE_MS);
    const age = Date.now() - (env.freshAt ?? env.createdAt);
    if (maxAge > 0 && age > maxAge) await refresh(options, timeoutMs, age);
  }
  const dataAge = getDataAge();
  env.logger.debug(
    `withFlags: flag data age ${dataAge === undefined ? 'unknown (no data)' : `${dataAge} ms`}`,
  );
}

/**
 * Replaces the client. Re-creating is the simplest refresh that is correct for a stream that may be
 * dead after a thaw: a new client opens a new connection and gets a full data set. The price is one
 * full download per `maxDataAgeMs` even when the old stream was healthy.
 */
async function refresh(options: WithFlagsOptions, timeoutMs: number, age: number): Promise<void> {
  env.logger.debug(`withFlags: flag data is ${age} ms old; re-creating the client`);
  const old = env.client;
  createClient(options);
  const work: Promise<unknown>[] = [waitForInit(env.client!, timeoutMs)];
  if (old !== undefined) {
    // Closing flushes the old client's buffered events. It runs alongside the new connection and
    // the invocation waits for it at most the same timeout; a slower delivery goes on in the
    // background and SIGTERM (under the shutdown policy) waits for it.
    const closing = old
      .close()
      .catch((e: unknown) => env.logger.warn(`withFlags: closing the old client: ${e}`));
    env.closing.add(closing);
    void closing.finally(() => env.closing.delete(closing));
    work.push(withTimeout(closing, timeoutMs));
  }
  await Promise.all(work);
}

function createClient(options: WithFlagsOptions): void {
  const sdkKey = options.sdkKey ?? process.env.FLAGSTAFF_SDK_KEY ?? process.env.LAUNCHDARKLY_SDK_KEY;
  const sdkOptions: LDOptions = { logger: env.logger, ...options.sdkOptions };
  if (env.policy === 'extension' && env.extensionPort !== undefined) {
    // The SDK's ordinary flush then posts to the extension, which forwards to the real events URI.
    sdkOptions.eventsUri = handoffEventsUri(env.extensionPort, options.sdkOptions?.eventsUri);
  }
  let client: LDClient;
  if (sdkKey === undefined || sdkKey === '') {
    // A missing key is a deployment mistake, but failing every invocation over it would turn a flag
    // outage into a service outage: serve defaults and say so loudly.
    env.logger.error('withFlags: no SDK key (set FLAGSTAFF_SDK_KEY); serving default values');
    client = init('', { ...sdkOptions, offline: true });
  } else {
    client = init(sdkKey, sdkOptions);
  }
  env.client = client;
  env.createdAt = Date.now();
  env.freshAt = undefined;
  const markFresh = () => {
    // Events from a replaced client must not make its successor's data look fresh.
    if (env.client === client) env.freshAt = Date.now();
  };
  client.on('ready', markFresh);
  client.on('update', markFresh);
  // No 'error' listener on purpose: without one the SDK logs data-source errors itself.
}

async function waitForInit(client: LDClient, timeoutMs: number): Promise<void> {
  try {
    await client.waitForInitialization({ timeout: timeoutMs / 1000 });
  } catch (e) {
    env.logger.warn(
      `withFlags: flag data not available after ${timeoutMs} ms (${e instanceof Error ? e.message : e}); ` +
        'serving default values until it arrives',
    );
  }
}

async function flushEvents(client: LDClient | undefined): Promise<void> {
  if (client === undefined) return;
  try {
    const result = await client.flush();
    if (result.error !== undefined || result.dropped > 0) {
      env.logger.warn(
        `withFlags: event flush: ${result.dropped} dropped (${result.error?.message ?? 'no error'})`,
      );
    }
  } catch (e) {
    // A flush problem must never replace the handler's own result or error.
    env.logger.warn(`withFlags: event flush failed: ${e}`);
  }
}

function registerSigterm(): void {
  if (env.sigtermRegistered) return;
  env.sigtermRegistered = true;
  // Our listener replaces Node's default "terminate at once", so it must exit itself; Lambda kills the
  // runtime anyway when its share of the shutdown budget is over.
  process.once('SIGTERM', () => {
    const work = [...env.closing];
    if (env.client !== undefined) work.push(env.client.close());
    void Promise.allSettled(work)
      .then(async () => {
        // Under the extension policy the close above only handed the events over; the extension
        // delivers them within its (longer) share of the budget once it hears this.
        if (env.policy === 'extension' && env.extensionPort !== undefined) {
          await signalDone(env.extensionPort, 'shutdown', 200);
        }
      })
      .then(() => process.exit(0));
  });
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
