import type { Flag, Segment } from '@flagstaff/eval';
import type { EnvironmentData } from '../domain/environmentData.js';

/*
 * Server-Sent Events frames (spec §4.3, §5). Every frame is built once as bytes and then written to
 * each client as is: with a thousand streams on one environment, encoding per client would cost more
 * than the change itself.
 */

/**
 * What a stream carries: `all` is the server-side stream (flags and segments), `flags` the legacy
 * flags-only stream, `ping` the client-side and mobile streams that only say "something changed".
 */
export type StreamKind = 'all' | 'flags' | 'ping';

export function sseFrame(event: string, data: string): Buffer {
  return Buffer.from(`event: ${event}\ndata: ${data}\n\n`);
}

/** An SSE comment: keeps proxies and load balancers from closing an idle connection. */
export const HEARTBEAT_FRAME = Buffer.from(':\n\n');

/** Relay's ping: the data is a single space, which clients ignore before re-polling. */
export const PING_FRAME = sseFrame('ping', ' ');

/** The `put` of a server-side stream: the full data set replaces whatever the SDK had. */
export function allPutFrame(data: EnvironmentData): Buffer {
  return sseFrame('put', `{"path":"/","data":${JSON.stringify(data)}}`);
}

/** The `put` of the legacy flags-only stream: a flat map of flags. */
export function flagsPutFrame(data: EnvironmentData): Buffer {
  return sseFrame('put', `{"path":"/","data":${JSON.stringify(data.flags)}}`);
}

/**
 * A `patch` carrying the item, or a `delete` for a tombstone (an archived flag or segment). `json` is
 * the item already serialised, so the same string serves both stream kinds.
 */
export function itemFrame(path: string, item: Flag | Segment, json: string): Buffer {
  const quotedPath = JSON.stringify(path);
  return item.deleted
    ? sseFrame('delete', `{"path":${quotedPath},"version":${item.version}}`)
    : sseFrame('patch', `{"path":${quotedPath},"data":${json}}`);
}
