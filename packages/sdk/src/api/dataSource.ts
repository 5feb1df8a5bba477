import type { Flag, Segment } from '@flagstaff/eval';
import type { Config } from '../options/config.js';
import type { LDLogger } from './logger.js';

/** A full data set as the flag service delivers it (spec §1.4). */
export interface FullDataSet {
  flags: Record<string, Flag>;
  segments: Record<string, Segment>;
}

export type DataKindName = 'flags' | 'segments';

/** A versioned item, or the tombstone that a delete leaves (`{ key, version, deleted: true }`). */
export type VersionedItem = Flag | Segment | { key: string; version: number; deleted: true };

/** What a data source writes into. Writes are ordered: each resolves once it is applied. */
export interface DataSourceUpdates {
  /** Replaces everything (stream `put`, a poll, a file load). */
  init(data: FullDataSet): Promise<void>;
  /** Applies one item if its version is newer than the stored one (stream `patch` and `delete`). */
  upsert(kind: DataKindName, item: VersionedItem): Promise<void>;
}

/** How a data source reports its state to the client. */
export interface DataSourceStatus {
  /** The first full data set has been stored. Later calls are ignored. */
  ready(): void;
  /** A problem the data source will retry (network error, 5xx, malformed data). */
  interrupted(error: Error): void;
  /** A problem it will not retry (401, 403, ...): the source has stopped for good. */
  failed(error: Error): void;
}

/** One streaming connection attempt, for diagnostic events (`streamInits`). */
export interface StreamInitInfo {
  /** When the attempt started (epoch ms). */
  timestamp: number;
  /** True when the attempt ended before a full data set arrived. */
  failed: boolean;
  durationMillis: number;
}

export interface DataSourceContext {
  config: Config;
  logger: LDLogger;
  updates: DataSourceUpdates;
  status: DataSourceStatus;
  /** Called once per streaming connection attempt, when its outcome is known. */
  onStreamInit?(info: StreamInitInfo): void;
}

/** A source of flag data: streaming, polling, files, test data. */
export interface DataSource {
  start(): void;
  /** Closes sockets and timers. Idempotent. */
  stop(): void;
}

/** What `options.updateProcessor` holds. */
export type DataSourceFactory = (context: DataSourceContext) => DataSource;
