// @flagstaff/node-server-sdk: LaunchDarkly's Node server SDK API over Flagstaff's evaluation engine.
import type { LDClient } from './api/client.js';
import type { LDOptions } from './api/options.js';
import { Client } from './client/client.js';

export type { LDClient, LDContext, LDEvaluationDetail, LDEvaluationDetailTyped } from './api/client.js';
export type {
  DataKindName,
  DataSource,
  DataSourceContext,
  DataSourceFactory,
  DataSourceStatus,
  DataSourceUpdates,
  FullDataSet,
  VersionedItem,
} from './api/dataSource.js';
export type { BasicLoggerOptions, LDLogger, LDLogLevel } from './api/logger.js';
export type { LDClientContext, LDOptions } from './api/options.js';
export type {
  CacheTTL,
  KeyedSerializedItem,
  KindItems,
  PersistentDataStore,
  SerializedItem,
} from './api/persistentStore.js';
export type {
  DataKind,
  LDFeatureStore,
  LDFeatureStoreDataStorage,
  LDFeatureStoreItem,
  LDFeatureStoreKindData,
  LDKeyedFeatureStoreItem,
} from './api/store.js';
export { LDClientError, LDTimeoutError } from './client/errors.js';
export type { LDFlagsState, LDFlagsStateOptions } from './client/flagsState.js';
// For @flagstaff/relay, which runs the SDK's upstream stream and store serialization without a client.
export { type StreamingInternals, streamingDataSource } from './datasource/streaming.js';
export type { FlushResult } from './events/index.js';
export * as integrations from './integrations/index.js';
export { basicLogger } from './logging/basicLogger.js';
export { buildConfig, type Config } from './options/config.js';
export { FEATURES, SEGMENTS } from './store/dataKinds.js';
export { InMemoryFeatureStore } from './store/inMemoryFeatureStore.js';
export { createPersistentStoreFactory, type LDFeatureStoreFactory } from './store/persistent/factory.js';
export {
  PersistentStoreWrapper,
  type PersistentStoreWrapperOptions,
} from './store/persistent/persistentStoreWrapper.js';
export { serializeItem, toKindItems, tombstoneJson } from './store/persistent/serialization.js';
export { SDK_NAME, SDK_VERSION } from './version.js';

/**
 * Creates a client and starts connecting. Same call as LaunchDarkly's `init(sdkKey, options)`.
 * Throws only for a missing SDK key when not offline; every other problem is logged.
 */
export function init(sdkKey: string, options: LDOptions = {}): LDClient {
  if (typeof sdkKey !== 'string' || (sdkKey === '' && !options.offline && !options.useLdd)) {
    throw new TypeError('init: an SDK key is required (a non-empty string)');
  }
  return new Client(sdkKey, options);
}

export default { init };
