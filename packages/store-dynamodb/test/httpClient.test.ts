/*
 * The built-in HTTP client on its own: when the store chooses it, that its signatures are what an
 * independent SigV4 implementation (the AWS SDK's) computes, and how it handles failures. The store's
 * behaviour over it is tested with the other transport in store, limits and featureStore tests.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FEATURES } from '@flagstaff/node-server-sdk';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { httpClientConfig } from '../src/clientOptions.js';
import { DynamoDBServiceError, type HttpClientConfig, HttpOperations } from '../src/httpOperations.js';
import { DynamoDBPersistentDataStore } from '../src/index.js';
import { type LocalDynamoDB, startDynalite } from './support/dynalite.js';
import { dataSet, flagJson, silentLogger } from './support/fixtures.js';

const FAST_RETRY = { attempts: 6, baseDelayMs: 1, maxDelayMs: 2 };
const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

/** A Lambda environment as the runtime sets it. */
const LAMBDA_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_SESSION_TOKEN: 'token',
};

describe('when the HTTP client is used (httpClientConfig)', () => {
  it('takes region and credentials from the Lambda environment and the regional endpoint', () => {
    expect(httpClientConfig(undefined, LAMBDA_ENV)).toEqual({
      endpoint: new URL('https://dynamodb.eu-west-1.amazonaws.com/'),
      region: 'eu-west-1',
      credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
      maxAttempts: 3,
    });
  });

  it('prefers the options to the environment, in v3 or v2 style', () => {
    const v3 = httpClientConfig(
      { region: 'us-west-2', endpoint: 'http://localhost:8000', credentials: KEYS, maxAttempts: 5 },
      LAMBDA_ENV,
    );
    expect(v3).toEqual({
      endpoint: new URL('http://localhost:8000'),
      region: 'us-west-2',
      credentials: { ...KEYS, sessionToken: undefined },
      maxAttempts: 5,
    });
    const v2 = httpClientConfig({ region: 'us-west-2', ...KEYS, sessionToken: 't', maxRetries: 0 }, {});
    expect(v2).toMatchObject({ credentials: { ...KEYS, sessionToken: 't' }, maxAttempts: 1 });
  });

  it('uses the endpoint domain of the region partition', () => {
    const endpoint = (region: string) => httpClientConfig({ region, credentials: KEYS }, {})?.endpoint.href;
    expect(endpoint('cn-north-1')).toBe('https://dynamodb.cn-north-1.amazonaws.com.cn/');
    expect(endpoint('us-gov-west-1')).toBe('https://dynamodb.us-gov-west-1.amazonaws.com/');
    expect(endpoint('ap-southeast-5')).toBe('https://dynamodb.ap-southeast-5.amazonaws.com/');
    // Partitions with other domains are left to the AWS SDK's endpoint rules.
    expect(endpoint('us-iso-east-1')).toBeUndefined();
    expect(endpoint('eusc-de-east-1')).toBeUndefined();
  });

  it('leaves to the AWS SDK whatever needs resolving or is SDK configuration', () => {
    const cases: [string, Parameters<typeof httpClientConfig>[0], NodeJS.ProcessEnv][] = [
      ['no region', { credentials: KEYS }, {}],
      ['no credentials', { region: 'us-east-1' }, {}],
      ['a credential provider', { region: 'us-east-1', credentials: async () => KEYS }, {}],
      ['a region provider', { region: async () => 'us-east-1', credentials: KEYS }, {}],
      ['a profile', undefined, { ...LAMBDA_ENV, AWS_PROFILE: 'dev' }],
      ['an SDK-only option', { region: 'us-east-1', credentials: KEYS, retryMode: 'adaptive' }, {}],
      [
        'an endpoint object',
        { region: 'us-east-1', credentials: KEYS, endpoint: { url: new URL('http://x') } },
        {},
      ],
      [
        'an endpoint without scheme',
        { region: 'us-east-1', credentials: KEYS, endpoint: 'localhost:8000' },
        {},
      ],
      ['an endpoint in the environment', undefined, { ...LAMBDA_ENV, AWS_ENDPOINT_URL_DYNAMODB: 'http://x' }],
      ['FIPS endpoints', undefined, { ...LAMBDA_ENV, AWS_USE_FIPS_ENDPOINT: 'true' }],
      [
        'maxAttempts as a provider',
        { region: 'us-east-1', credentials: KEYS, maxAttempts: async () => 2 },
        {},
      ],
    ];
    for (const [what, options, env] of cases) {
      expect(httpClientConfig(options as Parameters<typeof httpClientConfig>[0], env), what).toBeUndefined();
    }
    // A disabled FIPS setting changes nothing.
    expect(httpClientConfig(undefined, { ...LAMBDA_ENV, AWS_USE_FIPS_ENDPOINT: 'false' })).toBeDefined();
  });

  it('reads AWS_MAX_ATTEMPTS as the AWS SDK does', () => {
    expect(httpClientConfig(undefined, { ...LAMBDA_ENV, AWS_MAX_ATTEMPTS: '7' })?.maxAttempts).toBe(7);
  });
});

