import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Config } from '../options/config.js';
import { SDK_NAME, SDK_VERSION } from '../version.js';
import type { StreamInitInfo } from './types.js';

export interface DiagnosticId {
  diagnosticId: string;
  sdkKeySuffix: string;
}

export interface DiagnosticInitEvent {
  kind: 'diagnostic-init';
  id: DiagnosticId;
  creationDate: number;
  sdk: { name: string; version: string; wrapperName?: string; wrapperVersion?: string };
  configuration: Record<string, string | number | boolean>;
  platform: { name: 'Node'; osArch: string; osName: string; osVersion: string; nodeVersion: string };
}

export interface DiagnosticStatsEvent {
  kind: 'diagnostic';
  id: DiagnosticId;
  creationDate: number;
  dataSinceDate: number;
  droppedEvents: number;
  deduplicatedUsers: number;
  eventsInLastBatch: number;
  streamInits: StreamInitInfo[];
}

/**
 * Builds the events posted to `{eventsUri}/diagnostic` (spec §6.2): one `diagnostic-init` per SDK
 * instance and a periodic `diagnostic` with the statistics since the previous one.
 */
export class DiagnosticsRecorder {
  private readonly id: DiagnosticId;
  private readonly startDate: number;
  private dataSinceDate: number;
  private streamInits: StreamInitInfo[] = [];

  constructor(
    private readonly config: Config,
    private readonly now: () => number,
    private readonly dataStoreType: string,
  ) {
    const key = config.sdkKey;
    this.id = { diagnosticId: randomUUID(), sdkKeySuffix: key.length > 6 ? key.slice(-6) : key };
    this.startDate = now();
    this.dataSinceDate = this.startDate;
  }

  initEvent(): DiagnosticInitEvent {
    const c = this.config;
    const sdk: DiagnosticInitEvent['sdk'] = { name: SDK_NAME, version: SDK_VERSION };
    if (c.wrapperName !== undefined) sdk.wrapperName = c.wrapperName;
    if (c.wrapperVersion !== undefined) sdk.wrapperVersion = c.wrapperVersion;
    return {
      kind: 'diagnostic-init',
      id: this.id,
      creationDate: this.startDate,
      sdk,
      configuration: {
        customBaseURI: c.customUris.base,
        customStreamURI: c.customUris.stream,
        customEventsURI: c.customUris.events,
        eventsCapacity: c.capacity,
        // Node has one timeout for connecting and reading, so both report it.
        connectTimeoutMillis: c.timeoutMs,
        socketTimeoutMillis: c.timeoutMs,
        eventsFlushIntervalMillis: c.flushIntervalMs,
        pollingIntervalMillis: c.pollIntervalMs,
        reconnectTimeMillis: c.streamInitialReconnectDelayMs,
        contextKeysFlushIntervalMillis: c.contextKeysFlushIntervalMs,
        diagnosticRecordingIntervalMillis: c.diagnosticRecordingIntervalMs,
        streamingDisabled: !c.stream,
        usingRelayDaemon: c.useLdd,
        offline: c.offline,
        allAttributesPrivate: c.allAttributesPrivate,
        contextKeysCapacity: c.contextKeysCapacity,
        // The SDK has no proxy support of its own.
        usingProxy: false,
        usingProxyAuthenticator: false,
        dataStoreType: this.dataStoreType,
      },
      platform: {
        name: 'Node',
        osArch: os.arch(),
        osName: platformName(os.platform()),
        osVersion: os.version(),
        nodeVersion: process.versions.node,
      },
    };
  }

  /** The periodic event; starts a new statistics period. */
  statsEvent(
    droppedEvents: number,
    deduplicatedUsers: number,
    eventsInLastBatch: number,
  ): DiagnosticStatsEvent {
    const now = this.now();
    const event: DiagnosticStatsEvent = {
      kind: 'diagnostic',
      id: this.id,
      creationDate: now,
      dataSinceDate: this.dataSinceDate,
      droppedEvents,
      deduplicatedUsers,
      eventsInLastBatch,
      streamInits: this.streamInits,
    };
    this.streamInits = [];
    this.dataSinceDate = now;
    return event;
  }

  recordStreamInit(info: StreamInitInfo): void {
    // Copied: the data source may reuse its object.
    this.streamInits.push({
      timestamp: info.timestamp,
      failed: info.failed,
      durationMillis: info.durationMillis,
    });
  }
}

/** `dataStoreType` when the client does not say: what LaunchDarkly's SDK reports for the option. */
export function describeDataStore(config: Config): string {
  const store = config.featureStore;
  if (store === undefined) return 'memory';
  if (typeof store === 'function') return 'custom';
  try {
    return store.getDescription?.() ?? 'custom';
  } catch {
    return 'custom';
  }
}

// The names LaunchDarkly's Node SDK reports, so dashboards group both SDKs alike.
function platformName(platform: string): string {
  switch (platform) {
    case 'darwin':
      return 'MacOS';
    case 'win32':
      return 'Windows';
    case 'linux':
      return 'Linux';
    default:
      return platform;
  }
}
