// @flagstaff/store-redis: a Redis feature store for @flagstaff/node-server-sdk, in the key layout
// LaunchDarkly's SDKs and Relay Proxy share.
export type { LDRedisOptions } from './options.js';
export { RedisFeatureStore } from './redisFeatureStore.js';
