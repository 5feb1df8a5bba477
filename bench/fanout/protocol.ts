/**
 * What the fan-out benchmark's two processes tell each other over the IPC channel, and the statistics
 * both sides use. The parent hosts the flag service; the child (clients.ts) holds the SSE clients and
 * sends every admin request, so every time it reports comes from its own clock.
 */

/** A flag's targeting in the environment the clients stream, as the child tracks it. */
export interface FlagState {
  key: string;
  on: boolean;
  version: number;
}

/** Parent → child: everything the child needs to run. */
export interface StartMessage {
  type: 'start';
  /** `http://127.0.0.1:<port>` */
  base: string;
  sdkKey: string;
  adminToken: string;
  projectKey: string;
  envKey: string;
  /** The flag the latency updates toggle. */
  latencyFlag: FlagState;
  /** One flag per concurrent writer in the throughput phases. */
  writerFlags: FlagState[];
  /** How many flags the environment has, so the child can check every `put` is complete. */
  flagCount: number;
  clients: number;
  warmupUpdates: number;
  updates: number;
  /** Pause between two latency updates, after the previous one reached every client. */
  updateGapMs: number;
  writeSeconds: number;
  writeConcurrency: number;
  /** How many connections may be opening at once. */
  connectConcurrency: number;
}

/**
 * Child → parent: snapshot the server's CPU time under `label` (phases are bracketed by
 * `<phase>:start` and `<phase>:end`). With `waitConnections` the parent first waits until the stream
 * hub holds exactly that many streams.
 */
export interface MarkMessage {
  type: 'mark';
  id: number;
  label: string;
  waitConnections?: number;
}

/** Parent → child: the mark is taken; `connections` is the hub's stream count at that moment. */
export interface MarkedMessage {
  type: 'marked';
  id: number;
  connections: number;
}

export interface ConnectResult {
  /** From the first request to the last response header (status 200) received. */
  headersMs: number;
  /** From the first request until every client had its `put`. */
  putsMs: number;
  /** Bytes of one `put` frame's data line. */
  putBytes: number;
  /** Streams the server's hub counted once every client had its put. */
  serverConnections: number;
}

export interface LatencyResult {
  /** Per recorded update: ms from just before the admin request until the last client had the patch. */
  lastClientMs: number[];
  /** Every client's latency of every recorded update (clients × updates values). */
  perClientMs: number[];
  /** Per recorded update: ms from just before sending until the admin response was read in full. */
  adminMs: number[];
  /** Bytes of one `patch` frame's data line. */
  patchBytes: number;
}

export interface WritePhase {
  /** 'seq' or 'conc', and the number of connected clients: `conc-1000`. */
  name: string;
  clients: number;
  concurrency: number;
  writes: number;
  /** From the first request until the last writer's last answer. */
  elapsedMs: number;
  /** Per write, ms from sending to the whole answer. */
  latenciesMs: number[];
  /** With clients: ms after the last answer until every client had the last version of every flag. */
  drainMs?: number;
  /** With clients: patches the clients received during the phase and its drain, per client per write. */
  patchesPerClientPerWrite?: number;
  /** The child process's CPU time over the phase (user + system), in % of one core. */
  clientCpuPercent: number;
  /** The system (kernel) part of `clientCpuPercent`. */
  clientSysPercent: number;
}

/** Child → parent, once at the end. */
export interface ResultsMessage {
  type: 'results';
  connect: ConnectResult;
  latency: LatencyResult;
  writes: WritePhase[];
}

/** Child → parent: the child found a correctness problem (or crashed); the parent fails the run. */
export interface FailureMessage {
  type: 'failure';
  message: string;
}

export type ChildMessage = MarkMessage | ResultsMessage | FailureMessage;
export type ParentMessage = StartMessage | MarkedMessage;

/** Nearest-rank percentile (p in 0–100) of unsorted values: always one of the values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
