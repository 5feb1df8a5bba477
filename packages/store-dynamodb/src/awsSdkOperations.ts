import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DynamoDBOperations } from './operations.js';

type AwsSdk = typeof import('@aws-sdk/client-dynamodb');

/**
 * The store's calls through AWS SDK v3. The SDK is imported on the first call, not when this module
 * loads: loading `@aws-sdk/client-dynamodb` takes about 40 ms, which a Lambda cold start on the HTTP
 * client never pays, and a process that uses this path pays only once it needs it.
 */
export class AwsSdkOperations implements DynamoDBOperations {
  private loaded: Promise<{ sdk: AwsSdk; client: DynamoDBClient }> | undefined;
  private closed = false;

  /** With `client`, that client is used and never destroyed; otherwise one is created from `config`. */
  constructor(
    private readonly client: DynamoDBClient | undefined,
    private readonly config: DynamoDBClientConfig,
  ) {}

  async getItem(input: Parameters<DynamoDBOperations['getItem']>[0]) {
    const { sdk, client } = await this.load();
    return client.send(new sdk.GetItemCommand(input));
  }

  async query(input: Parameters<DynamoDBOperations['query']>[0]) {
    const { sdk, client } = await this.load();
    return client.send(new sdk.QueryCommand(input));
  }

  async putItem(input: Parameters<DynamoDBOperations['putItem']>[0]) {
    const { sdk, client } = await this.load();
    return client.send(new sdk.PutItemCommand(input));
  }

  async batchWriteItem(input: Parameters<DynamoDBOperations['batchWriteItem']>[0]) {
    const { sdk, client } = await this.load();
    return client.send(new sdk.BatchWriteItemCommand(input));
  }

  close(): void {
    this.closed = true;
    if (this.client !== undefined || this.loaded === undefined) return;
    this.loaded.then(
      ({ client }) => client.destroy(),
      () => {},
    );
  }

  private load(): Promise<{ sdk: AwsSdk; client: DynamoDBClient }> {
    if (this.closed) return Promise.reject(new Error('the DynamoDB store was closed'));
    this.loaded ??= import('@aws-sdk/client-dynamodb').then(
      (sdk) => ({ sdk, client: this.client ?? new sdk.DynamoDBClient(this.config) }),
      (err: unknown) => {
        throw new Error(
          '@flagstaff/store-dynamodb needs @aws-sdk/client-dynamodb here (credentials or region are not ' +
            `given as plain values, or the options ask for the AWS SDK), and it could not be loaded: ${String(err)}`,
        );
      },
    );
    return this.loaded;
  }
}
