// @flagstaff/store-dynamodb: LaunchDarkly's DynamoDB feature store for @flagstaff/node-server-sdk.
import {
  createPersistentStoreFactory,
  type LDClientContext,
  type LDFeatureStore,
  type LDLogger,
} from '@flagstaff/node-server-sdk';
import type { DynamoDBClientOptions } from './clientOptions.js';
import { DynamoDBPersistentDataStore, type DynamoDBStoreOptions } from './dynamoDBStore.js';

export type { DynamoDBClientOptions } from './clientOptions.js';
export { DynamoDBPersistentDataStore, type DynamoDBStoreOptions } from './dynamoDBStore.js';
export { DynamoDBServiceError } from './httpOperations.js';

/** Seconds items stay cached when `cacheTTL` is not given, as in LaunchDarkly's DynamoDB stores. */
export const DEFAULT_CACHE_TTL = 15;

export interface DynamoDBFeatureStoreOptions {
  /** Prepended as `<prefix>:` to every namespace, to share one table between environments. */
  prefix?: string;
  /** Seconds recently read items are cached in memory: 0 = no cache, negative = forever. Default 15. */
  cacheTTL?: number;
  /** A ready DynamoDB client (AWS SDK v3) to use; the store never destroys it. */
  dynamoDBClient?: DynamoDBStoreOptions['dynamoDBClient'];
  /** Configuration of the client the store creates when `dynamoDBClient` is not given. */
  clientOptions?: DynamoDBClientOptions;
  /** `true`: use AWS SDK v3 even when the built-in HTTP client could be used (see the README). */
  useAwsSdk?: boolean;
  /** Logger of the store's messages; default: the SDK client's logger. */
  logger?: LDLogger;
}

/**
 * A feature store keeping flags and segments in DynamoDB, in the layout LaunchDarkly's Relay Proxy and
 * SDKs use, for `featureStore:` in the client options (with `useLdd: true` for daemon mode). Same call
 * as LaunchDarkly's: `DynamoDBFeatureStore(process.env.DYNAMODB_TABLE)`. The table must exist, with
 * partition key `namespace` and sort key `key`, both strings.
 */
export function DynamoDBFeatureStore(
  // `string | undefined` so that `process.env.X` type-checks as in LaunchDarkly's examples; a missing
  // name throws here rather than failing later on every read.
  tableName: string | undefined,
  options: DynamoDBFeatureStoreOptions = {},
): (clientContext: LDClientContext) => LDFeatureStore {
  if (typeof tableName !== 'string' || tableName === '') {
    throw new TypeError('DynamoDBFeatureStore: a table name is required');
  }
  const cacheTTL = options.cacheTTL ?? DEFAULT_CACHE_TTL;
  return createPersistentStoreFactory(
    (clientContext) =>
      new DynamoDBPersistentDataStore(tableName, {
        prefix: options.prefix,
        dynamoDBClient: options.dynamoDBClient,
        clientOptions: options.clientOptions,
        useAwsSdk: options.useAwsSdk,
        logger: options.logger ?? clientContext.logger,
      }),
    cacheTTL,
    options.logger ? { logger: options.logger } : {},
  );
}
