import type { ChangeNotice } from './types.js';

export type StreamStatus = 'connecting' | 'live' | 'offline';

export interface ChangeStreamHandlers {
  onChange(notice: ChangeNotice): void;
  /** Notices may have been missed (reconnect, or the service says so): re-read everything shown. */
  onResync(): void;
  onStatus(status: StreamStatus): void;
  /** The token was refused (401): the caller signs out. */
  onUnauthorized(): void;
}

/**
 * Follows the project's change stream (`GET /api/v1/projects/:p/stream`). EventSource cannot send an
 * `Authorization` header, and a token in the URL would end up in server and proxy logs, so the stream
 * is read with fetch and parsed here. It reconnects with backoff (1 s doubling to 30 s) until closed;
 * after a reconnect it asks for a resync, since changes made while it was away were not seen.
 */
export function openChangeStream(token: string, project: string, handlers: ChangeStreamHandlers): () => void {
  let closed = false;
  let controller: AbortController | undefined;
  let retryTimer: number | undefined;
  let delay = 1000;
  let connectedBefore = false;

  const connect = async () => {
    if (closed) return;
    handlers.onStatus('connecting');
    controller = new AbortController();
    try {
      const res = await fetch(`/api/v1/projects/${encodeURIComponent(project)}/stream`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: controller.signal,
        cache: 'no-store',
      });
      if (res.status === 401) {
        closed = true;
        handlers.onStatus('offline');
        handlers.onUnauthorized();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          dispatch(frame);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted by close(), or the network failed: both end in the retry below unless closed.
    }
    if (closed) return;
    handlers.onStatus('offline');
    retryTimer = window.setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30_000);
  };

  const dispatch = (frame: string) => {
    let event = 'message';
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data += data ? `\n${value}` : value;
    }
    if (event === 'ready') {
      handlers.onStatus('live');
      delay = 1000;
      if (connectedBefore) handlers.onResync();
      connectedBefore = true;
    } else if (event === 'resync') {
      handlers.onResync();
    } else if (event === 'change') {
      try {
        handlers.onChange(JSON.parse(data) as ChangeNotice);
      } catch {
        handlers.onResync();
      }
    }
  };

  void connect();
  return () => {
    closed = true;
    window.clearTimeout(retryTimer);
    controller?.abort();
  };
}
