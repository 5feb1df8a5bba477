// A raw HTTP Server-Sent Events client for tests: it records every event and comment exactly as the
// server framed them, so tests see the wire format rather than an SDK's interpretation of it.
import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
}

export interface SseOpenOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  /** Resolves when the server ends the response or the connection drops. */
  readonly ended: Promise<void>;
  private buffer = '';
  private consumed = 0;
  private waiters: (() => void)[] = [];
  private done = false;

  private constructor(
    private readonly res: IncomingMessage,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.receive(chunk));
    this.ended = new Promise((resolve) => {
      const finish = () => {
        this.done = true;
        this.wake();
        resolve();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
  }

  static open(url: string, options: SseOpenOptions = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) =>
        resolve(new SseClient(res, res.statusCode ?? 0, res.headers)),
      );
      req.on('error', reject);
      req.end(options.body);
    });
  }

  get isEnded(): boolean {
    return this.done;
  }

  /** The next event not yet returned by `next`, waiting for it if needed. */
  async next(timeoutMs = 5000): Promise<SseEvent> {
    await this.until(() => this.events.length > this.consumed, timeoutMs, 'an event');
    return this.events[this.consumed++]!;
  }

  /** The next event, parsed as JSON data. */
  async nextJson(timeoutMs = 5000): Promise<{ event: string; data: Record<string, unknown> }> {
    const { event, data } = await this.next(timeoutMs);
    return { event, data: JSON.parse(data) as Record<string, unknown> };
  }

  /** Waits until `condition` holds (checked whenever data arrives). */
  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.done) throw new Error(`stream ended while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops reading, like a client that hangs: the server's writes back up. */
  pause(): void {
    this.res.pause();
  }

  close(): void {
    this.res.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end = this.buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.parse(block);
      end = this.buffer.indexOf('\n\n');
    }
    this.wake();
  }

  private parse(block: string): void {
    let event = 'message';
    const data: string[] = [];
    let comment = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comment = true;
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    if (data.length > 0) this.events.push({ event, data: data.join('\n') });
    else if (comment) this.comments++;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
