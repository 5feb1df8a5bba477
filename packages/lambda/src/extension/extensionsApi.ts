// A client for the Lambda Extensions API (register, event/next, error reports).
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
//
// node:http rather than fetch: `event/next` is a long poll that may stay open for hours while the
// environment is frozen, and fetch's built-in headers timeout (300 s) would fire the moment the
// process is thawed, since the monotonic clock keeps running through a freeze.

import { request } from 'node:http';

const API_VERSION = '2020-01-01';

export type LambdaEvent =
  | { eventType: 'INVOKE'; requestId: string; deadlineMs: number; invokedFunctionArn?: string }
  | { eventType: 'SHUTDOWN'; shutdownReason: string; deadlineMs: number };

export class ExtensionsApi {
  private identifier: string | undefined;

  /** `runtimeApi` is `AWS_LAMBDA_RUNTIME_API` (host:port). */
  constructor(private readonly runtimeApi: string) {}

  async register(name: string, events: Array<'INVOKE' | 'SHUTDOWN'>): Promise<void> {
    const { status, headers, body } = await call(
      this.runtimeApi,
      'POST',
      `/${API_VERSION}/extension/register`,
      {
        headers: { 'lambda-extension-name': name },
        body: JSON.stringify({ events }),
      },
    );
    const id = headers['lambda-extension-identifier'];
    if (status !== 200 || typeof id !== 'string') {
      throw new Error(`extension register answered ${status}: ${body.slice(0, 200)}`);
    }
    this.identifier = id;
  }

  async next(): Promise<LambdaEvent> {
    const { status, body } = await call(this.runtimeApi, 'GET', `/${API_VERSION}/extension/event/next`, {
      headers: this.idHeader(),
    });
    if (status !== 200) throw new Error(`extension event/next answered ${status}: ${body.slice(0, 200)}`);
    return JSON.parse(body) as LambdaEvent;
  }

  /** Reports a fatal error; Lambda then fails the init (or the shutdown) and logs the type. */
  async reportError(phase: 'init' | 'exit', errorType: string, message: string): Promise<void> {
    await call(this.runtimeApi, 'POST', `/${API_VERSION}/extension/${phase}/error`, {
      headers: { ...this.idHeader(), 'lambda-extension-function-error-type': errorType },
      body: JSON.stringify({ errorMessage: message, errorType }),
    }).catch(() => undefined);
  }

  private idHeader(): Record<string, string> {
    if (this.identifier === undefined) throw new Error('extension is not registered');
    return { 'lambda-extension-identifier': this.identifier };
  }
}

function call(
  host: string,
  method: string,
  path: string,
  options: { headers: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port: Number(port ?? 80), method, path, headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
