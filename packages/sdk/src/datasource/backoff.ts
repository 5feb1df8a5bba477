export interface BackoffOptions {
  /** Delay before the first retry; doubles on each further failure. */
  initialDelayMs: number;
  /** Upper bound of the un-jittered delay. */
  maxDelayMs?: number;
  /** A connection that stayed healthy this long earns a fresh start from the initial delay. */
  resetIntervalMs?: number;
  /** Returns a number in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
  /** Current time in ms; injectable so tests need not wait a minute. */
  now?: () => number;
}

export const DEFAULT_MAX_DELAY_MS = 30_000;
export const DEFAULT_RESET_INTERVAL_MS = 60_000;

/**
 * Reconnect delays for the stream (spec §4.3): `initial * 2^n` capped at the maximum, minus a random
 * jitter of up to half, so that many SDKs cut off together do not reconnect together.
 */
export class Backoff {
  private initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly resetIntervalMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private attempt = 0;
  private healthySince: number | undefined;

  constructor(options: BackoffOptions) {
    this.initialDelayMs = Math.max(0, options.initialDelayMs);
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.resetIntervalMs = options.resetIntervalMs ?? DEFAULT_RESET_INTERVAL_MS;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** The server asked for another base delay (an SSE `retry:` field). */
  setInitialDelay(delayMs: number): void {
    this.initialDelayMs = Math.max(0, delayMs);
  }

  /** A connection is up and healthy; if it stays so for the reset interval, the next failure starts over. */
  succeeded(): void {
    this.healthySince = this.now();
  }

  /** A connection failed or ended: returns how long to wait before the next attempt. */
  failed(): number {
    if (this.healthySince !== undefined && this.now() - this.healthySince >= this.resetIntervalMs) {
      this.attempt = 0;
    }
    this.healthySince = undefined;
    // The exponent is capped so 2^n stays finite however long the outage lasts.
    const base = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(base - this.random() * 0.5 * base);
  }
}
