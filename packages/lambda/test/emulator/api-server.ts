// The HTTP edge of the emulator: the Runtime API (2018-06-01) and the Extensions API (2020-01-01) on a
// random port of 127.0.0.1. It parses paths, headers and bodies and hands each call to the environment;
// the environment decides what to answer. Long-polling `next` calls are handed over unanswered.
//
// Runtime API: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
// Extensions API: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A parked long-poll: answer it later, or learn that the caller went away. */
export interface ParkedCall {
  answer(reply: Reply): void;
  /** The caller's connection closed before an answer (its process died). */
  readonly gone: boolean;
  onGone(listener: () => void): void;
}

export interface ApiHandlers {
  runtimeNext(call: ParkedCall): void;
  runtimeResponse(requestId: string, body: string): Reply;
  runtimeError(requestId: string, body: string, errorType: string | undefined): Reply;
  runtimeInitError(body: string, errorType: string | undefined): Reply;
  extensionRegister(name: string | undefined, body: string): Reply;
  /** Returns a reply to refuse the call at once, or undefined after parking it. */
  extensionNext(id: string | undefined, call: ParkedCall): Reply | undefined;
  extensionError(
    kind: 'init' | 'exit',
    id: string | undefined,
    errorType: string | undefined,
    body: string,
  ): Reply;
}

const RUNTIME = '/2018-06-01/runtime';
const EXTENSION = '/2020-01-01/extension';

export class ApiServer {
  private readonly server: Server;
  private portNumber = 0;

  constructor(private readonly handlers: ApiHandlers) {
    this.server = createServer((req, res) => {
      readBody(req).then(
        (body) => this.route(req, res, body),
        () => res.destroy(),
      );
    });
    // Long polls stay open for as long as the environment is frozen, and a frozen client cannot answer
    // keep-alive probes: the server must never time a connection out on its own.
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.portNumber = (this.server.address() as AddressInfo).port;
    return this.portNumber;
  }

  get port(): number {
    return this.portNumber;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const header = (name: string): string | undefined => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    };
    const h = this.handlers;

    if (method === 'GET' && path === `${RUNTIME}/invocation/next`) {
      h.runtimeNext(park(res));
      return;
    }
    const invocation = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (method === 'POST' && invocation !== null) {
      const requestId = decodeURIComponent(invocation[1] ?? '');
      if (invocation[2] === 'response') send(res, h.runtimeResponse(requestId, body));
      else send(res, h.runtimeError(requestId, body, header('Lambda-Runtime-Function-Error-Type')));
      return;
    }
    if (method === 'POST' && path === `${RUNTIME}/init/error`) {
      send(res, h.runtimeInitError(body, header('Lambda-Runtime-Function-Error-Type')));
      return;
    }
    if (method === 'POST' && path === `${EXTENSION}/register`) {
      send(res, h.extensionRegister(header('Lambda-Extension-Name'), body));
      return;
    }
    if (method === 'GET' && path === `${EXTENSION}/event/next`) {
      const refused = h.extensionNext(header('Lambda-Extension-Identifier'), park(res));
      if (refused !== undefined) send(res, refused);
      return;
    }
    const extensionError = /^\/2020-01-01\/extension\/(init|exit)\/error$/.exec(path);
    if (method === 'POST' && extensionError !== null) {
      send(
        res,
        h.extensionError(
          extensionError[1] === 'init' ? 'init' : 'exit',
          header('Lambda-Extension-Identifier'),
          header('Lambda-Extension-Function-Error-Type'),
          body,
        ),
      );
      return;
    }
    send(res, { status: 404, body: { errorType: 'NotFound', errorMessage: `${method} ${path}` } });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.writableEnded || res.destroyed) return;
  const text =
    reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    ...reply.headers,
  });
  res.end(text);
}

function park(res: ServerResponse): ParkedCall {
  let gone = false;
  const listeners: (() => void)[] = [];
  res.on('close', () => {
    if (res.writableEnded) return;
    gone = true;
    for (const listener of listeners) listener();
  });
  return {
    answer: (reply) => send(res, reply),
    get gone() {
      return gone;
    },
    onGone: (listener) => listeners.push(listener),
  };
}
