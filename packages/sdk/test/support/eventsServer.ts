import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { LDOptions } from '../../src/api/options.js';
import { buildConfig, type Config } from '../../src/options/config.js';

export const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * A Config for event tests: all URIs on the test server, no diagnostics and no timer flush unless
 * asked for. `overrides` sets Config fields directly, for intervals below the option minimums.
 */
export function eventsConfig(url: string, options: LDOptions = {}, overrides: Partial<Config> = {}): Config {
  const config = buildConfig('sdk-key-123456', {
    baseUri: url,
    streamUri: url,
    eventsUri: url,
    diagnosticOptOut: true,
    flushInterval: 3600,
    logger: silentLogger,
    ...options,
  });
  return { ...config, ...overrides };
}

/** One request as the events server received it, body decoded (gunzipped when compressed). */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The bytes as they arrived on the wire. */
  raw: Buffer;
  json: unknown;
}

/** What to answer: a status, optional headers, or `destroy` to cut the connection (a network error). */
export type Reply = { status: number; headers?: Record<string, string>; delayMs?: number } | 'destroy';

export interface EventsServer {
  url: string;
  requests: RecordedRequest[];
  /** The most requests that were ever open at the same time. */
  maxConcurrent(): number;
  /** Requests to `/bulk` only. */
  bulk(): RecordedRequest[];
  /** Requests to `/diagnostic` only. */
  diagnostic(): RecordedRequest[];
  /** Replies for the next requests to `/bulk`, in order; afterwards every request gets 202. */
  replyWith(...replies: Reply[]): void;
  /** The same for `/diagnostic`. */
  replyToDiagnosticWith(...replies: Reply[]): void;
  /** Resolves once `count` requests matching `path` have arrived. */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<void>;
  /** Closes every open connection (idle keep-alive ones included); the server keeps listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records every request; no HTTP mocking. */
export async function startEventsServer(): Promise<EventsServer> {
  const requests: RecordedRequest[] = [];
  const replies: Record<string, Reply[]> = { '/bulk': [], '/diagnostic': [] };
  const waiters: { path: string; count: number; resolve: () => void }[] = [];

  let active = 0;
  let maxActive = 0;

  const server = http.createServer((req, res) => {
    active++;
    maxActive = Math.max(maxActive, active);
    let open = true;
    const done = () => {
      if (open) active--;
      open = false;
    };
    res.on('close', done);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text =
        req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, json });
      for (const w of [...waiters]) {
        if (requests.filter((r) => r.path === w.path).length >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      const reply = replies[req.url ?? '']?.shift() ?? { status: 202 };
      if (reply === 'destroy') {
        req.socket.destroy();
        return;
      }
      const send = () => {
        res.writeHead(reply.status, reply.headers);
        res.end();
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    maxConcurrent: () => maxActive,
    bulk: () => requests.filter((r) => r.path === '/bulk'),
    diagnostic: () => requests.filter((r) => r.path === '/diagnostic'),
    replyWith: (...r) => {
      replies['/bulk']!.push(...r);
    },
    replyToDiagnosticWith: (...r) => {
      replies['/diagnostic']!.push(...r);
    },
    waitFor: (path, count, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.filter((r) => r.path === path).length >= count) {
          resolve();
          return;
        }
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${count} requests to ${path}`)),
          timeoutMs,
        );
        waiters.push({
          path,
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    dropConnections: () => server.closeAllConnections(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
