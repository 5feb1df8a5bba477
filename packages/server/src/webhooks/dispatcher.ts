import { randomUUID } from 'node:crypto';
import type { CommittedChange, ServerContext } from '../context.js';
import { webhookId } from '../domain/ids.js';
import type { Webhook } from '../domain/types.js';
import { signBody } from './signature.js';

export const USER_AGENT = 'Flagstaff-Webhook/0.1';
const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000];
const DEFAULT_TIMEOUT_MS = 10_000;
/** A receiver asking for more patience than this (Retry-After) is not waited for longer. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
const EXCERPT_BYTES = 512;

/** The JSON body every webhook receives. */
export interface WebhookPayload {
  kind: 'flag' | 'segment';
  action: string;
  project: string;
  environment?: string;
  key: string;
  actor: CommittedChange['actor'];
  comment?: string;
  /** When the delivery was created (epoch ms); retries resend the same body. */
  date: number;
  /** LaunchDarkly JSON of the resource after and before the change (null when created or deleted). */
  current: unknown;
  previous: unknown;
}

/** One attempt, as stored in the `webhook_deliveries` log (scope `<project>/<webhookId>`). */
export interface DeliveryRecord {
  /** Shared by all attempts of one delivery; also sent as X-Flagstaff-Delivery. */
  deliveryId: string;
  webhookId: string;
  /** 1 for the first try. */
  attempt: number;
  status: 'succeeded' | 'failed';
  /** Another attempt is scheduled after this one. */
  willRetry: boolean;
  nextAttemptAt?: number;
  responseCode?: number;
  durationMs: number;
  error?: string;
  /** The start of the receiver's answer when it failed, to debug receivers. */
  responseExcerpt?: string;
  url: string;
  event: { kind: string; action: string; key: string; environment?: string };
}

export interface WebhookDispatcherOptions {
  /** Waits before the 2nd, 3rd, ... attempt. Default 1 s, 5 s, 30 s (four attempts in all). */
  retryDelaysMs?: readonly number[];
  /** Per attempt, including reading the answer. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Where failures of the dispatcher itself (not of receivers) are reported. Default: console. */
  logger?: { warn(message: string): void };
}

interface AttemptResult {
  ok: boolean;
  retryable: boolean;
  responseCode?: number;
  error?: string;
  excerpt?: string;
  retryAfterMs?: number;
}

/**
 * Delivers flag and segment changes to a project's webhooks. Wire it as `ctx.onCommitted`: `handle`
 * returns at once and never throws, so a slow or broken receiver cannot delay or fail the admin write
 * that caused the change. Network errors, timeouts, 5xx and 429 are retried with backoff; other answers
 * are final. Waits between retries do not keep the process alive, and `close()` cancels them.
 */
