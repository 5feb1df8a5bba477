import type { ClientRequest, IncomingMessage } from 'node:http';
import type {
  DataSource,
  DataSourceContext,
  DataSourceStatus,
  DataSourceUpdates,
  StreamInitInfo,
} from '../api/dataSource.js';
import type { LDLogger } from '../api/logger.js';
import { defaultHeaders } from '../http/headers.js';
import { openStream } from '../http/request.js';
import { Backoff } from './backoff.js';
import { isPermanentError, statusError } from './errors.js';
import {
  InvalidDataError,
  isObject,
  parseItemPath,
  parseJson,
  readFullDataSet,
  readItem,
} from './payload.js';
import { type SseEvent, SseParser } from './sseParser.js';

/** A stream that sends no byte (not even a heartbeat comment) for this long is presumed dead (spec §4.3). */
export const DEFAULT_READ_TIMEOUT_MS = 5 * 60_000;

/** Settings that are not public options; tests shorten them. */
export interface StreamingInternals {
  readTimeoutMs?: number;
  /** Jitter source for the reconnect backoff. */
  random?: () => number;
}

/** The streaming data source (spec §4.3): `GET {streamUri}/all`, Server-Sent Events. */
export function streamingDataSource(
  context: DataSourceContext,
  internals: StreamingInternals = {},
): DataSource {
  return new StreamingDataSource(context, internals);
}

class StreamingDataSource implements DataSource {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly readTimeoutMs: number;
  private readonly logger: LDLogger;
  private readonly updates: DataSourceUpdates;
  private readonly status: DataSourceStatus;
  private readonly onStreamInit: ((info: StreamInitInfo) => void) | undefined;
  private readonly backoff: Backoff;

  private started = false;
  private stopped = false;
  /**
   * Numbers the connections. Callbacks and queued events carry the number of the connection they
   * belong to, and are ignored once it is no longer current, so a dead connection can never write.
   */
  private connection = 0;
  private request: ClientRequest | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attemptStartedAt: number | undefined;
  private lastEventId = '';
  // Events are applied one at a time, each awaited, so patches reach the store in stream order.
  private queue: { connection: number; event: SseEvent }[] = [];
  private draining = false;

