import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { HttpClientConfig, PlainCredentials } from './httpOperations.js';

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

/** The AWS SDK's default number of tries per request. */
const DEFAULT_MAX_ATTEMPTS = 3;

// The only client options the HTTP client understands. Any other (a request handler, a retry strategy,
// a logger, FIPS or dual-stack endpoints, ...) is AWS SDK configuration, and the AWS SDK is used.
const HTTP_CLIENT_OPTIONS = new Set(['region', 'endpoint', 'credentials', 'maxAttempts']);

// Region names of the partitions whose DynamoDB endpoint is `dynamodb.<region>.<domain>`, as the AWS
// SDK's partition table has them. Other partitions (ISO, sovereign clouds) are left to the AWS SDK.
const PARTITIONS: { regions: RegExp; domain: string }[] = [
  { regions: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, domain: 'amazonaws.com' },
  { regions: /^us-gov-\w+-\d+$/, domain: 'amazonaws.com' },
  { regions: /^cn-\w+-\d+$/, domain: 'amazonaws.com.cn' },
];

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value.toLowerCase() !== 'false';
}

function plainCredentials(value: unknown): PlainCredentials | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { accessKeyId, secretAccessKey, sessionToken } = value as Record<string, unknown>;
  if (typeof accessKeyId !== 'string' || accessKeyId === '') return undefined;
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '') return undefined;
  if (sessionToken !== undefined && typeof sessionToken !== 'string') return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: sessionToken || undefined };
}

/**
 * The configuration of the HTTP client when the options (and, for what they leave out, the environment)
 * give everything as plain values: a region, static credentials and at most an endpoint URL and
 * `maxAttempts`. This is the Lambda case: the runtime sets `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`. Undefined means the AWS SDK must resolve something
 * (a profile, a credential provider, container or instance credentials, an SDK-only option), and the
 * store then uses it. Environment variables are read as the AWS SDK v3 reads them, so both ways reach the
 * same table with the same identity.
 */
export function httpClientConfig(
  options: DynamoDBClientOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
): HttpClientConfig | undefined {
  const config = toClientConfig(options);
  for (const [name, value] of Object.entries(config)) {
    if (value !== undefined && !HTTP_CLIENT_OPTIONS.has(name)) return undefined;
  }

  const region = config.region ?? env.AWS_REGION;
  if (typeof region !== 'string' || region === '') return undefined;

  // The AWS SDK skips environment credentials when a profile is selected, so a profile means the SDK.
  const credentials =
    config.credentials !== undefined
      ? plainCredentials(config.credentials)
      : env.AWS_PROFILE
        ? undefined
        : plainCredentials({
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            sessionToken: env.AWS_SESSION_TOKEN,
          });
  if (credentials === undefined) return undefined;

  let endpoint: URL | undefined;
  if (config.endpoint !== undefined) {
    if (typeof config.endpoint !== 'string' && !(config.endpoint instanceof URL)) return undefined;
    try {
      endpoint = new URL(String(config.endpoint));
    } catch {
      return undefined;
    }
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') return undefined;
  } else {
    // Endpoint settings of the environment that the AWS SDK would apply.
    if (env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_DYNAMODB) return undefined;
    if (isSet(env.AWS_USE_FIPS_ENDPOINT) || isSet(env.AWS_USE_DUALSTACK_ENDPOINT)) return undefined;
    const partition = PARTITIONS.find((p) => p.regions.test(region));
    if (partition === undefined) return undefined;
    endpoint = new URL(`https://dynamodb.${region}.${partition.domain}/`);
  }

  if (config.maxAttempts !== undefined && typeof config.maxAttempts !== 'number') return undefined;
  const fromEnv = Number(env.AWS_MAX_ATTEMPTS);
  const maxAttempts =
    typeof config.maxAttempts === 'number'
      ? config.maxAttempts
      : Number.isInteger(fromEnv) && fromEnv >= 1
        ? fromEnv
        : DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) return undefined;
  return { endpoint, region, credentials, maxAttempts };
}
