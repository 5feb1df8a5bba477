import { randomUUID } from 'node:crypto';
import type { RelayEnvironment } from '../environment.js';

export interface EventLogger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/**
 * Counters of one environment, as `stats()` returns them (keyed by environment name). Analytics
 * counts are in events (array elements), diagnostics in payloads. `buffered` is what waits for the next
 * flush. A payload counts as dropped when the buffer was full, when it had an unsupported schema, or
 * when upstream refused it (after the one retry for recoverable failures).
 */
export interface EnvironmentEventStats {
  received: number;
  forwarded: number;
  dropped: number;
  buffered: number;
  diagnosticsReceived: number;
  diagnosticsForwarded: number;
  diagnosticsDropped: number;
}

export type EventForwardingStats = Record<string, EnvironmentEventStats>;

export interface ForwarderOptions {
  eventsUri: string;
  capacity: number;
  retryDelayMs: number;
  requestTimeoutMs: number;
  userAgent: string;
  logger: EventLogger;
}

interface Queue {
  // Grouped by the sender's X-LaunchDarkly-Tags (empty string = none): tags describe the sending
  // application, so payloads from differently tagged senders must not be merged into one post.
  analytics: Map<string, unknown[]>;
  diagnostics: { body: unknown; tags: string }[];
  buffered: number;
  // Whether a "buffer full" warning was logged since the buffer last had room, so an overflow
  // episode logs once rather than once per request.
  overflowing: boolean;
  stats: EnvironmentEventStats;
}

type Outcome = 'ok' | 'retry' | 'fail';

/**
 * Buffers events per environment and posts them to the upstream events service. Never throws into
 * callers: every failure ends as a dropped count plus a log line, since the SDKs were already answered.
 */
export class EventForwarder {
  private readonly queues = new Map<RelayEnvironment, Queue>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly base: string;

  constructor(private readonly options: ForwarderOptions) {
    this.base = options.eventsUri.replace(/\/+$/, '');
  }

  addAnalytics(env: RelayEnvironment, events: readonly unknown[], tags: string | undefined): void {
    const queue = this.queue(env);
    queue.stats.received += events.length;
    const room = Math.max(0, this.options.capacity - queue.buffered);
    const accepted = events.length <= room ? events : events.slice(0, room);
    const dropped = events.length - accepted.length;
    if (dropped > 0) {
      queue.stats.dropped += dropped;
      if (!queue.overflowing) {
        queue.overflowing = true;
        this.options.logger.warn(
          `Event buffer for environment "${env.config.name}" is full (capacity ${this.options.capacity}); dropping events until the next flush`,
        );
      }
    }
    if (accepted.length === 0) return;
    const key = tags ?? '';
    const group = queue.analytics.get(key);
    if (group) group.push(...accepted);
    else queue.analytics.set(key, [...accepted]);
    queue.buffered += accepted.length;
  }

  /** Counts events accepted from a sender but not forwarded (e.g. an unsupported schema). */
  discard(env: RelayEnvironment, count: number): void {
    const queue = this.queue(env);
    queue.stats.received += count;
    queue.stats.dropped += count;
  }

  addDiagnostic(env: RelayEnvironment, body: unknown, tags: string | undefined): void {
    const queue = this.queue(env);
    queue.stats.diagnosticsReceived++;
    // Diagnostics are rare (one at start, then one per interval per SDK); the same capacity bounds
    // them only so that a misbehaving sender cannot grow memory without limit.
    if (queue.diagnostics.length >= this.options.capacity) {
      queue.stats.diagnosticsDropped++;
      return;
    }
    queue.diagnostics.push({ body, tags: tags ?? '' });
  }

