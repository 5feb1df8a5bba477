/**
 * The client side of the fan-out benchmark, run as a child process so that parsing a thousand streams
 * does not share an event loop with the server. It opens the SSE streams with plain `node:http` and
 * a minimal line parser (an SDK would cost more than the server), and it sends every admin request
 * itself: the update's start and each patch's arrival are read from the same clock.
 *
 * The parent sends one `start` message; this process reports `results`, or `failure` when a client
 * misses an update, gets a bad answer or loses its stream.
 */
import { Agent, request } from 'node:http';
import { Failure, StreamClient } from '../lib/sseClient.js';
import type {
  ChildMessage,
  ConnectResult,
  FlagState,
  LatencyResult,
  ParentMessage,
  StartMessage,
  WritePhase,
} from './protocol.js';

const POLL_MS = 1;
const PATCH_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 30_000;
const PAUSE_MS = 200;
const ADMIN_TIMEOUT_MS = 30_000;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/**
 * Sends the last message, then closes the IPC channel once it is written so the process can exit. After
 * a failure it exits at once: streams may still be open.
 */
function sendLast(message: ChildMessage): void {
  process.send?.(message, undefined, {}, () => {
    if (message.type === 'failure') process.exit(1);
    process.disconnect();
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds, checking every millisecond; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Failure(`timed out after ${timeoutMs} ms: ${what()}`);
    await sleep(POLL_MS);
  }
}

// --- marks: the parent snapshots the server's CPU time when asked ------------------------------

let nextMarkId = 0;
const pendingMarks = new Map<number, (connections: number) => void>();

/** Asks the parent to snapshot the server's CPU time under `label`; resolves to the hub's stream count. */
function mark(label: string, waitConnections?: number): Promise<number> {
  const id = nextMarkId++;
  return new Promise((resolve) => {
    pendingMarks.set(id, resolve);
    send({ type: 'mark', id, label, ...(waitConnections === undefined ? {} : { waitConnections }) });
  });
}

// --- the SSE clients ---------------------------------------------------------------------------

// --- the benchmark ---------------------------------------------------------------------------------

class FanoutRun {
  private readonly clients: StreamClient[] = [];
  private readonly failures: string[] = [];
  private readonly streamAgent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  private readonly adminAgent: Agent;
  private readonly adminUrl: URL;

  constructor(private readonly config: StartMessage) {
    this.adminAgent = new Agent({ keepAlive: true, maxSockets: config.writeConcurrency });
    this.adminUrl = new URL(config.base);
  }

  async run(): Promise<void> {
    const { config } = this;
    await this.writePhase(config.writerFlags, config.writeConcurrency, 1000); // warm-up, not reported
    const writes: WritePhase[] = [];
    await sleep(PAUSE_MS);
    writes.push(await this.writePhase(config.writerFlags, 1, config.writeSeconds * 1000, 'seq-0'));
    await sleep(PAUSE_MS);
    writes.push(
      await this.writePhase(
        config.writerFlags,
        config.writeConcurrency,
        config.writeSeconds * 1000,
        'conc-0',
      ),
    );
    await sleep(PAUSE_MS);

    const connect = await this.connect();
    await sleep(PAUSE_MS);
    const latency = await this.latency();
    await sleep(PAUSE_MS);
    writes.push(await this.writePhase(config.writerFlags, 1, config.writeSeconds * 1000, 'seq-N'));
    await sleep(PAUSE_MS);
    writes.push(
      await this.writePhase(
        config.writerFlags,
        config.writeConcurrency,
        config.writeSeconds * 1000,
        'conc-N',
      ),
    );

    for (const client of this.clients) client.close();
    const left = await mark('closed', 0);
    if (left !== 0) throw new Failure(`the server still holds ${left} streams after the clients closed`);
    this.streamAgent.destroy();
    this.adminAgent.destroy();
    sendLast({ type: 'results', connect, latency, writes });
  }

  private fail = (message: string): void => {
    this.failures.push(message);
  };

  private check(): void {
    if (this.failures.length > 0) {
      const more = this.failures.length > 5 ? ` (and ${this.failures.length - 5} more)` : '';
      throw new Failure(`${this.failures.slice(0, 5).join('; ')}${more}`);
    }
  }

  /** Opens every stream, at most `connectConcurrency` at a time, and waits for every client's put. */
  private async connect(): Promise<ConnectResult> {
    const { config } = this;
    for (let i = 0; i < config.clients; i++) this.clients.push(new StreamClient(i, this.fail));
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(config.connectConcurrency, config.clients) }, async () => {
        while (next < this.clients.length) {
          const client = this.clients[next++]!;
          await client.open(config.base, this.streamAgent, config.sdkKey);
        }
      }),
    );
    const headersMs = performance.now() - start;
    await until(
      () => this.clients.every((c) => c.puts > 0),
      PATCH_TIMEOUT_MS,
      () => `${this.clients.filter((c) => c.puts === 0).length} clients never got their put`,
    );
    const putsMs = performance.now() - start;
    this.check();
    for (const client of this.clients) {
      if (client.puts !== 1 || client.putFlags !== config.flagCount) {
        throw new Failure(
          `client ${client.index}: ${client.puts} puts with ${client.putFlags} flags, expected 1 with ${config.flagCount}`,
        );
      }
      const version = client.versions.get(config.latencyFlag.key);
      if (version !== config.latencyFlag.version) {
        throw new Failure(`client ${client.index}: put has ${config.latencyFlag.key} v${version}`);
      }
    }
    const serverConnections = await mark('connected');
    if (serverConnections !== config.clients) {
      throw new Failure(`the server holds ${serverConnections} streams, expected ${config.clients}`);
    }
    return { headersMs, putsMs, putBytes: this.clients[0]!.putBytes, serverConnections };
  }

  /**
   * Toggles the latency flag `warmupUpdates + updates` times, one update at a time: each starts
   * `updateGapMs` after the previous one reached every client. Every client must receive every update.
   */
  private async latency(): Promise<LatencyResult> {
    const { config } = this;
    const flag = config.latencyFlag;
    const result: LatencyResult = { lastClientMs: [], perClientMs: [], adminMs: [], patchBytes: 0 };
    const patchesBefore = this.clients.map((c) => c.patches);
    const total = config.warmupUpdates + config.updates;
    for (let i = 0; i < total; i++) {
      const version = flag.version + 1;
      const t0 = performance.now();
      const answered = this.toggle(flag).then(() => performance.now());
      await until(
        () => this.clients.every((c) => c.versions.get(flag.key) === version),
        PATCH_TIMEOUT_MS,
        () => {
          const missing = this.clients.filter((c) => c.versions.get(flag.key) !== version).length;
          return `${missing} of ${config.clients} clients never got ${flag.key} v${version}`;
        },
      );
      const adminEnd = await answered;
      this.check();
      if (i >= config.warmupUpdates) {
        let last = 0;
        for (const client of this.clients) {
          const latency = client.arrivals.get(flag.key)! - t0;
          result.perClientMs.push(latency);
          if (latency > last) last = latency;
        }
        result.lastClientMs.push(last);
        result.adminMs.push(adminEnd - t0);
      }
      await sleep(config.updateGapMs);
    }
    for (const client of this.clients) {
      const got = client.patches - patchesBefore[client.index]!;
      if (got !== total) throw new Failure(`client ${client.index}: ${got} patches for ${total} updates`);
    }
    result.patchBytes = this.clients[0]!.patchBytes;
    return result;
  }

  /**
   * Writes for `durationMs` with `concurrency` writers, each toggling its own flag one request after
   * the other. With clients connected it then waits until every client has every flag's last version.
   */
  private async writePhase(
    flags: FlagState[],
    concurrency: number,
    durationMs: number,
    name?: string,
  ): Promise<WritePhase> {
    const clients = this.clients.length;
    const patchesBefore = this.clients.reduce((sum, c) => sum + c.patches, 0);
    if (name) await mark(`${name}:start`);
    const cpuStart = process.cpuUsage();
    const latenciesMs: number[] = [];
    const start = performance.now();
    const deadline = start + durationMs;
    let lastAnswer = start;
    const writers = flags.slice(0, concurrency);
    await Promise.all(
      writers.map(async (flag) => {
        while (performance.now() < deadline) {
          const sent = performance.now();
          await this.toggle(flag);
          const answered = performance.now();
          latenciesMs.push(answered - sent);
          if (answered > lastAnswer) lastAnswer = answered;
        }
      }),
    );
    const phase: WritePhase = {
      name: name ?? 'warm-up',
      clients,
      concurrency,
      writes: latenciesMs.length,
      elapsedMs: lastAnswer - start,
      latenciesMs,
      clientCpuPercent: 0,
      clientSysPercent: 0,
    };
    if (clients > 0) {
      const has = (c: StreamClient) => writers.every((f) => c.versions.get(f.key) === f.version);
      await until(
        () => this.clients.every(has),
        DRAIN_TIMEOUT_MS,
        () => `${this.clients.filter((c) => !has(c)).length} clients never got the last versions`,
      );
      this.check();
      let reached = 0;
      for (const client of this.clients) {
        for (const flag of writers) reached = Math.max(reached, client.arrivals.get(flag.key)!);
      }
      phase.drainMs = reached - lastAnswer;
      const patches = this.clients.reduce((sum, c) => sum + c.patches, 0) - patchesBefore;
      phase.patchesPerClientPerWrite = patches / (clients * phase.writes);
    }
    const cpu = process.cpuUsage(cpuStart);
    const wallMs = performance.now() - start;
    phase.clientCpuPercent = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
    phase.clientSysPercent = (cpu.system / 1000 / wallMs) * 100;
    if (name) await mark(`${name}:end`);
    return phase;
  }

  /** Turns the flag on if it is off and off if it is on; the answer must carry the next version. */
  private async toggle(flag: FlagState): Promise<void> {
    const on = !flag.on;
    const path = `/api/v1/projects/${this.config.projectKey}/environments/${this.config.envKey}/flags/${flag.key}`;
    const body = JSON.stringify({ instructions: [{ kind: on ? 'turnFlagOn' : 'turnFlagOff' }] });
    const answer = await this.adminRequest('PATCH', path, body);
    if (answer.status !== 200) {
      throw new Failure(`PATCH ${flag.key} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
    }
    const doc = JSON.parse(answer.text) as { on: boolean; version: number };
    if (doc.on !== on || doc.version !== flag.version + 1) {
      throw new Failure(
        `PATCH ${flag.key}: got on=${doc.on} v${doc.version}, expected on=${on} v${flag.version + 1}`,
      );
    }
    flag.on = on;
    flag.version = doc.version;
  }

  private adminRequest(
    method: string,
    path: string,
    body: string,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          protocol: this.adminUrl.protocol,
          hostname: this.adminUrl.hostname,
          port: this.adminUrl.port,
          path,
          method,
          agent: this.adminAgent,
          headers: {
            authorization: `Bearer ${this.config.adminToken}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.setTimeout(ADMIN_TIMEOUT_MS, () =>
        req.destroy(new Failure(`${method} ${path}: no answer within ${ADMIN_TIMEOUT_MS} ms`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'marked') {
    pendingMarks.get(message.id)?.(message.connections);
    pendingMarks.delete(message.id);
    return;
  }
  new FanoutRun(message).run().catch((err: unknown) => {
    const text =
      err instanceof Failure ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    sendLast({ type: 'failure', message: text });
  });
});
