/**
 * A share of the relay benchmark's SSE clients, in its own process: raw `GET /all` streams with the SDK
 * key (plain `node:http`, one keep-alive agent, a bounded number connecting at once) and a minimal SSE
 * line parser, as in bench/fanout. Each client keeps the latest version of every flag and the
 * `nowUs()` at which the chunk completing it arrived, so the parent can compare it with the time it sent
 * the admin update. Any closed stream, bad answer or missed patch is reported as a failure.
 */
import { Agent } from 'node:http';
import { Failure, StreamClient } from '../lib/sseClient.js';
import { type ClientCommand, type ClientReport, nowUs } from './protocol.js';

const send = (message: ClientReport, then?: () => void): void => {
  process.send?.(message, undefined, {}, () => then?.());
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
    for (let i = 0; i < command.clients; i++)
      clients.push(new StreamClient(command.firstIndex + i, fail, nowUs));
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
