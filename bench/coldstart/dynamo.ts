/**
 * dynalite (DynamoDB on an in-memory LevelDB) in this process, on a free port of 127.0.0.1, with every
 * request it serves recorded: operation (the `X-Amz-Target` header), when it arrived and when its
 * response was finished. The benchmark's children talk to it over real HTTP, so what is recorded is
 * exactly what each SDK sent.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';

// dynalite ships no type declarations; this is the one call used.
type DynaliteFactory = (options: {
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
}) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

export interface ServedRequest {
  /** `GetItem`, `Query`, ... (the part of `X-Amz-Target` after the dot). */
  operation: string;
  /** ms (performance.now() of this process) when the request arrived and when its response ended. */
  arrived: number;
  finished: number;
}

export interface LocalDynamoDB {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  clientConfig: DynamoDBClientConfig;
  /** Creates a table in LaunchDarkly's schema and waits until it is ACTIVE. */
  createTable(name: string): Promise<void>;
  /** Starts a new recording and returns the requests of the previous one. */
  takeRequests(): ServedRequest[];
  close(): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamoDB> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let recorded: ServedRequest[] = [];
  // Runs before dynalite's own listener, so arrival is stamped before dynalite reads the body.
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const entry: ServedRequest = {
      operation: target.slice(target.indexOf('.') + 1) || '(no target)',
      arrived: performance.now(),
      finished: Number.NaN,
    };
    const list = recorded;
    list.push(entry);
    response.once('finish', () => {
      entry.finished = performance.now();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  // dynalite checks that a request is signed, not by whom.
  const accessKeyId = 'bench';
  const secretAccessKey = 'bench';
  const clientConfig: DynamoDBClientConfig = {
    endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey },
  };
  const admin = new DynamoDBClient(clientConfig);

  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    clientConfig,
    async createTable(name) {
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
      for (let i = 0; ; i++) {
        const { Table } = await admin.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') return;
        if (i > 100) throw new Error(`table ${name} did not become ACTIVE`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    takeRequests() {
      const previous = recorded;
      recorded = [];
      return previous;
    },
    async close() {
      admin.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/**
 * How many sequential rounds the requests took: a request that arrived after another one's response
 * was finished is counted in a later round than that one (it may have waited for it); requests sent
 * together (as with `Promise.all`) arrive before any of them is answered and share a round.
 */
export function roundTrips(requests: readonly ServedRequest[]): number {
  const sorted = [...requests].sort((a, b) => a.arrived - b.arrived);
  const depth: number[] = [];
  sorted.forEach((request, i) => {
    let d = 1;
    for (let j = 0; j < i; j++) {
      if (sorted[j]!.finished <= request.arrived) d = Math.max(d, depth[j]! + 1);
    }
    depth.push(d);
  });
  return Math.max(0, ...depth);
}
