import type {
  AttributeValue,
  DynamoDBClient,
  QueryCommandInput,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  basicLogger,
  type DataKind,
  type KeyedSerializedItem,
  type KindItems,
  type LDLogger,
  type PersistentDataStore,
  type SerializedItem,
} from '@flagstaff/node-server-sdk';
import { AwsSdkOperations } from './awsSdkOperations.js';
import { type DynamoDBClientOptions, httpClientConfig, toClientConfig } from './clientOptions.js';
import { HttpOperations } from './httpOperations.js';
import { estimateItemSize, MAX_ITEM_SIZE } from './itemSize.js';
import type { DynamoDBOperations } from './operations.js';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy, sleep, withThrottlingRetry } from './retry.js';

type DynamoRecord = Record<string, AttributeValue>;

/** BatchWriteItem accepts at most this many requests; 26 is a ValidationException. */
const BATCH_SIZE = 25;

/** DynamoDB's limits on key attributes: a larger or empty key fails the whole batch it is in. */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;

export interface DynamoDBStoreOptions {
  /** Prepended as `<prefix>:` to every namespace; no prefix by default. */
  prefix?: string;
  /** A configured client to use; the store never destroys it. When set, `clientOptions` is ignored. */
  dynamoDBClient?: DynamoDBClient;
  /** Configuration of the client the store creates (and destroys on close). */
  clientOptions?: DynamoDBClientOptions;
  /**
   * `true`: always send requests through an AWS SDK v3 client created from `clientOptions`, even when
   * region and credentials are plain values that the built-in HTTP client could use.
   */
  useAwsSdk?: boolean;
  logger?: LDLogger;
}

/** Knobs for tests only: faster backoff, smaller Query pages. */
export interface DynamoDBStoreTuning {
  retry?: Partial<RetryPolicy>;
  /** `Limit` of each Query request, to exercise pagination with few items. */
  queryPageSize?: number;
}

/**
 * LaunchDarkly's DynamoDB layout (spec §7.1) behind the SDK's persistent-store contract: one table,
 * partition key `namespace` = `[prefix:]features|segments`, sort key `key`, the item's JSON in `item`
 * and its version in `version`, plus the `[prefix:]$inited` marker. Relay Proxy, LaunchDarkly's SDKs
 * and this store can all read what any of them wrote.
 */
export class DynamoDBPersistentDataStore implements PersistentDataStore {
  readonly description = 'DynamoDB';
  /**
   * How requests are sent: `http`, the built-in signed-HTTP client (no `dynamoDBClient` given, and
   * region and credentials are plain values in `clientOptions` or the environment, as on Lambda), or
   * `aws-sdk`, AWS SDK v3 (the given client, or one created from `clientOptions` on first use).
   */
  readonly transport: 'http' | 'aws-sdk';
  private readonly operations: DynamoDBOperations;
  private readonly prefix: string;
  private readonly logger: LDLogger;
  private readonly retry: RetryPolicy;
  private readonly pageSize: number | undefined;

  constructor(
    private readonly tableName: string,
    options: DynamoDBStoreOptions = {},
    tuning: DynamoDBStoreTuning = {},
  ) {
    if (typeof tableName !== 'string' || tableName === '') {
      throw new TypeError('DynamoDBFeatureStore: a table name is required');
    }
    this.prefix = options.prefix ? `${options.prefix}:` : '';
    this.logger = options.logger ?? basicLogger();
    this.retry = { ...DEFAULT_RETRY, ...tuning.retry };
    this.pageSize = tuning.queryPageSize;
    const http =
      options.dynamoDBClient || options.useAwsSdk ? undefined : httpClientConfig(options.clientOptions);
    if (http) {
      // Transient failures are retried with the store's backoff, up to the configured attempts.
      this.operations = new HttpOperations(http, this.retry);
      this.transport = 'http';
    } else {
      this.operations = new AwsSdkOperations(options.dynamoDBClient, toClientConfig(options.clientOptions));
      this.transport = 'aws-sdk';
    }
  }

