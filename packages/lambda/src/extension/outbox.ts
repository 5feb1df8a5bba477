// The extension's buffer of event payloads and their delivery. Payloads are opaque: the SDK already
// summarised, redacted and serialised them (and maybe gzipped them); the extension only moves bytes
// and headers, so it works for any SDK version that posts to `{eventsUri}/bulk`.

export interface Payload {
  /** Absolute URL to POST to. */
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface OutboxLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface OutboxOptions {
  /** Bytes held before the oldest payloads are dropped; default 8 MiB. */
  maxBytes?: number;
  logger: OutboxLogger;
  /** Replaced in unit tests of the retry rules; the extension uses the global fetch. */
  fetch?: typeof fetch;
}

export interface DrainResult {
  delivered: number;
  /** Refused for good by the events service (bad key, too large, malformed). */
  rejected: number;
  /** Still queued: transient failures, kept for the next drain. */
  remaining: number;
}

export interface OutboxStats {
  received: number;
  delivered: number;
  rejected: number;
  dropped: number;
  queued: number;
  queuedBytes: number;
}

// Status codes that a retry cannot fix. 408 and 429 are not among them: they mean "later".
const PERMANENT = new Set([400, 401, 403, 404, 405, 410, 413, 422]);
const RETRY_DELAYS_MS = [100, 400, 1000];
const CONCURRENCY = 4;

export class Outbox {
  private readonly queue: Payload[] = [];
  private queuedBytes = 0;
  private readonly maxBytes: number;
  private readonly logger: OutboxLogger;
  private readonly fetchImpl: typeof fetch;
  private readonly stats = { received: 0, delivered: 0, rejected: 0, dropped: 0 };
  /** While the service is failing, later drains try each payload once instead of backing off again. */
  private failing = false;

  constructor(options: OutboxOptions) {
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.logger = options.logger;
    this.fetchImpl = options.fetch ?? fetch;
  }

  add(payload: Payload): void {
    this.stats.received += 1;
    this.queue.push(payload);
    this.queuedBytes += payload.body.byteLength;
    // Bounded memory: a long outage of the events service must not take the function down with it.
    while (this.queuedBytes > this.maxBytes && this.queue.length > 1) {
      const oldest = this.queue.shift()!;
      this.queuedBytes -= oldest.body.byteLength;
      this.stats.dropped += 1;
      this.logger.warn(`buffer over ${this.maxBytes} bytes: dropped the oldest payload`);
    }
  }

  get size(): number {
    return this.queue.length;
  }

  snapshot(): OutboxStats {
    return { ...this.stats, queued: this.queue.length, queuedBytes: this.queuedBytes };
  }

  /**
   * Delivers what is queued, including what arrives while it runs, until the queue is empty or
   * `deadline` (epoch ms) passes. Transient failures are retried with backoff inside the deadline;
   * whatever still fails stays queued for the next call.
   */
  async drain(deadline: number): Promise<DrainResult> {
    const result: DrainResult = { delivered: 0, rejected: 0, remaining: 0 };
    const retry: Payload[] = [];
    const worker = async () => {
      for (;;) {
        const payload = this.take();
        if (payload === undefined) return;
        const outcome = await this.deliver(payload, deadline);
        if (outcome === 'delivered') result.delivered += 1;
        else if (outcome === 'rejected') result.rejected += 1;
        else retry.push(payload);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    // Put the failures back in front, in their original order, ahead of anything newer.
    for (const payload of retry.reverse()) {
      this.queue.unshift(payload);
      this.queuedBytes += payload.body.byteLength;
    }
    this.failing = retry.length > 0;
    result.remaining = this.queue.length;
    return result;
  }

  private take(): Payload | undefined {
    const payload = this.queue.shift();
    if (payload !== undefined) this.queuedBytes -= payload.body.byteLength;
    return payload;
  }

  private async deliver(payload: Payload, deadline: number): Promise<'delivered' | 'rejected' | 'failed'> {
    const delays = this.failing ? [] : RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt += 1) {
      const left = deadline - Date.now();
      if (left <= 0) return 'failed';
      let problem: string;
      try {
        const response = await this.fetchImpl(payload.url, {
          method: 'POST',
          headers: payload.headers,
          body: payload.body,
          signal: AbortSignal.timeout(Math.min(left, 10_000)),
        });
        // The body is not needed, but reading it lets the connection be reused.
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          this.stats.delivered += 1;
          return 'delivered';
        }
        if (PERMANENT.has(response.status)) {
          this.stats.rejected += 1;
          this.logger.warn(`events service refused a payload with ${response.status}; dropped`);
          return 'rejected';
        }
        problem = `status ${response.status}`;
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      const delay = delays[attempt];
      if (delay === undefined || Date.now() + delay >= deadline) {
        this.logger.warn(`delivering a payload failed (${problem}); kept for later`);
        return 'failed';
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
