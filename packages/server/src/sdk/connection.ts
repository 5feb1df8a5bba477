import type { ServerResponse } from 'node:http';
import type { Credential } from './auth.js';
import type { StreamKind } from './sse.js';

/** One open SSE response. The hub writes frames; the connection tells the hub when it is gone. */
export class SseConnection {
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    readonly kind: StreamKind,
    readonly credential: Credential,
    /** When the credential stops working (a rotated key's grace period), if ever. */
    public expiresAt: number | undefined,
    private readonly maxBufferedBytes: number,
    private readonly onGone: (connection: SseConnection) => void,
  ) {
    // The client may have hung up while the request was being authenticated: then 'close' has
    // already fired, and the hub must not keep the connection.
    if (res.destroyed) this.closed = true;
    else res.on('close', () => this.gone());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(frame: Buffer): void {
    if (this.closed) return;
    // A client that stops reading would make the server buffer every later change for it. Dropping
    // it is kinder to both: it reconnects and receives one fresh put. The backlog is measured before
    // writing, so that one frame larger than the limit (a big environment's put) is still sent.
    if (this.res.writableLength > this.maxBufferedBytes) {
      this.destroy();
      return;
    }
    this.res.write(frame);
  }

  /** Ends the response normally (key revoked, server shutting down); the client may reconnect. */
  end(): void {
    if (this.closed) return;
    this.res.end();
    this.gone();
  }

  /** Drops the connection without flushing (the data it was about to get can't be trusted). */
  destroy(): void {
    if (this.closed) return;
    this.res.destroy();
    this.gone();
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.onGone(this);
  }
}
