import type { AddressInfo } from 'node:net';
import aws4 from 'aws4';

export interface LocalDynamoDB {
  endpoint: string;
  table: string;
  close(): Promise<void>;
}

/**
 * The embedded DynamoDB-compatible store of `flagstaff dev`: dynalite in this process (in memory),
 * with a table in LaunchDarkly's layout (partition key `namespace`, sort key `key`) for the relay to
 * keep current and for daemon-mode SDKs to read, exactly as a real table in AWS.
 */
export async function startLocalDynamoDB(port: number, host: string, table: string): Promise<LocalDynamoDB> {
  // Loaded only here: the relay's local store is a development convenience, not part of the service.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  const endpoint = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}`;
  // One signed request creates the table; the AWS SDK is not loaded just for that (dynalite checks the
  // request format, not the credentials).
  const body = JSON.stringify({
    TableName: table,
    KeySchema: [
      { AttributeName: 'namespace', KeyType: 'HASH' },
      { AttributeName: 'key', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'namespace', AttributeType: 'S' },
      { AttributeName: 'key', AttributeType: 'S' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  });
  const url = new URL(endpoint);
  const signed = aws4.sign(
    {
      host: url.host,
      path: '/',
      method: 'POST',
      service: 'dynamodb',
      region: process.env.AWS_REGION ?? 'us-east-1',
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': 'DynamoDB_20120810.CreateTable',
      },
      body,
    },
    { accessKeyId: 'flagstaff-dev', secretAccessKey: 'flagstaff-dev' },
  );
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body,
  });
  if (!res.ok) throw new Error(`creating the local DynamoDB table failed: ${res.status} ${await res.text()}`);

  return {
    endpoint,
    table,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
