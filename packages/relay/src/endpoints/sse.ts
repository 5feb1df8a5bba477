import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelayChange, RelayEnvironment } from '../environment.js';

/**
 * What a stream carries: `all` the server-side stream (flags and segments), `flags` the legacy
 * flags-only stream, `ping` the client-side and mobile streams that only say "something changed".
 */
export type StreamKind = 'all' | 'flags' | 'ping';

function frame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

const HEARTBEAT = ':\n\n';
// Relay's ping data is a single space, which clients ignore before re-polling (spec §5.1).
const PING = frame('ping', ' ');

function putFrame(env: RelayEnvironment, kind: 'all' | 'flags'): string {
  const data = kind === 'all' ? { flags: env.flags(), segments: env.segments() } : env.flags();
  return frame('put', JSON.stringify({ path: '/', data }));
}

/** The frame for one change on one stream kind, or undefined when that stream doesn't carry it. */
function changeFrame(env: RelayEnvironment, kind: StreamKind, change: RelayChange): string | undefined {
  if (kind === 'ping') return PING;
  if (change.kind === 'put') return putFrame(env, kind);
  // The legacy stream knows only flags, addressed as `/<key>`.
  if (kind === 'flags' && change.namespace !== 'flags') return undefined;
  const prefix = kind === 'all' ? `/${change.namespace}/` : '/';
  if (change.kind === 'patch') {
    return frame('patch', JSON.stringify({ path: prefix + change.item.key, data: change.item }));
  }
  return frame('delete', JSON.stringify({ path: prefix + change.key, version: change.version }));
}

// Frames by change and stream kind. Every stream of an environment is told of the same change object,
// so with thousands of clients the JSON is serialised and encoded once per change, not once per client.
const frames = new WeakMap<RelayChange, Partial<Record<StreamKind, Buffer | null>>>();

function sharedChangeFrame(env: RelayEnvironment, kind: StreamKind, change: RelayChange): Buffer | undefined {
  let byKind = frames.get(change);
  if (byKind === undefined) {
    byKind = {};
    frames.set(change, byKind);
  }
  let encoded = byKind[kind];
  if (encoded === undefined) {
    const text = changeFrame(env, kind, change);
    encoded = text === undefined ? null : Buffer.from(text);
    byKind[kind] = encoded;
  }
  return encoded ?? undefined;
}

/** Open streams, so that closing the server can end them rather than wait for every SDK to leave. */
export class Streams {
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly heartbeatIntervalMs: number) {}

  /** Takes the response over from Fastify and keeps it open until the client or the server ends it. */
  start(request: FastifyRequest, reply: FastifyReply, env: RelayEnvironment, kind: StreamKind): void {
    // Written straight to the socket: Fastify's serialisers and compression must not buffer events.
    reply.hijack();
    const res = reply.raw;
    const headers: OutgoingHttpHeaders = {
      ...(reply.getHeaders() as OutgoingHttpHeaders), // CORS headers from the route's hooks
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    };
    res.writeHead(200, headers);
    request.raw.socket.setNoDelay(true);
    // Nothing is sent before the environment has data (spec §8.2): an SDK given an empty put would
    // believe it initialised with no flags.
    if (env.status().initialized) res.write(kind === 'ping' ? PING : putFrame(env, kind));
    else res.flushHeaders();

    const unsubscribe = env.onChange((change) => {
      const encoded = sharedChangeFrame(env, kind, change);
      if (encoded !== undefined && !res.destroyed) res.write(encoded);
    });
    const heartbeat = setInterval(() => {
      if (!res.destroyed) res.write(HEARTBEAT);
    }, this.heartbeatIntervalMs);
    heartbeat.unref();
    this.open.add(res);
    const cleanup = () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.open.delete(res);
    };
    res.on('close', cleanup);
    if (res.destroyed) cleanup();
  }

  closeAll(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }
}
