import type { LDLogger } from '@flagstaff/node-server-sdk';

/** How often and how long to retry a throttled request; tests shorten the delays. */
export interface RetryPolicy {
  /** Total tries of one request, the first included. */
  attempts: number;
  /** Delay before the first retry, in ms; it doubles on each further retry. */
  baseDelayMs: number;
  /** Upper bound of one delay, in ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 50, maxDelayMs: 1000 };

// The errors DynamoDB answers when a table or account is over its throughput: the request did nothing
// and will succeed later, so waiting and repeating it is the right answer, not a failure.
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

export function isThrottling(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && THROTTLING.has((err as { name?: unknown }).name as string)
  );
}

/**
 * The delay before retry number `retry` (0-based): exponential with "equal jitter", so that many
 * Lambda instances throttled together do not retry in lockstep, yet each still waits a minimum.
 */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return full / 2 + Math.random() * (full / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `operation`, repeating it after a backoff while DynamoDB answers with a throttling error. */
export async function withThrottlingRetry<T>(
  policy: RetryPolicy,
  logger: LDLogger,
  what: string,
  operation: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      if (!isThrottling(err) || attempt >= policy.attempts) throw err;
      const delay = backoffDelay(policy, attempt - 1);
      logger.warn(`DynamoDB throttled ${what} (${(err as Error).name}); retrying in ${Math.round(delay)} ms`);
      await sleep(delay);
    }
  }
}