describe('the store chooses its transport', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('HTTP with plain values, the AWS SDK with a client, with useAwsSdk, or when something needs resolving', () => {
    for (const [name, value] of Object.entries(LAMBDA_ENV)) vi.stubEnv(name, value);
    vi.stubEnv('AWS_PROFILE', undefined);
    const transport = (options: ConstructorParameters<typeof DynamoDBPersistentDataStore>[1]) => {
      const store = new DynamoDBPersistentDataStore('t', { logger: silentLogger, ...options });
      store.close();
      return store.transport;
    };
    expect(transport({})).toBe('http');
    expect(transport({ clientOptions: { endpoint: 'http://localhost:8000' } })).toBe('http');
    expect(transport({ useAwsSdk: true })).toBe('aws-sdk');
    expect(transport({ clientOptions: { credentials: async () => KEYS } })).toBe('aws-sdk');
    vi.stubEnv('AWS_PROFILE', 'dev');
    expect(transport({})).toBe('aws-sdk');
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_REGION', undefined);
    expect(transport({})).toBe('aws-sdk');
  });
});

describe('against dynalite', () => {
  let db: LocalDynamoDB;
  let table: string;

  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    table = await db.createTable();
    db.clearRequests();
    return () => {
      vi.unstubAllEnvs();
    };
  });

  it('signs with the credentials of the Lambda environment, session token included', async () => {
    vi.stubEnv('AWS_REGION', db.region);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-env');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-from-env');
    vi.stubEnv('AWS_PROFILE', undefined);
    const store = new DynamoDBPersistentDataStore(table, {
      clientOptions: { endpoint: db.endpoint },
      logger: silentLogger,
    });
    try {
      expect(store.transport).toBe('http');
      await store.init(dataSet([flagJson('f', 1)]));
      expect((await store.get(FEATURES, 'f'))?.version).toBe(1);
      for (const request of db.requests) {
        expect(request.headers['x-amz-security-token']).toBe('session-from-env');
        expect(request.headers.authorization).toMatch(
          new RegExp(`^AWS4-HMAC-SHA256 Credential=ASIAFROMENV/\\d{8}/${db.region}/dynamodb/aws4_request, `),
        );
        expect(request.headers['content-type']).toBe('application/x-amz-json-1.0');
      }
    } finally {
      await store.close();
    }
  });

  it('rejects once closed', async () => {
    const store = new DynamoDBPersistentDataStore(table, {
      clientOptions: db.clientConfig,
      logger: silentLogger,
    });
    await store.close();
    await expect(store.get(FEATURES, 'f')).rejects.toThrow(/closed/);
  });
});

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the AWS SDK's signer takes. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

