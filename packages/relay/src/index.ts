// @flagstaff/relay: a LaunchDarkly-compatible relay proxy.
export {
  DEFAULTS,
  describeConfig,
  type LoadConfigOptions,
  loadConfig,
  maskKey,
  parseDuration,
  type RelayConfig,
  RelayConfigError,
  type StoreConfig,
} from './config.js';
export { type RelayEndpointOptions, relayEndpoints } from './endpoints/index.js';
export type {
  EnvironmentRegistry,
  RelayChange,
  RelayEnvironment,
  RelayEnvironmentConfig,
  RelayEnvironmentStatus,
} from './environment.js';
export { EnvironmentData, Registry } from './environmentData.js';
export { type EventForwardingOptions, type EventForwardingPlugin, eventForwarding } from './events/index.js';
export { main } from './main.js';
export {
  metricsText,
  RELAY_VERSION,
  type Relay,
  type RelayOptions,
  startRelay,
  statusBody,
  statusRoutes,
} from './relay.js';
export {
  type ConnectionStatus,
  createRelayStore,
  type DataStoreStatus,
  FeatureStoreRelayStore,
  PersistentRelayStore,
  type RelayStore,
  Upstream,
  type UpstreamOptions,
} from './upstream.js';
