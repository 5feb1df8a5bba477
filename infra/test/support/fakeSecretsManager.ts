// A stand-in for the Secrets Manager endpoint (GetSecretValue only), reached through the AWS SDKs'
// AWS_ENDPOINT_URL_SECRETS_MANAGER variable. It records each request, answers from a fixed set of
// secrets, and can be told to fail the next requests.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretRequest {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeSecretsManager {
  endpoint: string;
  requests: SecretRequest[];
  /** The next `count` requests get a 500 ServiceUnavailable-style answer. */
  failNext(count: number): void;
  close(): Promise<void>;
}

export async function startFakeSecretsManager(secrets: Record<string, string>): Promise<FakeSecretsManager> {
  const requests: SecretRequest[] = [];
  let failures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ headers: req.headers, body });
      const answer = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (failures > 0) {
        failures--;
        answer(500, { __type: 'InternalServiceError', message: 'try again' });
        return;
      }
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        answer(400, { __type: 'UnknownOperationException', message: String(req.headers['x-amz-target']) });
        return;
      }
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      const value = secrets[SecretId];
      if (value === undefined) {
        answer(400, {
          __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      answer(200, { ARN: SecretId, Name: SecretId, SecretString: value, VersionId: 'v1' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    failNext: (count) => {
      failures = count;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
