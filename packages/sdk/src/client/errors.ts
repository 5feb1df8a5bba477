/** Rejects `waitForInitialization({ timeout })` when the time runs out (LaunchDarkly's name). */
export class LDTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LaunchDarklyTimeoutError';
  }
}

/** The client was closed, or failed for good, before it could initialize. */
export class LDClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LDClientError';
  }
}
