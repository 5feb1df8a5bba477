// The extension's parts on their own: the outbox's delivery and retry rules against a real HTTP
// server, the loopback protocol, and hand-off signals. The whole extension runs under the Lambda
// emulation in lambda-emulation.test.ts.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Handoffs } from '../src/extension/handoffs.js';
import { Outbox } from '../src/extension/outbox.js';
import { decodeTarget, encodeTarget } from '../src/extension/protocol.js';
import { handoffEventsUri, signalDone } from '../src/extension/runtimeSide.js';
import { startLoopbackServer } from '../src/extension/server.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** An events endpoint answering with the statuses given, in order (then 202). */
async function eventsService(statuses: number[] = []) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(statuses.shift() ?? 202).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { received, url: `http://127.0.0.1:${port}`, port };
}

function quietLogger() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`WARN ${m}`) };
}

const payload = (url: string, body: string) => ({
  url,
  headers: { 'content-type': 'application/json', authorization: 'sdk-key' },
  body: new TextEncoder().encode(body),
});

describe('Outbox', () => {
  it('delivers payloads with their headers', async () => {
    const service = await eventsService();
    const outbox = new Outbox({ logger: quietLogger() });
    outbox.add(payload(`${service.url}/bulk`, '[1]'));
    outbox.add(payload(`${service.url}/bulk`, '[2]'));
    const result = await outbox.drain(Date.now() + 5000);
    expect(result).toEqual({ delivered: 2, rejected: 0, remaining: 0 });
    expect(service.received.map((r) => r.body).sort()).toEqual(['[1]', '[2]']);
    expect(service.received[0]!.headers.authorization).toBe('sdk-key');
  });

  it('retries transient failures and drops what the service refuses for good', async () => {
    const service = await eventsService([503, 429]);
    const outbox = new Outbox({ logger: quietLogger() });
    outbox.add(payload(`${service.url}/bulk`, '[1]'));
    expect(await outbox.drain(Date.now() + 10_000)).toEqual({ delivered: 1, rejected: 0, remaining: 0 });
    expect(service.received.length).toBe(3);

    const refusing = await eventsService([401]);
    outbox.add(payload(`${refusing.url}/bulk`, '[2]'));
    expect(await outbox.drain(Date.now() + 10_000)).toEqual({ delivered: 0, rejected: 1, remaining: 0 });
    expect(refusing.received.length).toBe(1);
    expect(outbox.snapshot()).toMatchObject({ delivered: 1, rejected: 1, queued: 0 });
  });

  it('keeps payloads it cannot deliver, in order, for the next drain', async () => {
    const down = await eventsService();
    const deadPort = down.port;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const outbox = new Outbox({ logger: quietLogger() });
    outbox.add(payload(`http://127.0.0.1:${deadPort}/bulk`, '[1]'));
    outbox.add(payload(`http://127.0.0.1:${deadPort}/bulk`, '[2]'));
    const first = await outbox.drain(Date.now() + 3000);
    expect(first).toEqual({ delivered: 0, rejected: 0, remaining: 2 });
    expect(outbox.snapshot().queued).toBe(2);
  });

  it('does not start a delivery after the deadline', async () => {
    const service = await eventsService();
    const outbox = new Outbox({ logger: quietLogger() });
    outbox.add(payload(`${service.url}/bulk`, '[1]'));
    expect(await outbox.drain(Date.now() - 1)).toEqual({ delivered: 0, rejected: 0, remaining: 1 });
    expect(service.received).toEqual([]);
  });

  it('drops the oldest payloads beyond its byte limit', () => {
    const logger = quietLogger();
    const outbox = new Outbox({ logger, maxBytes: 10 });
    outbox.add(payload('http://x/bulk', '123456'));
    outbox.add(payload('http://x/bulk', 'abcdef'));
    expect(outbox.snapshot()).toMatchObject({ queued: 1, queuedBytes: 6, dropped: 1 });
    expect(logger.lines.some((l) => l.includes('dropped the oldest'))).toBe(true);
  });
});

describe('Handoffs', () => {
  it('remembers a signal that comes before the wait', async () => {
    const handoffs = new Handoffs();
    handoffs.signal('a');
    expect(await handoffs.wait('a', Date.now() + 10_000)).toBe(true);
  });

  it('resolves a waiting invocation when it is signalled, and false at the deadline otherwise', async () => {
    const handoffs = new Handoffs();
    const waiting = handoffs.wait('b', Date.now() + 60_000);
    handoffs.signal('b');
    expect(await waiting).toBe(true);
    expect(await handoffs.wait('c', Date.now() + 20)).toBe(false);
  });
});

describe('loopback server', () => {
  it('takes SDK payloads for the encoded events URI and forwards them there', async () => {
    const service = await eventsService();
    const outbox = new Outbox({ logger: quietLogger() });
    const handoffs = new Handoffs();
    const { server, port } = await startLoopbackServer({ port: 0, outbox, handoffs });
    servers.push(server);

    const uri = handoffEventsUri(port, `${service.url}/`);
    const res = await fetch(`${uri}/bulk`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'sdk-123',
        'x-launchdarkly-payload-id': 'p1',
        cookie: 'not forwarded',
      },
      body: '[{"kind":"custom"}]',
    });
    expect(res.status).toBe(202);
    expect(outbox.size).toBe(1);
    await outbox.drain(Date.now() + 5000);
    expect(service.received).toHaveLength(1);
    const got = service.received[0]!;
    expect(got.path).toBe('/bulk');
    expect(got.body).toBe('[{"kind":"custom"}]');
    expect(got.headers.authorization).toBe('sdk-123');
    expect(got.headers['x-launchdarkly-payload-id']).toBe('p1');
    expect(got.headers.cookie).toBeUndefined();

    const status = await (await fetch(`http://127.0.0.1:${port}/v1/status`)).json();
    expect(status).toMatchObject({ received: 1, delivered: 1, queued: 0 });
  });

  it('answers 400 for a target that is not an http(s) URL and for a done without requestId', async () => {
    const outbox = new Outbox({ logger: quietLogger() });
    const { server, port } = await startLoopbackServer({ port: 0, outbox, handoffs: new Handoffs() });
    servers.push(server);
    const bad = await fetch(
      `http://127.0.0.1:${port}/v1/forward/${encodeTarget('file:///etc/passwd')}/bulk`,
      {
        method: 'POST',
        body: '[]',
      },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('path');
    const done = await fetch(`http://127.0.0.1:${port}/v1/done`, { method: 'POST', body: '{}' });
    expect(done.status).toBe(400);
    expect(await done.text()).toContain('requestId');
    expect(outbox.size).toBe(0);
  });

  it('turns a done signal from the runtime into a hand-off', async () => {
    const handoffs = new Handoffs();
    const { server, port } = await startLoopbackServer({
      port: 0,
      outbox: new Outbox({ logger: quietLogger() }),
      handoffs,
    });
    servers.push(server);
    expect(await signalDone(port, 'req-1')).toBe(true);
    expect(await handoffs.wait('req-1', Date.now() + 1000)).toBe(true);
    // Nothing listening: false, not an exception.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    expect(await signalDone(closed, 'req-2')).toBe(false);
  });

  it('round-trips events URIs through the path segment', () => {
    for (const uri of ['https://events.example.com', 'http://127.0.0.1:8040/some/prefix']) {
      expect(decodeTarget(encodeTarget(uri))).toBe(uri);
    }
    expect(decodeTarget(encodeTarget('javascript:alert(1)'))).toBeUndefined();
  });
});
