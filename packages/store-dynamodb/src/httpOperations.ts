import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import aws4 from 'aws4';
import type { DynamoDBOperations } from './operations.js';
import { backoffDelay, type RetryPolicy, sleep } from './retry.js';

/** Static credentials, as Lambda puts them in the environment or as `clientOptions.credentials` holds them. */
export interface PlainCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

export interface HttpClientConfig {
  /** `https://dynamodb.<region>.amazonaws.com` unless an endpoint was configured. */
  endpoint: URL;
  region: string;
  credentials: PlainCredentials;
  /** Tries of one request that fails in transit or with a 5xx, the first included (AWS SDK default 3). */
  maxAttempts: number;
}

/** A DynamoDB error answer (`__type` and `message` of the JSON body), or an HTTP failure without one. */
export class DynamoDBServiceError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = name;
  }
}

// Answers that say "try again later" without being throttling (which the store itself retries, with
// a warning), and the socket errors of a request that never got an answer. The AWS SDK repeats a
// request after the same failures.
const TRANSIENT_NAMES = new Set([
  'InternalServerError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

function isTransient(err: unknown): boolean {
  if (err instanceof DynamoDBServiceError) return err.statusCode >= 500 || TRANSIENT_NAMES.has(err.name);
  return NETWORK_ERRORS.has((err as { code?: string } | undefined)?.code ?? '');
}

function serviceError(response: IncomingMessage, text: string): DynamoDBServiceError {
  const status = response.statusCode ?? 0;
  const requestId = response.headers['x-amzn-requestid'] as string | undefined;
  let body: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed;
  } catch {
    // Not DynamoDB's JSON (a proxy or load balancer answered): the status is all there is.
  }
  // `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` -> the part after '#'.
  const type = typeof body.__type === 'string' ? body.__type.slice(body.__type.lastIndexOf('#') + 1) : '';
  const message = typeof body.message === 'string' ? body.message : body.Message;
  return new DynamoDBServiceError(
    type || `HTTP${status}`,
    typeof message === 'string' ? message : `DynamoDB answered HTTP ${status}`,
    status,
    requestId,
  );
}

/**
 * The store's calls as plain DynamoDB JSON-protocol requests (`POST /` with `X-Amz-Target:
 * DynamoDB_20120810.<Operation>`), signed with Signature Version 4 by `aws4`. It exists for cold starts:
 * it loads in a few milliseconds where `@aws-sdk/client-dynamodb` takes about 40, and its first request
 * needs no credential or endpoint resolution. Connections are kept alive between requests and never
 * keep the process running.
 */
export class HttpOperations implements DynamoDBOperations {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly hostname: string;
  private closed = false;

  constructor(
    private readonly config: HttpClientConfig,
    private readonly retry: RetryPolicy,
  ) {
    const secure = config.endpoint.protocol === 'https:';
    // 50 sockets, as the AWS SDK's Node handler allows; idle sockets are unreferenced by Node's agent.
    this.agent = secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: 50 })
      : new HttpAgent({ keepAlive: true, maxSockets: 50 });
    this.send = secure ? httpsRequest : httpRequest;
    // URL keeps the brackets of an IPv6 literal, which the Host header needs and connecting does not.
    this.hostname = config.endpoint.hostname.replace(/^\[(.*)\]$/, '$1');
  }

  getItem(input: Parameters<DynamoDBOperations['getItem']>[0]) {
    return this.call<Awaited<ReturnType<DynamoDBOperations['getItem']>>>('GetItem', input);
  }

  query(input: Parameters<DynamoDBOperations['query']>[0]) {
    return this.call<Awaited<ReturnType<DynamoDBOperations['query']>>>('Query', input);
  }

  putItem(input: Parameters<DynamoDBOperations['putItem']>[0]) {
    return this.call<unknown>('PutItem', input);
  }

  batchWriteItem(input: Parameters<DynamoDBOperations['batchWriteItem']>[0]) {
    return this.call<Awaited<ReturnType<DynamoDBOperations['batchWriteItem']>>>('BatchWriteItem', input);
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private async call<T>(operation: string, input: object): Promise<T> {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new Error('the DynamoDB store was closed');
      try {
        return (await this.request(operation, body)) as T;
      } catch (err) {
        if (!isTransient(err) || attempt >= this.config.maxAttempts) throw err;
        await sleep(backoffDelay(this.retry, attempt - 1));
      }
    }
  }

  private request(operation: string, body: string): Promise<unknown> {
    const { endpoint, region, credentials } = this.config;
    // Signed for each attempt: the signature covers X-Amz-Date, which DynamoDB checks for freshness.
    const options = aws4.sign(
      {
        protocol: endpoint.protocol,
        hostname: this.hostname,
        port: endpoint.port || undefined,
        path: endpoint.pathname + endpoint.search,
        method: 'POST',
        service: 'dynamodb',
        region,
        headers: {
          Host: endpoint.host,
          // Names this client in DynamoDB's request logs (not signed: aws4 leaves User-Agent out).
          'User-Agent': 'flagstaff-store-dynamodb',
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': `DynamoDB_20120810.${operation}`,
        },
        body,
        agent: this.agent,
      },
      credentials,
    ) as RequestOptions;
    return new Promise((resolve, reject) => {
      const request = this.send(options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(serviceError(response, text));
            return;
          }
          try {
            resolve(text === '' ? {} : JSON.parse(text));
          } catch {
            reject(
              new DynamoDBServiceError(
                'SerializationException',
                'DynamoDB answered invalid JSON',
                status,
                undefined,
              ),
            );
          }
        });
      });
      request.on('error', reject);
      request.end(body);
    });
  }
}
