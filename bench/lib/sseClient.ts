// A raw SSE client for the fan-out benchmarks (bench/fanout, bench/relay): a plain `GET /all` with a
// minimal line parser, so the clients' own cost stays far below any SDK's and does not hide the server's.
import { type Agent, type IncomingMessage, request } from 'node:http';

/** A benchmark failure (wrong answer, missed patch) as opposed to a crash. */
export class Failure extends Error {}

/** One raw stream: counts `put` and `patch` frames and keeps each flag's latest version and its arrival. */
export class StreamClient {
  puts = 0;
  /** Flags in the last put. */
  putFlags = 0;
  putBytes = 0;
  patches = 0;
  patchBytes = 0;
  /** Flag key → latest version received (from the put or a patch). */
  readonly versions = new Map<string, number>();
  /** Flag key → the clock's time when the chunk completing that version's frame arrived. */
  readonly arrivals = new Map<string, number>();
  private res: IncomingMessage | undefined;
  private closing = false;
  private buffer = '';
  private event = '';
  private data = '';

  constructor(
    readonly index: number,
    private readonly fail: (message: string) => void,
    /** The clock arrivals are stamped with; the relay benchmark uses one shared by its processes. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Sends `GET /all`; resolves once the response headers (status 200) are in. */
  open(base: string, agent: Agent, sdkKey: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${base}/all`,
        { agent, headers: { authorization: sdkKey, accept: 'text/event-stream' } },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Failure(`client ${this.index}: GET /all answered ${res.statusCode}`));
            return;
          }
          this.res = res;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => this.receive(chunk));
          res.on('error', () => {}); // 'close' follows and reports it
          res.on('close', () => {
            if (!this.closing) this.fail(`client ${this.index}: the stream closed unexpectedly`);
          });
          resolve();
        },
      );
      req.on('error', (err) => {
        if (this.res) {
          if (!this.closing) this.fail(`client ${this.index}: ${err.message}`);
        } else reject(err);
      });
      req.end();
    });
  }

  close(): void {
    this.closing = true;
    this.res?.destroy();
  }

  private receive(chunk: string): void {
    const at = this.now();
    this.buffer += chunk;
    let start = 0;
    let end = this.buffer.indexOf('\n');
    while (end >= 0) {
      this.line(this.buffer.slice(start, end), at);
      start = end + 1;
      end = this.buffer.indexOf('\n', start);
    }
    if (start > 0) this.buffer = this.buffer.slice(start);
  }

  private line(line: string, at: number): void {
    if (line === '') {
      if (this.data !== '') this.dispatch(at);
      this.event = '';
      this.data = '';
      return;
    }
    if (line.startsWith(':')) return; // a comment (heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data = this.data === '' ? value : `${this.data}\n${value}`;
  }

  private dispatch(at: number): void {
    if (this.event === 'put') {
      const body = JSON.parse(this.data) as { data: { flags: Record<string, { version: number }> } };
      const flags = Object.entries(body.data.flags);
      for (const [key, flag] of flags) {
        this.versions.set(key, flag.version);
        this.arrivals.set(key, at);
      }
      this.puts++;
      this.putFlags = flags.length;
      this.putBytes = this.data.length;
    } else if (this.event === 'patch') {
      const body = JSON.parse(this.data) as { path: string; data: { version: number } };
      if (!body.path.startsWith('/flags/')) return;
      const key = body.path.slice('/flags/'.length);
      const version = body.data.version;
      const previous = this.versions.get(key);
      if (previous !== undefined && version <= previous) {
        this.fail(`client ${this.index}: patch of ${key} v${version} after v${previous}`);
      }
      this.versions.set(key, version);
      this.arrivals.set(key, at);
      this.patches++;
      this.patchBytes = this.data.length;
    }
  }
}