  async init(allData: KindItems[]): Promise<void> {
    // Existing keys first (all namespaces at once), so that whatever the new data no longer has can be
    // deleted afterwards. Items are overwritten rather than deleted up front: readers never see an
    // empty table during a re-init, only old or new versions.
    const namespaces = allData.map((kindItems) => this.namespaceOf(kindItems.kind));
    const existing = await Promise.all(namespaces.map((namespace) => this.queryKeys(namespace)));
    const stale = new Map<string, Set<string>>();
    namespaces.forEach((namespace, i) => {
      const keys = stale.get(namespace) ?? new Set<string>();
      for (const key of existing[i] ?? []) keys.add(key);
      stale.set(namespace, keys);
    });

    const requests: WriteRequest[] = [];
    let written = 0;
    allData.forEach((kindItems, i) => {
      const namespace = namespaces[i] as string;
      const keys = stale.get(namespace);
      for (const { key, item } of kindItems.items) {
        const record = this.recordOf(namespace, key, item);
        // A dropped item is not kept from deletion: as with LaunchDarkly's Go store (Relay), the table
        // then lacks it rather than serving an outdated copy.
        if (!this.isStorable(record, namespace, key)) continue;
        keys?.delete(key);
        requests.push({ PutRequest: { Item: record } });
        written++;
      }
    });
    const marker = this.initedKey();
    for (const [namespace, keys] of stale) {
      for (const key of keys) {
        if (namespace === marker && key === marker) continue;
        requests.push({ DeleteRequest: { Key: { namespace: { S: namespace }, key: { S: key } } } });
      }
    }
    // Last, so that a reader seeing the marker knows every item above has been written.
    requests.push({ PutRequest: { Item: { namespace: { S: marker }, key: { S: marker } } } });

    // Chunks go one after another to keep the order of the data set (segments before the flags that
    // use them, prerequisites before dependents) for readers polling the table during the init.
    for (let start = 0; start < requests.length; start += BATCH_SIZE) {
      await this.batchWrite(requests.slice(start, start + BATCH_SIZE));
    }
    this.logger.info(`Initialized DynamoDB table "${this.tableName}" with ${written} item(s)`);
  }

  async get(kind: DataKind, key: string): Promise<SerializedItem | undefined> {
    const record = await this.getRecord(this.namespaceOf(kind), key);
    return record === undefined ? undefined : this.decode(record, this.namespaceOf(kind), key);
  }

  async getAll(kind: DataKind): Promise<KeyedSerializedItem[]> {
    const namespace = this.namespaceOf(kind);
    const records = await this.query(namespace, {
      ProjectionExpression: '#k, #v, #i',
      ExpressionAttributeNames: { '#k': 'key', '#v': 'version', '#i': 'item' },
    });
    const results: KeyedSerializedItem[] = [];
    for (const record of records) {
      const key = record.key?.S;
      if (key === undefined) continue;
      const item = this.decode(record, namespace, key);
      if (item) results.push({ key, item });
    }
    return results;
  }

  async upsert(
    kind: DataKind,
    key: string,
    item: SerializedItem,
  ): Promise<{ updated: boolean; current?: SerializedItem }> {
    const namespace = this.namespaceOf(kind);
    const record = this.recordOf(namespace, key, item);
    if (this.isStorable(record, namespace, key)) {
      try {
        await withThrottlingRetry(this.retry, this.logger, 'PutItem', () =>
          this.operations.putItem({
            TableName: this.tableName,
            Item: record,
            // The version check happens in DynamoDB itself, so concurrent writers (several Lambda
            // instances, Relay) can never replace a newer item with an older one.
            ConditionExpression: 'attribute_not_exists(version) OR version < :new_version',
            ExpressionAttributeValues: { ':new_version': { N: String(item.version) } },
          }),
        );
        return { updated: true };
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
    }
    const current = await this.get(kind, key);
    return current === undefined ? { updated: false } : { updated: false, current };
  }

  async initialized(): Promise<boolean> {
    const marker = this.initedKey();
    return (await this.getRecord(marker, marker)) !== undefined;
  }

  /**
   * Writes the `$inited` marker alone. For writers that keep the table current with version-checked
   * upserts (the webhook sync function) instead of `init`, whose unconditional puts and deletes could
   * replace newer items written concurrently by another writer.
   */
  async markInitialized(): Promise<void> {
    const marker = this.initedKey();
    await withThrottlingRetry(this.retry, this.logger, 'PutItem', () =>
      this.operations.putItem({
        TableName: this.tableName,
        Item: { namespace: { S: marker }, key: { S: marker } },
      }),
    );
  }

  async close(): Promise<void> {
    this.operations.close();
  }

  private namespaceOf(kind: DataKind): string {
    return this.prefix + kind.namespace;
  }

  private initedKey(): string {
    return `${this.prefix}$inited`;
  }

  private recordOf(namespace: string, key: string, item: SerializedItem): DynamoRecord {
    return {
      namespace: { S: namespace },
      key: { S: key },
      version: { N: String(item.version) },
      item: { S: item.serializedItem },
    };
  }

  /** Whether DynamoDB would accept the record; logs why not. One bad item must not fail the others. */
  private isStorable(record: DynamoRecord, namespace: string, key: string): boolean {
    const keyBytes = Buffer.byteLength(key, 'utf8');
    if (
      keyBytes === 0 ||
      keyBytes > MAX_SORT_KEY_BYTES ||
      Buffer.byteLength(namespace) > MAX_PARTITION_KEY_BYTES
    ) {
      this.logger.error(
        `The item "${key}" in "${namespace}" has a key DynamoDB cannot store and was dropped`,
      );
      return false;
    }
    if (estimateItemSize(record) > MAX_ITEM_SIZE) {
      this.logger.error(
        `The item "${key}" in "${namespace}" was too large to store in DynamoDB and was dropped`,
      );
      return false;
    }
    return true;
  }

  /**
   * The stored form of a record. `deleted` needs the JSON, which is parsed only when it can be a
   * tombstone: text without the word "deleted" cannot be one, so most flags skip a parse here (the
   * caching wrapper parses them anyway).
   */
  private decode(record: DynamoRecord, namespace: string, key: string): SerializedItem | undefined {
    const json = record.item?.S;
    if (json === undefined) {
      this.logger.error(`The item "${key}" in "${namespace}" has no "item" attribute and was ignored`);
      return undefined;
    }
    const attributeVersion = record.version?.N === undefined ? Number.NaN : Number(record.version.N);
    if (!json.includes('"deleted"') && Number.isFinite(attributeVersion)) {
      return { version: attributeVersion, deleted: false, serializedItem: json };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      this.logger.error(`The item "${key}" in "${namespace}" is not valid JSON and was ignored`);
      return undefined;
    }
    const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
      version?: unknown;
      deleted?: unknown;
    };
    const version = Number.isFinite(attributeVersion)
      ? attributeVersion
      : typeof fields.version === 'number'
        ? fields.version
        : 0;
    return { version, deleted: fields.deleted === true, serializedItem: json };
  }

