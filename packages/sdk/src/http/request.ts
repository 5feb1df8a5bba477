import http from 'node:http';
import https from 'node:https';

// One keep-alive agent per protocol for the whole process: polling and event posts reuse sockets, and
// Node unrefs free keep-alive sockets, so an idle agent never keeps a Lambda or a script alive.
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 8 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 8 }),
};

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Connect and read timeout; the request fails with an error when no byte arrives in time. */
  timeoutMs: number;
  /**
   * Hold the process open until the request ends (bounded by the timeout). For event deliveries,
   * whose loss the caller is waiting on; background requests such as polls leave it false.
   */
  keepProcessAlive?: boolean;
  /** Aborts the request (the promise rejects); lets a stopped poller close its socket at once. */
  signal?: AbortSignal;
}

/** One HTTP request with the shared agents; rejects on network errors and timeouts. */
export function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const req = (secure ? https : http).request(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: secure ? agents.https : agents.http,
        timeout: options.timeoutMs,
        signal: options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms: ${url}`)));
    req.on('error', reject);
    if (!options.keepProcessAlive) req.on('socket', (socket) => socket.unref());
    req.end(options.body);
  });
}

/** Opens a long-lived GET (the SSE stream) with the shared agents; the caller owns the response. */
export function openStream(
  url: string,
  headers: Record<string, string>,
  onResponse: (res: http.IncomingMessage) => void,
  onError: (err: Error) => void,
): http.ClientRequest {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const req = (secure ? https : http).request(target, { method: 'GET', headers }, onResponse);
  req.on('error', onError);
  req.on('socket', (socket) => socket.unref());
  req.end();
  return req;
}

/** Whether a failed HTTP status will be retried (spec §4.3): 400, 408, 429 and 5xx. */
export function isRecoverableStatus(status: number): boolean {
  return status === 400 || status === 408 || status === 429 || status >= 500;
}

/** An HTTP status the SDK did not expect, with the status kept for retry decisions. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}
