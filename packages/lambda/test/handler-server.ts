// A minimal flag service for the handler tests (after the SDK's test/support/protocolServer.ts): it
// streams flags on `/all`, records event posts, and counts stream connections so a test can see
// that a refresh re-created the client.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HandlerTestServer {
  url: string;
  /** Bodies posted to `/bulk`, in arrival order. */
  bulk: unknown[];
  streamConnections(): number;
  /** Sum of all summary counters posted so far: the number of evaluations the server has heard of. */
  evaluationCount(): number;
  close(): Promise<void>;
}

export function boolFlag(key: string, on: boolean): Record<string, unknown> {
  return {
    key,
    version: 1,
    on,
    variations: [true, false],
    offVariation: 1,
    fallthrough: { variation: 0 },
    targets: [],
    contextTargets: [],
    rules: [],
    prerequisites: [],
    salt: key,
  };
}

export async function startHandlerTestServer(flags: Record<string, unknown>): Promise<HandlerTestServer> {
  const bulk: unknown[] = [];
  const streams = new Set<http.ServerResponse>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && path === '/all') {
      connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`event: put\ndata: ${JSON.stringify({ path: '/', data: { flags, segments: {} } })}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (path === '/bulk') bulk.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(202);
        res.end();
      });
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bulk,
    streamConnections: () => connections,
    evaluationCount: () => {
      let sum = 0;
      for (const payload of bulk) {
        for (const event of payload as {
          kind: string;
          features?: Record<string, { counters: { count: number }[] }>;
        }[]) {
          if (event.kind !== 'summary') continue;
          for (const feature of Object.values(event.features ?? {}))
            for (const counter of feature.counters) sum += counter.count;
        }
      }
      return sum;
    },
    async close() {
      for (const res of streams) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