  private async getRecord(namespace: string, key: string): Promise<DynamoRecord | undefined> {
    const output = await withThrottlingRetry(this.retry, this.logger, 'GetItem', () =>
      this.operations.getItem({
        TableName: this.tableName,
        Key: { namespace: { S: namespace }, key: { S: key } },
        // A strongly consistent read sees an upsert that just succeeded, as the cache expects.
        ConsistentRead: true,
      }),
    );
    return output.Item;
  }

  private async queryKeys(namespace: string): Promise<string[]> {
    const records = await this.query(namespace, {
      ProjectionExpression: '#k',
      ExpressionAttributeNames: { '#k': 'key' },
    });
    const keys: string[] = [];
    for (const record of records) if (record.key?.S !== undefined) keys.push(record.key.S);
    return keys;
  }

  /** Every record of a namespace, following `LastEvaluatedKey` across Query pages (1 MB each). */
  private async query(namespace: string, extra: Partial<QueryCommandInput>): Promise<DynamoRecord[]> {
    const records: DynamoRecord[] = [];
    let startKey: DynamoRecord | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: '#ns = :ns',
        ...extra,
        ExpressionAttributeNames: { ...extra.ExpressionAttributeNames, '#ns': 'namespace' },
        ExpressionAttributeValues: { ':ns': { S: namespace } },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
        Limit: this.pageSize,
      };
      const output = await withThrottlingRetry(this.retry, this.logger, 'Query', () =>
        this.operations.query(input),
      );
      if (output.Items) records.push(...output.Items);
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return records;
  }

  /** One BatchWriteItem, repeated with backoff for whatever DynamoDB leaves unprocessed. */
  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    let pending = requests;
    for (let attempt = 1; ; attempt++) {
      const output = await withThrottlingRetry(this.retry, this.logger, 'BatchWriteItem', () =>
        this.operations.batchWriteItem({ RequestItems: { [this.tableName]: pending } }),
      );
      const unprocessed = output.UnprocessedItems?.[this.tableName] ?? [];
      if (unprocessed.length === 0) return;
      if (attempt >= this.retry.attempts) {
        throw new Error(
          `DynamoDB left ${unprocessed.length} write(s) unprocessed after ${attempt} attempts of BatchWriteItem`,
        );
      }
      this.logger.warn(`DynamoDB left ${unprocessed.length} write(s) unprocessed; retrying`);
      await sleep(backoffDelay(this.retry, attempt - 1));
      pending = unprocessed;
    }
  }
}
