// The sync function's configuration variables, shared by the construct that sets them and the handler
// that reads them. The SDK key and webhook secret are passed as secret ARNs, never as values.
export const SYNC_ENV = {
  table: 'DYNAMODB_TABLE',
  prefix: 'DYNAMODB_PREFIX',
  baseUri: 'FLAGSTAFF_BASE_URI',
  sdkKeySecret: 'FLAGSTAFF_SDK_KEY_SECRET_ARN',
  sdkKeyField: 'FLAGSTAFF_SDK_KEY_SECRET_FIELD',
  webhookSecret: 'FLAGSTAFF_WEBHOOK_SECRET_ARN',
  /** Another DynamoDB endpoint (DynamoDB Local, LocalStack), as the relay's DYNAMODB_URL. */
  dynamoDBUrl: 'DYNAMODB_URL',
} as const;
