// A small flag service for tests: serves the LaunchDarkly server-side protocol (SSE `/all`, polling
// `/sdk/latest-all`, event posts to `/bulk` and `/diagnostic`) on a loopback port, so SDKs under test,
// ours and the official one alike, talk real HTTP to it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedPost {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface ProtocolServer {
  url: string;
  flags: Record<string, Record<string, unknown>>;
  segments: Record<string, Record<string, unknown>>;
  posts: RecordedPost[];
  /** Sends an SSE event to every open stream. */
  broadcast(event: string, data: unknown): void;
  /** Replaces or adds a flag (bumping nothing: pass the version you want) and streams a patch. */
  patchFlag(flag: Record<string, unknown> & { key: string }): void;
  /** Resolves once `count` posts to `path` have arrived. */
  waitForPosts(path: string, count: number, timeoutMs?: number): Promise<RecordedPost[]>;
  openStreams(): number;
  close(): Promise<void>;
}

export async function startProtocolServer(
  data: {
    flags?: Record<string, Record<string, unknown>>;
    segments?: Record<string, Record<string, unknown>>;
  } = {},
): Promise<ProtocolServer> {
  const flags = { ...(data.flags ?? {}) };
  const segments = { ...(data.segments ?? {}) };
  const posts: RecordedPost[] = [];
  const streams = new Set<http.ServerResponse>();
  const postWaiters: (() => void)[] = [];

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && path === '/all') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`event: put\ndata: ${JSON.stringify({ path: '/', data: { flags, segments } })}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (req.method === 'GET' && path === '/sdk/latest-all') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ flags, segments }));
      return;
    }
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        posts.push({ path, headers: req.headers, body: text ? JSON.parse(text) : undefined });
        res.writeHead(202, { date: new Date().toUTCString() });
        res.end();
        for (const w of postWaiters.splice(0)) w();
      });
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const broadcast = (event: string, payload: unknown) => {
    for (const res of streams) res.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
  };

  return {
    url: `http://127.0.0.1:${port}`,
    flags,
    segments,
    posts,
    broadcast,
    patchFlag(flag) {
      flags[flag.key] = flag;
      broadcast('patch', { path: `/flags/${flag.key}`, data: flag });
    },
    async waitForPosts(path, count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = posts.filter((p) => p.path === path);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} posts to ${path}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          postWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    openStreams: () => streams.size,
    async close() {
      for (const res of streams) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
