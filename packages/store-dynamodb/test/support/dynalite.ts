/*
 * A local DynamoDB for tests: dynalite (in-memory LevelDB) started in this process on a free port. The
 * store reaches it over real HTTP, through AWS SDK v3 or through its own signed-HTTP client, so requests
 * are validated as DynamoDB would. Every request is recorded, and a test can answer requests itself
 * (throttling, unprocessed items, delays) at the HTTP level, which works the same for both clients.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';

// dynalite ships no type declarations; this is the one call the tests use.
type DynaliteFactory = (options: {
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
}) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

/** One request as the server received it. */
export interface RecordedRequest {
  /** `GetItem`, `Query`, ... (the part of `X-Amz-Target` after the dot). */
  operation: string;
  /** The parsed JSON body. */
  input: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What an interceptor answers instead of dynalite: an HTTP status and a JSON body. */
export interface InterceptedAnswer {
  status: number;
  body: unknown;
}

/** Answers a request itself, or returns undefined to let dynalite answer it (possibly after a delay). */
export type Interceptor = (
  request: RecordedRequest,
) => InterceptedAnswer | undefined | Promise<InterceptedAnswer | undefined>;

/** DynamoDB's error body for `code`, e.g. `ProvisionedThroughputExceededException`. */
export function errorAnswer(code: string, message: string, status = 400): InterceptedAnswer {
  return { status, body: { __type: `com.amazonaws.dynamodb.v20120810#${code}`, message } };
}

// Requests of the `admin` client carry this header: they are neither recorded nor intercepted, so test
// setup and inspection never disturb what a test counts.
const ADMIN_HEADER = 'x-flagstaff-test-admin';

export interface LocalDynamoDB {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Configuration for a v3 client pointed at this server. */
  clientConfig: DynamoDBClientConfig;
  /** A client for test setup and inspection (tables, raw items). */
  admin: DynamoDBClient;
  /** Creates a table with a fresh name in LaunchDarkly's schema and waits until it is ACTIVE. */
  createTable(): Promise<string>;
  /** Every raw item of a table, for checking the stored layout. */
  scan(table: string): Promise<Record<string, AttributeValue>[]>;
  /** Requests received since the last `clearRequests()` (admin requests excepted). */
  requests: RecordedRequest[];
  clearRequests(): void;
  /** Sets (or with undefined removes) the interceptor of every request but the admin's. */
  intercept(interceptor: Interceptor | undefined): void;
  close(): Promise<void>;
}

let tableCounter = 0;

export async function startDynalite(): Promise<LocalDynamoDB> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const requests: RecordedRequest[] = [];
  let interceptor: Interceptor | undefined;
  // dynalite's own handler runs on a replay of the body read here.
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      let answer: InterceptedAnswer | undefined;
      if (req.headers[ADMIN_HEADER] === undefined) {
        const target = String(req.headers['x-amz-target'] ?? '');
        let input: Record<string, unknown> = {};
        try {
          input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          // Left for dynalite to refuse.
        }
        const recorded = {
          operation: target.slice(target.indexOf('.') + 1),
          input,
          headers: req.headers,
          body: body.toString('utf8'),
        };
        requests.push(recorded);
        try {
          answer = await interceptor?.(recorded);
        } catch (err) {
          answer = errorAnswer('InternalServerError', String(err), 500);
        }
      }
      if (answer !== undefined) {
        const json = JSON.stringify(answer.body);
        res.statusCode = answer.status;
        res.setHeader('Content-Type', 'application/x-amz-json-1.0');
        res.setHeader('x-amzn-RequestId', 'intercepted');
        res.end(json);
        return;
      }
      const replay = Object.assign(Readable.from(body.length > 0 ? [body] : []), {
        headers: req.headers,
        method: req.method,
        url: req.url,
      });
      for (const handler of handlers) handler.call(server, replay as unknown as IncomingMessage, res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  // Dummy credentials: dynalite checks that requests are signed, not by whom.
  const accessKeyId = 'test';
  const secretAccessKey = 'test';
  const clientConfig: DynamoDBClientConfig = {
    endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey },
  };
  const admin = new DynamoDBClient(clientConfig);
  admin.middlewareStack.add(
    (next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers[ADMIN_HEADER] = '1';
      return next(args);
    },
    { step: 'build', name: 'markAdminRequests' },
  );

  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    clientConfig,
    admin,
    async createTable() {
      const name = `flags-${process.pid}-${++tableCounter}`;
      await admin.send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: [
            { AttributeName: 'namespace', KeyType: 'HASH' },
            { AttributeName: 'key', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'namespace', AttributeType: 'S' },
            { AttributeName: 'key', AttributeType: 'S' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      // CreateTable answers CREATING even when dynalite makes it at once; wait as one would on AWS.
      for (let i = 0; ; i++) {
        const { Table } = await admin.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') return name;
        if (i > 100) throw new Error(`table ${name} did not become ACTIVE`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async scan(table) {
      const items: Record<string, AttributeValue>[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const out = await admin.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
        items.push(...(out.Items ?? []));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return items;
    },
    requests,
    clearRequests() {
      requests.length = 0;
    },
    intercept(next) {
      interceptor = next;
    },
    async close() {
      admin.destroy();
      // Keep-alive sockets of clients would hold dynalite's graceful close open for its 30 s timeout.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
