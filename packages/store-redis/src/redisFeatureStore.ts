import {
  basicLogger,
  createPersistentStoreFactory,
  type LDClientContext,
  type LDFeatureStore,
  type LDLogger,
} from '@flagstaff/node-server-sdk';
import { RedisConnection } from './connection.js';
import { DEFAULT_CACHE_TTL, DEFAULT_PREFIX, type LDRedisOptions } from './options.js';
import { RedisCore } from './redisCore.js';

/**
 * A Redis-backed feature store with LaunchDarkly's key layout, for `featureStore:` (with `useLdd: true`
 * for daemon mode). Returns a factory, as LaunchDarkly's `RedisFeatureStore` does; the connection is
 * opened when the client calls it.
 */
export function RedisFeatureStore(
  options: LDRedisOptions = {},
): (clientContext: LDClientContext) => LDFeatureStore {
  return (clientContext) => {
    const logger = options.logger ?? contextLogger(clientContext);
    const cacheTTL = resolveCacheTTL(options.cacheTTL, logger);
    // An empty prefix falls back to the default, as in LaunchDarkly's store: Relay writes no bare keys.
    const prefix = options.prefix || DEFAULT_PREFIX;
    const makeCore = () => new RedisCore(new RedisConnection(options, logger), prefix, logger);
    return createPersistentStoreFactory(makeCore, cacheTTL, { logger })(clientContext);
  };
}

function resolveCacheTTL(value: unknown, logger: LDLogger): number {
  if (value === undefined || value === null) return DEFAULT_CACHE_TTL;
  if (typeof value === 'number' && !Number.isNaN(value)) return value;
  logger.warn(`RedisFeatureStore: cacheTTL must be a number of seconds; using ${DEFAULT_CACHE_TTL}`);
  return DEFAULT_CACHE_TTL;
}

/** The client's logger; LaunchDarkly's SDK passes it as `basicConfiguration.logger`. */
function contextLogger(context: LDClientContext): LDLogger {
  const legacy = context as Partial<LDClientContext> & { basicConfiguration?: { logger?: LDLogger } };
  return legacy.logger ?? legacy.basicConfiguration?.logger ?? basicLogger();
}