  /** Sends everything buffered now; resolves once those posts (and their retries) are done. */
  flush(): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const [env, queue] of this.queues) {
      for (const [tags, events] of queue.analytics)
        sends.push(this.track(this.sendAnalytics(env, queue, events, tags)));
      for (const { body, tags } of queue.diagnostics)
        sends.push(this.track(this.sendDiagnostic(env, queue, body, tags)));
      queue.analytics = new Map();
      queue.diagnostics = [];
      queue.buffered = 0;
      queue.overflowing = false;
    }
    return Promise.all(sends).then(() => undefined);
  }

  /** Flushes and waits for every post still running (including earlier flushes), at most `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = (async () => {
      await this.flush();
      while (this.inFlight.size > 0) await Promise.all(this.inFlight);
      return true as const;
    })();
    try {
      return await Promise.race([done, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  stats(): EventForwardingStats {
    const out: EventForwardingStats = {};
    for (const [env, queue] of this.queues)
      out[env.config.name] = { ...queue.stats, buffered: queue.buffered };
    return out;
  }

  private queue(env: RelayEnvironment): Queue {
    let queue = this.queues.get(env);
    if (!queue) {
      queue = {
        analytics: new Map(),
        diagnostics: [],
        buffered: 0,
        overflowing: false,
        stats: {
          received: 0,
          forwarded: 0,
          dropped: 0,
          buffered: 0,
          diagnosticsReceived: 0,
          diagnosticsForwarded: 0,
          diagnosticsDropped: 0,
        },
      };
      this.queues.set(env, queue);
    }
    return queue;
  }

  private track(promise: Promise<void>): Promise<void> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
    return promise;
  }

  private async sendAnalytics(
    env: RelayEnvironment,
    queue: Queue,
    events: unknown[],
    tags: string,
  ): Promise<void> {
    // Mobile and client-side events are forwarded to /bulk with the SDK key too (LaunchDarkly's relay
    // uses /mobile with the mobile key and /events/bulk/{envId}): Flagstaff's events service accepts
    // every kind of event there, and the SDK key is the one credential every environment has.
    const headers: Record<string, string> = {
      // Always 4: only schema >= 3 payloads are forwarded, and 3 differs from 4 only in fields the
      // events service tolerates either way.
      'X-LaunchDarkly-Event-Schema': '4',
      // One id per forwarded payload, kept on its retry, so upstream can drop a duplicate delivery.
      'X-LaunchDarkly-Payload-ID': randomUUID(),
    };
    const ok = await this.post(env, '/bulk', JSON.stringify(events), headers, tags, 'events');
    if (ok) queue.stats.forwarded += events.length;
    else queue.stats.dropped += events.length;
  }

  private async sendDiagnostic(
    env: RelayEnvironment,
    queue: Queue,
    body: unknown,
    tags: string,
  ): Promise<void> {
    const ok = await this.post(env, '/diagnostic', JSON.stringify(body), {}, tags, 'diagnostic event');
    if (ok) queue.stats.diagnosticsForwarded++;
    else queue.stats.diagnosticsDropped++;
  }

  /** Posts with one retry after `retryDelayMs` on recoverable failures; returns whether it was delivered. */
  private async post(
    env: RelayEnvironment,
    path: string,
    body: string,
    extraHeaders: Record<string, string>,
    tags: string,
    what: string,
  ): Promise<boolean> {
    const headers: Record<string, string> = {
      Authorization: env.config.sdkKey,
      'Content-Type': 'application/json',
      'User-Agent': this.options.userAgent,
      ...extraHeaders,
    };
    if (tags) headers['X-LaunchDarkly-Tags'] = tags;
    const url = `${this.base}${path}`;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(url, headers, body, env, what);
      if (outcome === 'ok') return true;
      if (outcome === 'fail' || attempt >= 2) {
        if (outcome === 'retry') {
          this.options.logger.error(
            `Dropping ${what} for environment "${env.config.name}" after a failed retry`,
          );
        }
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs));
    }
  }

  private async attempt(
    url: string,
    headers: Record<string, string>,
    body: string,
    env: RelayEnvironment,
    what: string,
  ): Promise<Outcome> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      // The body is not needed, but must be consumed so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
      if (response.status < 300) return 'ok';
      const recoverable = response.status === 408 || response.status === 429 || response.status >= 500;
      this.options.logger.warn(
        `Upstream answered ${response.status} to ${what} for environment "${env.config.name}"${recoverable ? '' : '; dropping'}`,
      );
      return recoverable ? 'retry' : 'fail';
    } catch (error) {
      this.options.logger.warn(
        `Could not post ${what} for environment "${env.config.name}": ${(error as Error).message}`,
      );
      return 'retry';
    }
  }
}
