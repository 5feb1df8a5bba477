import type { DataSourceFactory } from './dataSource.js';
import type { LDLogger } from './logger.js';
import type { LDFeatureStore } from './store.js';

/** Passed to store factories, as LaunchDarkly's SDKs do. */
export interface LDClientContext {
  sdkKey: string;
  logger: LDLogger;
}

/**
 * Client options, with LaunchDarkly's names, meanings and defaults (durations in seconds), so that
 * options written for `@launchdarkly/node-server-sdk` work unchanged.
 */
export interface LDOptions {
  /** Polling base URI. Default `https://sdk.launchdarkly.com`. */
  baseUri?: string;
  /** Streaming base URI. Default `https://stream.launchdarkly.com`. */
  streamUri?: string;
  /** Events base URI. Default `https://events.launchdarkly.com`. */
  eventsUri?: string;
  /** Stream flag changes (true) or poll (false). Default true. */
  stream?: boolean;
  /** Base of the stream reconnect backoff. Default 1. */
  streamInitialReconnectDelay?: number;
  /** Seconds between polls; at least 30. Default 30. */
  pollInterval?: number;
  /** HTTP connect and read timeout for polling and events. Default 10, at least 1. */
  timeout?: number;
  /** No network at all: every evaluation returns its default. Default false. */
  offline?: boolean;
  /** Send analytics events. Default true. */
  sendEvents?: boolean;
  /** Events held between flushes; more are dropped and counted. Default 10000. */
  capacity?: number;
  /** Seconds between event flushes. Default 5. */
  flushInterval?: number;
  allAttributesPrivate?: boolean;
  /** Attribute references never sent in events. */
  privateAttributes?: string[];
  /** Contexts remembered for index-event de-duplication. Default 1000. */
  contextKeysCapacity?: number;
  /** Seconds between clearing the de-duplication cache. Default 300. */
  contextKeysFlushInterval?: number;
  /** A feature store, or a factory that makes one. Default: in memory. */
  featureStore?: LDFeatureStore | ((context: LDClientContext) => LDFeatureStore);
  /** Daemon mode: read flags only from `featureStore`, never from the flag service. Default false. */
  useLdd?: boolean;
  /** A data source factory such as `TestData().getFactory()` or `FileDataSourceFactory(...)`. */
  updateProcessor?: DataSourceFactory;
  logger?: LDLogger;
  application?: { id?: string; version?: string; name?: string; versionName?: string };
  wrapperName?: string;
  wrapperVersion?: string;
  diagnosticOptOut?: boolean;
  /** Seconds between periodic diagnostic events; at least 60. Default 900. */
  diagnosticRecordingInterval?: number;
  /** Ask the service for a filtered payload (`?filter=`). */
  payloadFilterKey?: string;
  /** Gzip event payloads. Default false. */
  enableEventCompression?: boolean;
}