interface Captured {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A server that records each request and answers with the next of `answers` (then `{}`), or drops it. */
async function fakeDynamoDB(
  answers: (((res: import('node:http').ServerResponse) => void) | undefined)[] = [],
) {
  const captured: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      captured.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift();
      if (answer) answer(res);
      else res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    captured,
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function client(port: number, overrides: Partial<HttpClientConfig> = {}): HttpOperations {
  return new HttpOperations(
    {
      endpoint: new URL(`http://127.0.0.1:${port}`),
      region: 'eu-central-1',
      credentials: KEYS,
      maxAttempts: 3,
      ...overrides,
    },
    FAST_RETRY,
  );
}

describe('HttpOperations', () => {
  for (const sessionToken of [undefined, 'the-session-token']) {
    it(`signs as the AWS SDK's own SigV4 signer does (${sessionToken ? 'with' : 'without'} a session token)`, async () => {
      const server = await fakeDynamoDB();
      const operations = client(server.port, { credentials: { ...KEYS, sessionToken } });
      try {
        await operations.getItem({
          TableName: 'flags',
          Key: { namespace: { S: 'features' }, key: { S: 'ключ €' } },
          ConsistentRead: true,
        });
        const [request] = server.captured;
        const { authorization, connection: _, ...headers } = request!.headers;
        expect(headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
        expect(headers.host).toBe(`127.0.0.1:${server.port}`);
        const date = String(headers['x-amz-date']);
        const signingDate = new Date(
          `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
        );
        const signer = new SignatureV4({
          service: 'dynamodb',
          region: 'eu-central-1',
          credentials: { ...KEYS, sessionToken },
          sha256: Sha256,
          applyChecksum: false,
        });
        const signed = await signer.sign(
          {
            method: 'POST',
            protocol: 'http:',
            hostname: '127.0.0.1',
            port: server.port,
            path: '/',
            query: {},
            headers: headers as Record<string, string>,
            body: request!.body,
          },
          { signingDate },
        );
        expect(authorization).toMatch(
          /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-central-1\/dynamodb\//,
        );
        expect(authorization).toBe(signed.headers.authorization);
        expect(JSON.parse(request!.body)).toEqual({
          TableName: 'flags',
          Key: { namespace: { S: 'features' }, key: { S: 'ключ €' } },
          ConsistentRead: true,
        });
      } finally {
        operations.close();
        await server.close();
      }
    });
  }

  it("names errors by DynamoDB's error type and does not repeat client errors", async () => {
    const server = await fakeDynamoDB([
      (res) => {
        res.statusCode = 400;
        res.setHeader('x-amzn-RequestId', 'REQ1');
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
            message: 'The conditional request failed',
          }),
        );
      },
    ]);
    const operations = client(server.port);
    try {
      const error = await operations.putItem({ TableName: 't', Item: {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DynamoDBServiceError);
      expect(error).toMatchObject({
        name: 'ConditionalCheckFailedException',
        message: 'The conditional request failed',
        statusCode: 400,
        requestId: 'REQ1',
      });
      expect(server.captured).toHaveLength(1);
    } finally {
      operations.close();
      await server.close();
    }
  });

  it('repeats a request after a server error without a DynamoDB body, up to maxAttempts', async () => {
    const unavailable = (res: import('node:http').ServerResponse) => {
      res.statusCode = 503;
      res.end('<html>Service Unavailable</html>');
    };
    const server = await fakeDynamoDB([unavailable, unavailable, unavailable, unavailable]);
    const operations = client(server.port);
    try {
      await expect(operations.query({ TableName: 't' })).rejects.toMatchObject({
        name: 'HTTP503',
        statusCode: 503,
      });
      expect(server.captured).toHaveLength(3);
      // The fourth answer is another 503, the fifth a success.
      await expect(operations.query({ TableName: 't' })).resolves.toEqual({});
      expect(server.captured).toHaveLength(5);
    } finally {
      operations.close();
      await server.close();
    }
  });

  it('repeats a request whose connection was reset', async () => {
    const server = await fakeDynamoDB([(res) => res.socket?.destroy()]);
    const operations = client(server.port);
    try {
      await expect(operations.batchWriteItem({ RequestItems: {} })).resolves.toEqual({});
      expect(server.captured).toHaveLength(2);
      expect(server.captured[1]!.body).toBe(server.captured[0]!.body);
    } finally {
      operations.close();
      await server.close();
    }
  });
});
