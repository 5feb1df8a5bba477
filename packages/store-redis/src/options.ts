import type { LDLogger } from '@flagstaff/node-server-sdk';
import type { Redis, RedisOptions } from 'ioredis';

/** Options of `RedisFeatureStore`, with the names and defaults of LaunchDarkly's Redis store. */
export interface LDRedisOptions {
  /**
   * How to connect when `client` is not given: ioredis options or a `redis://` / `rediss://` URL.
   * Default: `127.0.0.1:6379`. Unless these options say otherwise, the store's own connection fails
   * commands at once while disconnected (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`), so
   * that evaluations fall back to cached data instead of waiting for a reconnect.
   */
  redisOpts?: RedisOptions | string;
  /**
   * An ioredis client to use instead of opening a connection. It is used as it is configured and is
   * not closed when the store closes. `redisOpts` is then ignored.
   */
  client?: Redis;
  /** Prefix of every key (`<prefix>:features`, `<prefix>:segments`, `<prefix>:$inited`). Default `launchdarkly`. */
  prefix?: string;
  /**
   * Seconds that items read or written stay in the SDK's memory cache. 0 disables the cache; a
   * negative number or Infinity caches forever. Default 30.
   */
  cacheTTL?: number;
  /** Logger for the store; default: the client's logger. */
  logger?: LDLogger;
}

export const DEFAULT_PREFIX = 'launchdarkly';
export const DEFAULT_CACHE_TTL = 30;
