import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/**
 * Options for the DynamoDB client the store creates: AWS SDK v3's `DynamoDBClientConfig`, plus the
 * flat credential fields of AWS SDK v2 that code written for LaunchDarkly's v7 store passes
 * (`{ endpoint, region, accessKeyId, secretAccessKey }`).
 */
export type DynamoDBClientOptions = DynamoDBClientConfig & {
  /** v2 style: same as `credentials.accessKeyId` (used only with `secretAccessKey`). */
  accessKeyId?: string;
  /** v2 style: same as `credentials.secretAccessKey`. */
  secretAccessKey?: string;
  /** v2 style: same as `credentials.sessionToken`. */
  sessionToken?: string;
  /** v2 style: retries after the first try; becomes `maxAttempts = maxRetries + 1`. */
  maxRetries?: number;
};

/** Turns v2-style fields into their v3 equivalents; v3 fields, when both are given, win. */
export function toClientConfig(options: DynamoDBClientOptions = {}): DynamoDBClientConfig {
  const { accessKeyId, secretAccessKey, sessionToken, maxRetries, ...config } = options;
  if (config.credentials === undefined && accessKeyId !== undefined && secretAccessKey !== undefined) {
    config.credentials =
      sessionToken === undefined
        ? { accessKeyId, secretAccessKey }
        : { accessKeyId, secretAccessKey, sessionToken };
  }
  if (config.maxAttempts === undefined && typeof maxRetries === 'number' && maxRetries >= 0) {
    config.maxAttempts = maxRetries + 1;
  }
  return config;
}
