// @flagstaff/infra: AWS CDK constructs for Flagstaff, each usable on its own in a CDK app.
export { type AppConfig, parseAppConfig, readVariables } from './app-config.js';
export { FargateWebService, type LoadBalancerOptions, type ServiceSizing } from './fargate-web-service.js';
export { FlagstaffFlagTable, type FlagstaffFlagTableProps, TABLE_ACCESS } from './flag-table.js';
export { FlagstaffLayer, type FlagstaffLayerProps, type LayerStore } from './layer.js';
export { createFlagstaffVpc, type FlagstaffVpcProps } from './network.js';
export { FlagstaffRelay, type FlagstaffRelayProps, RELAY_DEFAULTS, type RelayEnvironment } from './relay.js';
export { importSecret, type SecretField } from './secret-field.js';
export {
  type FlagstaffDatabaseProps,
  FlagstaffService,
  type FlagstaffServiceProps,
  SERVICE_DEFAULTS,
} from './service.js';
export { FlagstaffStack, type FlagstaffStackProps } from './stack.js';
export { FlagstaffSyncFunction, type FlagstaffSyncFunctionProps } from './sync-function.js';
