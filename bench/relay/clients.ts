/**
 * A share of the relay benchmark's SSE clients, in its own process: raw `GET /all` streams with the SDK
 * key (plain `node:http`, one keep-alive agent, a bounded number connecting at once) and a minimal SSE
 * line parser, as in bench/fanout. Each client keeps the latest version of every flag and the
 * `nowUs()` at which the chunk completing it arrived, so the parent can compare it with the time it sent
 * the admin update. Any closed stream, bad answer or missed patch is reported as a failure.
 */
import { Agent, type IncomingMessage, request } from 'node:http';
import { type ClientCommand, type ClientReport, nowUs } from './protocol.js';

class Failure extends Error {}

const send = (message: ClientReport, then?: () => void): void => {
  process.send?.(message, undefined, {}, () => then?.());
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class StreamClient {
  puts = 0;
  putFlags = 0;
  putBytes = 0;
  patches = 0;
  readonly versions = new Map<string, number>();
  readonly arrivals = new Map<string, number>();
  private res: IncomingMessage | undefined;
  private closing = false;
  private buffer = '';
  private event = '';
  private data = '';

  constructor(
    readonly index: number,
    private readonly fail: (message: string) => void,
  ) {}

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
          res.on('error', () => {});
          res.on('close', () => {
            if (!this.closing) this.fail(`client ${this.index}: the stream closed unexpectedly`);
          });
          resolve();
        },
      );
      req.on('error', (err) => {
        if (this.res) {
          if (!this.closing) this.fail(`client ${this.index}: ${err.message}`);
        } else reject(new Failure(`client ${this.index}: ${err.message}`));
      });
      req.end();
    });
  }

  close(): void {
    this.closing = true;
    this.res?.destroy();
  }

  private receive(chunk: string): void {
    const at = nowUs();
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
    if (line.startsWith(':')) return;
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
      const previous = this.versions.get(key);
      if (previous !== undefined && body.data.version <= previous) {
        this.fail(`client ${this.index}: patch of ${key} v${body.data.version} after v${previous}`);
      }
      this.versions.set(key, body.data.version);
      this.arrivals.set(key, at);
      this.patches++;
    }
  }
}

const clients: StreamClient[] = [];
const failures: string[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
const fail = (message: string): void => {
  failures.push(message);
};

function check(): void {
  if (failures.length > 0) {
    const more = failures.length > 5 ? ` (and ${failures.length - 5} more)` : '';
    throw new Failure(`${failures.slice(0, 5).join('; ')}${more}`);
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    check();
    if (performance.now() > deadline) throw new Failure(`timed out after ${timeoutMs} ms: ${what()}`);
    await sleep(1);
  }
  check();
}

async function handle(command: ClientCommand): Promise<void> {
  if (command.type === 'connect') {
    for (let i = 0; i < command.clients; i++) clients.push(new StreamClient(command.firstIndex + i, fail));
    const start = nowUs();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(command.connectConcurrency, command.clients) }, async () => {
        while (next < clients.length) {
          await clients[next++]!.open(command.relayUrl, agent, command.sdkKey);
        }
      }),
    );
    const headersUs = nowUs();
    await until(
      () => clients.every((c) => c.puts > 0),
      60_000,
      () => `${clients.filter((c) => c.puts === 0).length} clients never got their put`,
    );
    const putsUs = nowUs();
    for (const c of clients) {
      if (c.puts !== 1 || c.putFlags !== command.flagCount) {
        throw new Failure(
          `client ${c.index}: ${c.puts} puts with ${c.putFlags} flags, expected 1 with ${command.flagCount}`,
        );
      }
      if (c.versions.get(command.latencyFlag) !== command.latencyVersion) {
        throw new Failure(
          `client ${c.index}: put has ${command.latencyFlag} v${c.versions.get(command.latencyFlag)}`,
        );
      }
    }
    send({
      type: 'connected',
      headersUs: headersUs - start,
      putsUs: putsUs - start,
      putBytes: clients[0]!.putBytes,
    });
  } else if (command.type === 'await') {
    const { flag, version } = command;
    await until(
      () => clients.every((c) => c.versions.get(flag) === version),
      command.timeoutMs,
      () =>
        `${clients.filter((c) => c.versions.get(flag) !== version).length} of ${clients.length} clients never got ${flag} v${version}`,
    );
    const patches = clients.reduce((sum, c) => sum + c.patches, 0);
    send({ type: 'arrived', version, arrivalsUs: clients.map((c) => c.arrivals.get(flag)!), patches });
  } else {
    for (const c of clients) c.close();
    agent.destroy();
    send({ type: 'closed' }, () => process.disconnect());
  }
}

process.on('message', (command: ClientCommand) => {
  handle(command).catch((err: unknown) => {
    const text =
      err instanceof Failure ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    send({ type: 'failure', message: text }, () => process.exit(1));
  });
});
