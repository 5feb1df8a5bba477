// Reads a Secrets Manager secret with one signed HTTPS request. The sync function needs two secrets once
// per cold start; loading the AWS SDK's Secrets Manager client for that would cost more start-up time
// than the whole sync, and the Lambda runtime's bundled SDK version is not ours to pin. The request is
// signed by `aws4`, the signer the DynamoDB store already uses for the same reason.
import aws4 from 'aws4';

export interface SecretsEnvironment {
  AWS_REGION?: string;
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  AWS_SESSION_TOKEN?: string;
  /** The AWS SDKs' service-specific endpoint variable (LocalStack, tests). */
  AWS_ENDPOINT_URL_SECRETS_MANAGER?: string;
}

export class SecretReadError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SecretReadError';
  }
}

/** The secret's `SecretString`, or one field of it when the secret holds JSON and `field` is given. */
export async function readSecret(
  secretId: string,
  field: string | undefined,
  env: SecretsEnvironment = process.env,
): Promise<string> {
  const region = env.AWS_REGION;
  if (!region) throw new SecretReadError('AWS_REGION is not set');
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
    throw new SecretReadError('no AWS credentials in the environment');
  }
  const endpoint = new URL(
    env.AWS_ENDPOINT_URL_SECRETS_MANAGER || `https://secretsmanager.${region}.amazonaws.com/`,
  );
  const body = JSON.stringify({ SecretId: secretId });
  const signed = aws4.sign(
    {
      host: endpoint.host,
      path: endpoint.pathname,
      method: 'POST',
      service: 'secretsmanager',
      region,
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'secretsmanager.GetSecretValue',
      },
      body,
    },
    {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      sessionToken: env.AWS_SESSION_TOKEN || undefined,
    },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    // fetch sets Host and Content-Length itself (and refuses to be told them); both are signed as sent.
    if (value !== undefined && !/^(host|content-length)$/i.test(name)) headers[name] = String(value);
  }
  let res: Response;
  try {
    res = await fetch(new URL(endpoint.pathname, endpoint), {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(5_000),
    });
  } catch (err) {
    throw new SecretReadError(`Secrets Manager request failed: ${(err as Error).message}`);
  }
  const text = await res.text();
  let answer: { SecretString?: unknown; __type?: unknown; message?: unknown; Message?: unknown };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new SecretReadError(`Secrets Manager answered ${res.status} with invalid JSON`);
  }
  if (!res.ok) {
    // "com.amazonaws...#ResourceNotFoundException" or just the name; the message never holds the value.
    const code = String(answer.__type ?? 'Error')
      .split('#')
      .pop();
    throw new SecretReadError(
      `Secrets Manager: ${code}: ${String(answer.message ?? answer.Message ?? res.status)}`,
      code,
    );
  }
  if (typeof answer.SecretString !== 'string') {
    throw new SecretReadError(`secret ${secretId} has no SecretString (binary secrets are not supported)`);
  }
  if (field === undefined) return answer.SecretString;
  let fields: unknown;
  try {
    fields = JSON.parse(answer.SecretString);
  } catch {
    throw new SecretReadError(`secret ${secretId} is not JSON, so it has no field "${field}"`);
  }
  const value = (fields as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || value === '') {
    throw new SecretReadError(`secret ${secretId} has no string field "${field}"`);
  }
  return value;
}
