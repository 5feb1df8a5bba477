import type { LDLogger } from '../../api/logger.js';
import type { LDClientContext } from '../../api/options.js';
import type { PersistentDataStore } from '../../api/persistentStore.js';
import type { LDFeatureStore } from '../../api/store.js';
import { PersistentStoreWrapper, type PersistentStoreWrapperOptions } from './persistentStoreWrapper.js';

/** What a store package's `XxxFeatureStore(...)` returns and users pass as `featureStore:`. */
export type LDFeatureStoreFactory = (clientContext: LDClientContext) => LDFeatureStore;

/**
 * Builds the factory shape LaunchDarkly's store packages return (`featureStore: RedisFeatureStore()`):
 * the client calls it with its context, and it returns `makeCore(context)` behind the caching wrapper.
 * `cacheTTL` is in seconds (0 = off, negative or Infinity = forever); the store package resolves its own
 * default. `options.logger`, when given, replaces the client's logger for the wrapper's messages. The
 * factory also works as `featureStore:` of LaunchDarkly's own SDK.
 */
export function createPersistentStoreFactory(
  makeCore: (clientContext: LDClientContext) => PersistentDataStore,
  cacheTTL: number,
  options: Omit<PersistentStoreWrapperOptions, 'cacheTTL'> = {},
): LDFeatureStoreFactory {
  return (clientContext) =>
    new PersistentStoreWrapper(makeCore(clientContext), {
      ...options,
      cacheTTL,
      logger: options.logger ?? contextLogger(clientContext),
    });
}

/** The client's logger; LaunchDarkly's v9 SDK passes it as `basicConfiguration.logger` instead. */
function contextLogger(context: LDClientContext): LDLogger | undefined {
  const v9 = context as Partial<LDClientContext> & { basicConfiguration?: { logger?: LDLogger } };
  return v9.logger ?? v9.basicConfiguration?.logger;
}
