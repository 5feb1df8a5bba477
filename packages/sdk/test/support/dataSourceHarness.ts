// Shared by the streaming and polling tests: a real HTTP server on 127.0.0.1, recording fakes of the
// DataSource callbacks, and small helpers to wait for asynchronous outcomes.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type {
  DataKindName,
  DataSourceContext,
  FullDataSet,
  StreamInitInfo,
  VersionedItem,
} from '../../src/api/dataSource.js';
import type { LDLogger } from '../../src/api/logger.js';
import type { LDOptions } from '../../src/api/options.js';
import { buildConfig } from '../../src/options/config.js';

export const SDK_KEY = 'sdk-test-key-123';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  at: number;
  /** Resolves when the server side sees the connection close. */
  closed: Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void;

export interface TestServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      at: Date.now(),
      closed,
    });
    handler(req, res, requests.length - 1);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One SSE event as a flag service writes it. */
export function sse(event: string, data: unknown): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return `event: ${event}\n${text
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}

export function openSse(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

export function flag(key: string, version: number, value: unknown = true): Record<string, unknown> {
  return {
    key,
    version,
    on: true,
    variations: [value, null],
    fallthrough: { variation: 0 },
    offVariation: 1,
    salt: key,
  };
}

export function segment(key: string, version: number, included: string[] = []): Record<string, unknown> {
  return { key, version, included, excluded: [], rules: [], salt: key };
}

export type UpdateCall =
  | { op: 'init'; data: FullDataSet }
  | { op: 'upsert'; kind: DataKindName; item: VersionedItem };

/**
 * Records every write in order, and also keeps a tiny versioned map with the store's rules (spec §4.5):
 * init replaces, upsert applies only a strictly higher version.
 */
export class RecordingUpdates {
  readonly calls: UpdateCall[] = [];
  readonly items: Record<DataKindName, Map<string, VersionedItem>> = {
    flags: new Map(),
    segments: new Map(),
  };

  async init(data: FullDataSet): Promise<void> {
    this.calls.push({ op: 'init', data });
    // A real store may take a moment; yielding checks the source awaits it before the next event.
    await new Promise((resolve) => setImmediate(resolve));
    this.items.flags = new Map(Object.entries(data.flags));
    this.items.segments = new Map(Object.entries(data.segments));
  }

  async upsert(kind: DataKindName, item: VersionedItem): Promise<void> {
    this.calls.push({ op: 'upsert', kind, item });
    await new Promise((resolve) => setImmediate(resolve));
    const existing = this.items[kind].get(item.key);
    if (existing === undefined || existing.version < item.version) this.items[kind].set(item.key, item);
  }

  get inits(): FullDataSet[] {
    return this.calls.flatMap((c) => (c.op === 'init' ? [c.data] : []));
  }

  get upserts(): { kind: DataKindName; item: VersionedItem }[] {
    return this.calls.flatMap((c) => (c.op === 'upsert' ? [{ kind: c.kind, item: c.item }] : []));
  }
}

export interface LogLine {
  level: keyof LDLogger;
  message: string;
}

export function captureLogger(): { logger: LDLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: keyof LDLogger) =>
    (...args: unknown[]) =>
      lines.push({ level, message: args.map(String).join(' ') });
  return { logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, lines };
}

export interface TestContext extends DataSourceContext {
  updates: RecordingUpdates;
  statusLog: { readyCount: number; interrupted: Error[]; failed: Error[] };
  streamInits: StreamInitInfo[];
  logLines: LogLine[];
}

/** A data-source context pointing every URI at the test server; reconnect delays are 10 ms. */
export function testContext(serverUrl: string, options: LDOptions = {}): TestContext {
  const { logger, lines } = captureLogger();
  const config = buildConfig(SDK_KEY, {
    baseUri: serverUrl,
    streamUri: serverUrl,
    eventsUri: serverUrl,
    streamInitialReconnectDelay: 0.01,
    logger,
    ...options,
  });
  const statusLog = { readyCount: 0, interrupted: [] as Error[], failed: [] as Error[] };
  const streamInits: StreamInitInfo[] = [];
  return {
    config,
    logger,
    updates: new RecordingUpdates(),
    status: {
      ready: () => {
        statusLog.readyCount += 1;
      },
      interrupted: (error) => statusLog.interrupted.push(error),
      failed: (error) => statusLog.failed.push(error),
    },
    onStreamInit: (info) => streamInits.push(info),
    statusLog,
    streamInits,
    logLines: lines,
  };
}

/** Resolves once the condition holds; fails with the description after a generous timeout. */
export async function waitFor(
  condition: () => boolean,
  description: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
