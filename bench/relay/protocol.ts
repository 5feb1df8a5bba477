/**
 * What the relay benchmark's processes tell each other over IPC. The parent hosts the flag service and
 * sends the admin updates; one child runs the relay (so its RSS is its own), two hold the SSE clients,
 * one runs `@unleash/proxy`. Times that cross processes are `nowUs()`: the monotonic clock, which on
 * Linux is the same for every process on the machine.
 */

/** Microseconds on the system-wide monotonic clock (`process.hrtime`), exact as a double. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Parent → relay child. */
export type RelayCommand =
  | { type: 'start'; serviceUrl: string; sdkKey: string; clientSideId: string; envKey: string }
  | { type: 'memory'; id: number };

/** Relay child → parent. */
export type RelayReport =
  | { type: 'started'; url: string }
  | { type: 'memory'; id: number; rss: number; heapUsed: number }
  | { type: 'failure'; message: string };

/** Parent → client child. */
export type ClientCommand =
  | {
      type: 'connect';
      relayUrl: string;
      sdkKey: string;
      clients: number;
      /** Index of this process's first client, for messages. */
      firstIndex: number;
      connectConcurrency: number;
      flagCount: number;
      latencyFlag: string;
      latencyVersion: number;
    }
  /** Wait until every client has `version` of `flag`; report each client's arrival time. */
  | { type: 'await'; flag: string; version: number; timeoutMs: number }
  | { type: 'close' };

/** Client child → parent. */
export type ClientReport =
  | { type: 'connected'; headersUs: number; putsUs: number; putBytes: number }
  /** `nowUs()` at which each client's chunk completing the patch arrived. */
  | { type: 'arrived'; version: number; arrivalsUs: number[]; patches: number }
  | { type: 'closed' }
  | { type: 'failure'; message: string };

/** Parent ↔ unleash child. */
export type UnleashReport = { type: 'started'; url: string } | { type: 'failure'; message: string };
