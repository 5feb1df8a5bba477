import type {
  BatchWriteItemCommandInput,
  BatchWriteItemCommandOutput,
  GetItemCommandInput,
  GetItemCommandOutput,
  PutItemCommandInput,
  QueryCommandInput,
  QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';

/**
 * The four DynamoDB calls the store makes, so that its logic (layout, pagination, retries, the
 * conditional put, batching, size checks) is written once over two ways of sending them: the AWS SDK v3
 * client, and a small signed-HTTP client for cold starts. Inputs and outputs are DynamoDB's JSON
 * protocol, which is also the shape of the AWS SDK v3 command inputs and outputs for the attribute
 * types the store uses (S and N). Failures reject with an error whose `name` is DynamoDB's error code.
 */
export interface DynamoDBOperations {
  getItem(input: GetItemCommandInput): Promise<Pick<GetItemCommandOutput, 'Item'>>;
  query(input: QueryCommandInput): Promise<Pick<QueryCommandOutput, 'Items' | 'LastEvaluatedKey'>>;
  putItem(input: PutItemCommandInput): Promise<unknown>;
  batchWriteItem(
    input: BatchWriteItemCommandInput,
  ): Promise<Pick<BatchWriteItemCommandOutput, 'UnprocessedItems'>>;
  /** Releases what the operations own (connections, a client they created); never a client given to them. */
  close(): void;
}