  constructor(context: DataSourceContext, internals: StreamingInternals) {
    const { config } = context;
    const filter = config.payloadFilterKey ? `?filter=${encodeURIComponent(config.payloadFilterKey)}` : '';
    this.url = `${config.streamUri}/all${filter}`;
    // Built once: defaultHeaders warns about invalid application tags, which should not repeat per reconnect.
    this.headers = { ...defaultHeaders(config), accept: 'text/event-stream', 'cache-control': 'no-cache' };
    this.readTimeoutMs = internals.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.logger = context.logger;
    this.updates = context.updates;
    this.status = context.status;
    this.onStreamInit = context.onStreamInit?.bind(context);
    this.backoff = new Backoff({
      initialDelayMs: config.streamInitialReconnectDelayMs,
      random: internals.random,
    });
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.connection += 1;
    this.closeConnection();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.stopped) return;
    const connection = ++this.connection;
    this.attemptStartedAt = Date.now();
    const headers = this.lastEventId ? { ...this.headers, 'last-event-id': this.lastEventId } : this.headers;
    this.logger.debug(`Opening stream connection to ${this.url}`);
    // Armed before the response too, so a server that accepts the connection and then says nothing is caught.
    this.readTimer = setTimeout(
      () => this.fail(connection, new Error(`The stream sent no data for ${this.readTimeoutMs} ms`)),
      this.readTimeoutMs,
    );
    this.readTimer.unref();
    try {
      this.request = openStream(
        this.url,
        headers,
        (res) => this.onResponse(connection, res),
        (err) => this.fail(connection, err),
      );
    } catch (err) {
      // Node refused the URI or a header before sending anything. Reported on a later tick, so that
      // status callbacks never run inside start().
      const error = err instanceof Error ? err : new Error(String(err));
      queueMicrotask(() => this.fail(connection, error));
    }
  }

  private onResponse(connection: number, res: IncomingMessage): void {
    if (connection !== this.connection) {
      res.destroy();
      return;
    }
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      this.fail(connection, statusError(status, 'streaming', this.url));
      return;
    }
    this.logger.info('Opened stream connection');
    this.backoff.succeeded();
    const parser = new SseParser({
      onEvent: (event) => this.enqueue(connection, event),
      onRetry: (delayMs) => this.backoff.setInitialDelay(delayMs),
    });
    res.on('data', (chunk: Buffer) => {
      if (connection !== this.connection) return;
      // Any byte counts as life: heartbeat comments exist to keep this timer from firing.
      this.readTimer?.refresh();
      parser.push(chunk);
    });
    res.on('error', (err) => this.fail(connection, err));
    res.on('close', () => this.fail(connection, new Error('The stream connection was closed')));
  }

  /** Ends the current connection for a reason; retries with backoff unless the reason is permanent. */
  private fail(connection: number, error: Error): void {
    if (this.stopped || connection !== this.connection) return;
    this.connection += 1;
    this.closeConnection();
    this.recordAttempt(true);
    if (isPermanentError(error)) {
      this.logger.error(error.message);
      this.stopped = true;
      this.status.failed(error);
      return;
    }
    const delay = this.backoff.failed();
    const message = `${error.message}; will retry the stream connection in ${delay} ms`;
    if (error instanceof InvalidDataError) this.logger.error(message);
    else this.logger.warn(message);
    this.status.interrupted(error);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }

  private closeConnection(): void {
    clearTimeout(this.readTimer);
    this.readTimer = undefined;
    this.request?.destroy();
    this.request = undefined;
    this.queue = [];
  }

  private recordAttempt(failed: boolean): void {
    if (this.attemptStartedAt === undefined) return;
    const timestamp = this.attemptStartedAt;
    this.attemptStartedAt = undefined;
    this.onStreamInit?.({ timestamp, failed, durationMillis: Date.now() - timestamp });
  }

  private enqueue(connection: number, event: SseEvent): void {
    if (connection !== this.connection) return;
    this.lastEventId = event.lastEventId;
    this.queue.push({ connection, event });
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        if (next.connection !== this.connection) continue;
        try {
          await this.apply(next.event);
        } catch (err) {
          // Invalid data or a failing store: a new connection starts over with a full `put`.
          this.fail(next.connection, err instanceof Error ? err : new Error(String(err)));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async apply(event: SseEvent): Promise<void> {
    const what = `stream "${event.event}" event`;
    switch (event.event) {
      case 'put': {
        const message = parseJson(event.data, what);
        // `path` is not checked: the test harness omits it, and every put is a full data set (spec §4.3).
        const data = readFullDataSet(isObject(message) ? message.data : undefined, `${what} data`);
        this.recordAttempt(false);
        this.logger.debug(
          `Received ${Object.keys(data.flags).length} flags and ${Object.keys(data.segments).length} segments`,
        );
        await this.updates.init(data);
        if (!this.stopped) this.status.ready();
        return;
      }
      case 'patch': {
        const message = parseJson(event.data, what);
        if (!isObject(message)) throw new InvalidDataError(`${what} is not a JSON object`);
        const target = readPath(message.path, what);
        if (target === undefined) {
          this.logger.debug(`Ignoring ${what} for unknown path ${JSON.stringify(message.path)}`);
          return;
        }
        const item = readItem(target.kind, message.data, `${what} data`);
        if (item.key !== target.key) {
          // The path names where the item lives (as in LaunchDarkly's Go SDK and Relay), so it wins.
          this.logger.warn(
            `${what}: item key ${JSON.stringify(item.key)} differs from its path ${message.path}`,
          );
          item.key = target.key;
        }
        await this.updates.upsert(target.kind, item);
        return;
      }
      case 'delete': {
        const message = parseJson(event.data, what);
        if (!isObject(message)) throw new InvalidDataError(`${what} is not a JSON object`);
        const target = readPath(message.path, what);
        if (target === undefined) {
          this.logger.debug(`Ignoring ${what} for unknown path ${JSON.stringify(message.path)}`);
          return;
        }
        const { version } = message;
        if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
          throw new InvalidDataError(`${what} has no valid "version"`);
        }
        await this.updates.upsert(target.kind, { key: target.key, version, deleted: true });
        return;
      }
      default:
        // Newer services may send event kinds this SDK does not know; they are not an error.
        this.logger.debug(`Ignoring unknown stream event "${event.event}"`);
    }
  }
}

function readPath(path: unknown, what: string): ReturnType<typeof parseItemPath> {
  if (typeof path !== 'string') throw new InvalidDataError(`${what} has no "path"`);
  return parseItemPath(path);
}
