/**
 * The two ways the store sends requests. Tests that touch DynamoDB run once per transport, so the
 * store's behaviour is checked to be the same over both and dynalite validates the requests of each.
 */
export interface Transport {
  name: string;
  /** What `DynamoDBPersistentDataStore.transport` must report. */
  transport: 'http' | 'aws-sdk';
  /** The store option that selects it when region and credentials are plain values. */
  useAwsSdk: boolean;
}

export const TRANSPORTS: Transport[] = [
  { name: 'the built-in HTTP client', transport: 'http', useAwsSdk: false },
  { name: 'AWS SDK v3', transport: 'aws-sdk', useAwsSdk: true },
];
