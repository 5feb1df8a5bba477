import type { Flag, Segment } from '@flagstaff/eval';

/**
 * The seam between the relay's parts. The upstream side (config, one stream per environment, store
 * sync) maintains a RelayEnvironment per configured environment; the SDK-facing endpoints and event
 * forwarding only read them. Data is LaunchDarkly JSON exactly as the upstream sent it.
 */
export interface RelayEnvironmentConfig {
  /** The name used in `LD_ENV_<NAME>`, e.g. `Production`; shown in /status. */
  name: string;
  sdkKey: string;
  mobileKey?: string;
  clientSideId?: string;
  /** Persistent-store prefix (`LD_PREFIX_<NAME>`) or table (`LD_TABLE_NAME_<NAME>`). */
  prefix?: string;
  tableName?: string;
}

/** A change the downstream streams must send: a patch, or a delete (tombstone) of one item. */
export type RelayChange =
  | { kind: 'put' }
  | { kind: 'patch'; namespace: 'flags' | 'segments'; item: Flag | Segment }
  | { kind: 'delete'; namespace: 'flags' | 'segments'; key: string; version: number };

export interface RelayEnvironmentStatus {
  /** True while the upstream stream is connected and has sent its put. */
  connected: boolean;
  /** True once data was ever loaded (from upstream or the persistent store): readiness. */
  initialized: boolean;
  /** Epoch ms of the last change received from upstream, if any. */
  lastUpdate?: number;
  /** Grows by one on every applied change; lets pollers build cheap ETags. */
  dataVersion: number;
  /** The last upstream error, if the stream is down. */
  lastError?: string;
}

export interface RelayEnvironment {
  readonly config: RelayEnvironmentConfig;
  /** Current flags and segments (tombstones excluded). Replaced, never mutated, on change. */
  flags(): Readonly<Record<string, Flag>>;
  segments(): Readonly<Record<string, Segment>>;
  status(): RelayEnvironmentStatus;
  /** Subscribes to applied changes, in order; returns the unsubscribe function. */
  onChange(listener: (change: RelayChange) => void): () => void;
}

/** Finds environments by credential; what the endpoints authenticate against. */
export interface EnvironmentRegistry {
  all(): readonly RelayEnvironment[];
  bySdkKey(key: string): RelayEnvironment | undefined;
  byMobileKey(key: string): RelayEnvironment | undefined;
  byClientSideId(id: string): RelayEnvironment | undefined;
}
