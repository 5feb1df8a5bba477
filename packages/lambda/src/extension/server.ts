// The extension's loopback HTTP server: the SDK in the runtime posts its event payloads here (its
// `eventsUri` points here), and the wrapper says when an invocation's hand-off is complete. Both
// answer as soon as the bytes are in memory, which is what keeps the hand-off sub-millisecond.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Handoffs } from './handoffs.js';
import type { Outbox } from './outbox.js';
import { DONE_PATH, decodeTarget, FORWARD_PREFIX, STATUS_PATH } from './protocol.js';

const MAX_BODY = 5 * 1024 * 1024;
// Request headers passed on to the events service. Hop-by-hop and length headers are the HTTP
// client's business; everything describing the payload or its sender goes through unchanged.
const FORWARDED =
  /^(authorization|content-type|content-encoding|user-agent|x-launchdarkly-.*|x-flagstaff-.*)$/;

export interface LoopbackServer {
  server: Server;
  port: number;
}

export async function startLoopbackServer(options: {
  port: number;
  outbox: Outbox;
  handoffs: Handoffs;
  /** Called after each accepted payload, e.g. to start delivering while the runtime is still busy. */
  onPayload?: () => void;
}): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    handle(req, res, options).catch(() => reply(res, 500, { error: 'internal error' }));
  });
  // Idle loopback connections stay open for good. With Node's 5 s default, the first request after a
  // thaw could race the server's own close of the socket it reuses (the timer fires on thaw, since the
  // monotonic clock ran through the freeze), and a lost "done" costs the invocation its deadline.
  server.keepAliveTimeout = 0;
  // The port is fixed so the wrapper could find it without the marker file; if something else holds
  // it, any free port will do, since the marker file carries the real one.
  const port = await listen(server, options.port).catch(() => listen(server, 0));
  return { server, port };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: { outbox: Outbox; handoffs: Handoffs; onPayload?: () => void },
): Promise<void> {
  const path = (req.url ?? '').split('?')[0]!;
  if (req.method === 'GET' && path === STATUS_PATH) {
    reply(res, 200, options.outbox.snapshot());
    return;
  }
  if (req.method !== 'POST') {
    reply(res, 405, { error: 'method not allowed' });
    return;
  }
  const body = await readBody(req);
  if (body === undefined) {
    reply(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
    return;
  }
  if (path === DONE_PATH) {
    let requestId: unknown;
    try {
      requestId = (JSON.parse(Buffer.from(body).toString('utf8')) as { requestId?: unknown }).requestId;
    } catch {
      requestId = undefined;
    }
    if (typeof requestId !== 'string' || requestId === '') {
      reply(res, 400, { error: 'requestId: expected a non-empty string' });
      return;
    }
    options.handoffs.signal(requestId);
    reply(res, 204);
    return;
  }
  if (path.startsWith(FORWARD_PREFIX)) {
    const rest = path.slice(FORWARD_PREFIX.length);
    const slash = rest.indexOf('/');
    const target = slash > 0 ? decodeTarget(rest.slice(0, slash)) : undefined;
    if (target === undefined) {
      reply(res, 400, { error: 'path: expected /v1/forward/<base64url events URI>/<endpoint>' });
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && FORWARDED.test(name)) headers[name] = value;
    }
    options.outbox.add({ url: `${target}${rest.slice(slash)}`, headers, body });
    // 202 like the events service: the SDK counts the payload as delivered and forgets it.
    reply(res, 202);
    options.onPayload?.();
    return;
  }
  reply(res, 404, { error: 'not found' });
}

function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}
