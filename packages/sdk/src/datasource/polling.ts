import type {
  DataSource,
  DataSourceContext,
  DataSourceStatus,
  DataSourceUpdates,
} from '../api/dataSource.js';
import type { LDLogger } from '../api/logger.js';
import { defaultHeaders } from '../http/headers.js';
import { type HttpResponse, httpRequest } from '../http/request.js';
import { isPermanentError, statusError } from './errors.js';
import { parseJson, readFullDataSet } from './payload.js';

/** Settings that are not public options; tests shorten them. */
export interface PollingInternals {
  /** Overrides `config.pollIntervalMs`, whose public minimum (30 s) is too slow for tests. */
  intervalMs?: number;
}

/** The polling data source (spec §4.4): `GET {baseUri}/sdk/latest-all` every poll interval. */
export function pollingDataSource(context: DataSourceContext, internals: PollingInternals = {}): DataSource {
  return new PollingDataSource(context, internals);
}

class PollingDataSource implements DataSource {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly logger: LDLogger;
  private readonly updates: DataSourceUpdates;
  private readonly status: DataSourceStatus;

  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: AbortController | undefined;
  /** The ETag of the data last stored; only then may a 304 stand for it. */
  private etag: string | undefined;

  constructor(context: DataSourceContext, internals: PollingInternals) {
    const { config } = context;
    const filter = config.payloadFilterKey ? `?filter=${encodeURIComponent(config.payloadFilterKey)}` : '';
    this.url = `${config.baseUri}/sdk/latest-all${filter}`;
    this.headers = { ...defaultHeaders(config), accept: 'application/json' };
    this.intervalMs = internals.intervalMs ?? config.pollIntervalMs;
    this.timeoutMs = config.timeoutMs;
    this.logger = context.logger;
    this.updates = context.updates;
    this.status = context.status;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    const startedAt = Date.now();
    try {
      await this.pollOnce();
    } catch (err) {
      // Only the store can throw here; the next poll brings the full data set again (no ETag was kept).
      if (!this.stopped) {
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger.error(`Storing polled data failed: ${error.message}`);
        this.status.interrupted(error);
      }
    }
    if (this.stopped) return;
    // The interval runs from the start of the previous request, so slow responses do not stretch it.
    const delay = Math.max(0, startedAt + this.intervalMs - Date.now());
    this.logger.debug(`Next poll in ${delay} ms`);
    this.timer = setTimeout(() => void this.poll(), delay);
    this.timer.unref();
  }

  /** A failed poll: stops polling for good when retrying cannot help, else waits for the next interval. */
  private report(error: Error, message: string): void {
    if (isPermanentError(error)) {
      this.logger.error(message);
      this.stopped = true;
      this.status.failed(error);
    } else {
      this.logger.warn(`${message}; will retry`);
      this.status.interrupted(error);
    }
  }

  private async pollOnce(): Promise<void> {
    const headers = this.etag === undefined ? this.headers : { ...this.headers, 'if-none-match': this.etag };
    const abort = new AbortController();
    this.inFlight = abort;
    let res: HttpResponse;
    try {
      res = await httpRequest(this.url, { headers, timeoutMs: this.timeoutMs, signal: abort.signal });
    } catch (err) {
      if (this.stopped) return;
      const error = err instanceof Error ? err : new Error(String(err));
      this.report(error, `Polling request ${this.url} failed: ${error.message}`);
      return;
    } finally {
      if (this.inFlight === abort) this.inFlight = undefined;
    }
    if (this.stopped) return;

    if (res.status === 304) {
      this.logger.debug('Polling: data not modified');
      this.status.ready();
      return;
    }
    if (res.status !== 200) {
      const error = statusError(res.status, 'polling', this.url);
      this.report(error, error.message);
      return;
    }
    let data: ReturnType<typeof readFullDataSet>;
    try {
      data = readFullDataSet(parseJson(res.body, 'The polling response'), 'The polling response');
    } catch (err) {
      const error = err as Error;
      this.logger.error(`${error.message}; will retry`);
      this.status.interrupted(error);
      return;
    }
    // Forgotten first: if storing fails part-way, a 304 must not vouch for what the store holds.
    this.etag = undefined;
    await this.updates.init(data);
    const etag = res.headers.etag;
    this.etag = typeof etag === 'string' && etag !== '' ? etag : undefined;
    if (!this.stopped) this.status.ready();
  }
}
