import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { defaultHeaders } from '../http/headers.js';
import { HttpStatusError, httpRequest, isRecoverableStatus } from '../http/request.js';
import type { Config } from '../options/config.js';

const gzipAsync = promisify(gzip);

/**
 * `delivered`: the service accepted the payload. `dropped`: it is lost, later payloads may succeed
 * (retry exhausted, 413, ...). `fatal`: the service refuses this SDK key (401, 403, other 4xx), so
 * sending must stop for good.
 */
export type DeliveryStatus = 'delivered' | 'dropped' | 'fatal';

export interface DeliveryResult {
  status: DeliveryStatus;
  error?: Error;
  /** The response's `Date` header (epoch ms) on success: the server clock, for debug events. */
  serverTime?: number;
}

interface PendingSleep {
  timer: NodeJS.Timeout;
  resolve: () => void;
}

/** Posts analytics payloads and diagnostic events (spec §6.1), retrying once after a delay. */
export class EventSender {
  private readonly bulkUrl: string;
  private readonly diagnosticUrl: string;
  private readonly headers: Record<string, string>;
  private readonly backgroundSleeps = new Set<PendingSleep>();
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly retryDelayMs: number,
  ) {
    this.bulkUrl = `${config.eventsUri}/bulk`;
    this.diagnosticUrl = `${config.eventsUri}/diagnostic`;
    this.headers = { ...defaultHeaders(config), 'content-type': 'application/json' };
  }

  /**
   * Posts one analytics payload (a serialized JSON array). The request, and the wait before its
   * retry, keep the process alive: someone may be awaiting the flush in a process with nothing
   * else to do, and it must not exit with the payload half sent.
   */
  async postEvents(body: string): Promise<DeliveryResult> {
    const headers: Record<string, string> = {
      ...this.headers,
      'x-launchdarkly-event-schema': '4',
      // One id per payload, repeated on the retry, so the service can discard a duplicate delivery.
      'x-launchdarkly-payload-id': randomUUID(),
    };
    return this.post(this.bulkUrl, headers, await this.encode(body, headers), true);
  }

  /**
   * Posts one diagnostic event in the background: it never holds the process open, and {@link stop}
   * cancels its pending retry.
   */
  async postDiagnostic(event: object): Promise<DeliveryResult> {
    const headers = { ...this.headers };
    return this.post(this.diagnosticUrl, headers, await this.encode(JSON.stringify(event), headers), false);
  }

  /** Cancels background retry waits; diagnostic posts are not retried from now on. */
  stop(): void {
    this.stopped = true;
    for (const sleep of this.backgroundSleeps) {
      clearTimeout(sleep.timer);
      sleep.resolve();
    }
    this.backgroundSleeps.clear();
  }

  private async encode(body: string, headers: Record<string, string>): Promise<string | Buffer> {
    if (!this.config.enableEventCompression) return body;
    headers['content-encoding'] = 'gzip';
    return gzipAsync(body);
  }

  private async post(
    url: string,
    headers: Record<string, string>,
    body: string | Buffer,
    foreground: boolean,
  ): Promise<DeliveryResult> {
    const logger = this.config.logger;
    for (let attempt = 1; ; attempt++) {
      let error: Error;
      try {
        const res = await httpRequest(url, {
          method: 'POST',
          headers,
          body,
          timeoutMs: this.config.timeoutMs,
          keepProcessAlive: foreground,
        });
        const status = res.status;
        if (status <= 204) return { status: 'delivered', serverTime: serverTime(res.headers.date) };
        error = new HttpStatusError(status, `HTTP ${status} from ${url}`);
        if (!isRecoverableStatus(status)) {
          // 413 concerns this payload only; any other 4xx means the key is refused (spec §6.1).
          // Other unexpected statuses (3xx: the SDK follows no redirects) lose only this payload.
          const fatal = status >= 400 && status < 500 && status !== 413;
          return { status: fatal ? 'fatal' : 'dropped', error };
        }
      } catch (err) {
        error = err instanceof Error ? err : new Error(String(err));
      }
      if (attempt > 1 || (!foreground && this.stopped)) return { status: 'dropped', error };
      logger.debug(`Posting events failed (${error.message}); retrying once`);
      await this.sleep(foreground);
      if (!foreground && this.stopped) return { status: 'dropped', error };
    }
  }

  private sleep(foreground: boolean): Promise<void> {
    return new Promise((resolve) => {
      if (foreground) {
        setTimeout(resolve, this.retryDelayMs);
        return;
      }
      const pending: PendingSleep = {
        timer: setTimeout(() => {
          this.backgroundSleeps.delete(pending);
          resolve();
        }, this.retryDelayMs),
        resolve,
      };
      pending.timer.unref();
      this.backgroundSleeps.add(pending);
    });
  }
}

function serverTime(date: string | undefined): number | undefined {
  if (date === undefined) return undefined;
  const time = Date.parse(date);
  return Number.isFinite(time) ? time : undefined;
}
