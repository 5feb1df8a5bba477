/*
 * A local DynamoDB for tests: dynalite (in-memory LevelDB) started in this process on a free port, and
 * reached through the real AWS SDK v3 client, so the store's requests are validated as DynamoDB would.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
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
  close(): Promise<void>;
}

let tableCounter = 0;

export async function startDynalite(): Promise<LocalDynamoDB> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
    async close() {
      admin.destroy();
      // Keep-alive sockets of clients would hold dynalite's graceful close open for its 30 s timeout.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