export class WebhookDispatcher {
  private readonly retryDelays: readonly number[];
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly logger: { warn(message: string): void };
  private readonly tasks = new Set<Promise<void>>();
  private readonly wakers = new Set<() => void>();
  private readonly requests = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly ctx: ServerContext,
    options: WebhookDispatcherOptions = {},
  ) {
    this.retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.logger = options.logger ?? console;
  }

  handle(change: CommittedChange): void {
    if (this.closed || (change.kind !== 'flag' && change.kind !== 'segment')) return;
    const task = this.dispatch(change, change.kind).catch((err: unknown) => {
      this.logger.warn(`webhooks: dispatching ${change.kind} "${change.key}" failed: ${describe(err)}`);
    });
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  /** Resolves when every delivery started so far has finished, retries included. */
  async idle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  /** Cancels pending retries and in-flight requests; resolves once their outcomes are logged. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.wakers) wake();
    for (const request of this.requests) request.abort();
    await this.idle();
  }

  private async dispatch(change: CommittedChange, kind: 'flag' | 'segment'): Promise<void> {
    const hooks = await this.ctx.storage.list<Webhook>('webhooks', { prefix: `${change.projectKey}/` });
    const enabled = hooks.filter((doc) => doc.value.enabled);
    if (enabled.length === 0) return;
    const payload: WebhookPayload = {
      kind,
      action: change.action,
      project: change.projectKey,
      ...(change.envKey !== undefined ? { environment: change.envKey } : {}),
      key: change.key,
      actor: change.actor,
      ...(change.comment !== undefined ? { comment: change.comment } : {}),
      date: this.ctx.now(),
      current: change.current ?? null,
      previous: change.previous ?? null,
    };
    const body = JSON.stringify(payload);
    const event = {
      kind,
      action: change.action,
      key: change.key,
      ...(change.envKey !== undefined ? { environment: change.envKey } : {}),
    };
    await Promise.all(enabled.map((doc) => this.deliver(change.projectKey, doc.value.id, body, event)));
  }

  private async deliver(project: string, id: string, body: string, event: DeliveryRecord['event']) {
    const deliveryId = randomUUID();
    for (let attempt = 1; !this.closed; attempt++) {
      // Re-read before every attempt: a webhook disabled, deleted or re-pointed meanwhile is honoured.
      const doc = await this.ctx.storage.get<Webhook>('webhooks', webhookId(project, id));
      if (!doc?.value.enabled) return;
      const hook = doc.value;
      const started = performance.now();
      const result = await this.post(hook, body, deliveryId);
      const durationMs = Math.round(performance.now() - started);
      const configured = this.retryDelays[attempt - 1];
      const willRetry = result.retryable && configured !== undefined && !this.closed;
      const delay = willRetry ? Math.max(configured, result.retryAfterMs ?? 0) : 0;
      const record: DeliveryRecord = {
        deliveryId,
        webhookId: id,
        attempt,
        status: result.ok ? 'succeeded' : 'failed',
        willRetry,
        ...(willRetry ? { nextAttemptAt: this.ctx.now() + delay } : {}),
        ...(result.responseCode !== undefined ? { responseCode: result.responseCode } : {}),
        durationMs,
        ...(result.error !== undefined ? { error: result.error } : {}),
        ...(result.excerpt ? { responseExcerpt: result.excerpt } : {}),
        url: hook.url,
        event,
      };
      await this.record(project, record);
      if (!willRetry) return;
      await this.sleep(delay);
    }
  }

  private async post(hook: Webhook, body: string, deliveryId: string): Promise<AttemptResult> {
    const controller = new AbortController();
    this.requests.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    timer.unref();
    const signature = signBody(hook.secret, body);
    try {
      const response = await this.fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          'x-flagstaff-signature': `sha256=${signature}`,
          'x-ld-signature': signature,
          'x-flagstaff-delivery': deliveryId,
        },
        body,
        // A redirect would re-send the signed body somewhere the admin did not configure.
        redirect: 'manual',
        signal: controller.signal,
      });
      const status = response.status;
      if (status >= 200 && status < 300) {
        await response.body?.cancel().catch(() => {});
        return { ok: true, retryable: false, responseCode: status };
      }
      const excerpt = await readExcerpt(response);
      const retryable = status >= 500 || status === 429;
      return {
        ok: false,
        retryable,
        responseCode: status,
        error: status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`,
        ...(excerpt ? { excerpt } : {}),
        ...(retryable ? retryAfter(response.headers.get('retry-after')) : {}),
      };
    } catch (err) {
      const error = timedOut
        ? `timed out after ${this.timeoutMs} ms`
        : this.closed
          ? 'cancelled: the dispatcher was closed'
          : describe(err);
      return { ok: false, retryable: !this.closed, error };
    } finally {
      clearTimeout(timer);
      this.requests.delete(controller);
    }
  }

  private async record(project: string, record: DeliveryRecord): Promise<void> {
    try {
      await this.ctx.storage.transaction((tx) =>
        tx.append('webhook_deliveries', `${project}/${record.webhookId}`, record),
      );
    } catch (err) {
      this.logger.warn(`webhooks: recording a delivery to ${record.url} failed: ${describe(err)}`);
    }
  }

  /** A wait that does not keep the process alive and that close() ends early. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.wakers.add(wake);
    });
  }
}

/** Retry-After in seconds or as an HTTP date, bounded. */
function retryAfter(header: string | null): { retryAfterMs?: number } {
  if (!header) return {};
  const ms = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? { retryAfterMs: Math.min(ms, MAX_RETRY_AFTER_MS) } : {};
}

async function readExcerpt(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The excerpt is a debugging aid; a broken body leaves it short.
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
}

/** fetch reports network failures as "fetch failed" with the useful part in `cause`. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return cause?.message ?? err.message;
}
