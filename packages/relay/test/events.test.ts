// Relay event forwarding against a real upstream receiver: SDKs (ours and LaunchDarkly's v9) post through
// the relay, and what arrives upstream must carry the environment's SDK key and the event headers.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { init, integrations } from '@flagstaff/node-server-sdk';
import * as official from '@launchdarkly/node-server-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentData, Registry } from '../src/environmentData.js';
import {
  type EventForwardingOptions,
  type EventForwardingPlugin,
  eventForwarding,
} from '../src/events/index.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** Records every post; answers with the queued statuses first, then 202. */
class Upstream {
  readonly requests: Received[] = [];
  statuses: number[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        this.requests.push({
          url: req.url ?? '',
          headers: req.headers,
          body: text ? JSON.parse(text) : undefined,
        });
        res.statusCode = this.statuses.shift() ?? 202;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const production = new EnvironmentData({
  name: 'Production',
  sdkKey: 'sdk-prod',
  mobileKey: 'mob-prod',
  clientSideId: 'cs-prod',
});
const staging = new EnvironmentData({ name: 'Staging', sdkKey: 'sdk-staging' });
const registry = new Registry([production, staging]);

const upstream = new Upstream();
let app: FastifyInstance;
let plugin: EventForwardingPlugin;
let relayUrl: string;

async function startRelay(options: Partial<EventForwardingOptions> = {}): Promise<void> {
  plugin = eventForwarding(registry, {
    eventsUri: upstream.url,
    flushIntervalMs: 30,
    retryDelayMs: 20,
    logger: silent,
    ...options,
  });
  app = Fastify();
  await app.register(plugin);
  relayUrl = await app.listen({ port: 0, host: '127.0.0.1' });
}

function post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${relayUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-LaunchDarkly-Event-Schema': '4', ...headers },
    body,
  });
}

const customEvent = (key: string) => ({ kind: 'custom', key, creationDate: 1, contextKeys: { user: 'u' } });
// Bodies of requests the test expects to exist; a missing one fails the test where it is used.
const bodyOf = <T>(request: Received | undefined): T => request?.body as T;
const bulk = () => upstream.requests.filter((r) => r.url === '/bulk');

beforeAll(() => upstream.start());
afterAll(() => upstream.stop());
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.statuses = [];
});
afterEach(async () => {
  await app?.close();
});

describe('SDKs posting through the relay', () => {
  it('forwards our SDK events with the SDK key and event headers', async () => {
    await startRelay();
    const td = new integrations.TestData();
    await td.update(td.flag('f').booleanFlag().variationForAll(true));
    const client = init('sdk-prod', {
      updateProcessor: td.getFactory(),
      eventsUri: relayUrl,
      diagnosticOptOut: true,
      logger: silent,
    });
    await client.waitForInitialization({ timeout: 5 });
    expect(await client.variation('f', { kind: 'user', key: 'u1' }, false)).toBe(true);
    client.track('clicked', { kind: 'user', key: 'u1' });
    await client.close();

    await waitFor(() => bulk().length > 0);
    const [request] = bulk();
    expect(request?.headers.authorization).toBe('sdk-prod');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['x-launchdarkly-event-schema']).toBe('4');
    expect(request?.headers['x-launchdarkly-payload-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(request?.headers['user-agent']).toMatch(/^FlagstaffRelay\//);
    const kinds = bodyOf<{ kind: string }[]>(request).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['index', 'custom', 'summary']));
    // Upstream may have the post before the relay has read its answer.
    await waitFor(() => plugin.stats().Production?.forwarded === kinds.length);
    expect(plugin.stats().Production).toMatchObject({ received: kinds.length, dropped: 0 });
  });

  it('forwards the official v9 SDK events and diagnostics', async () => {
    await startRelay();
    const td = new official.integrations.TestData();
    await td.update(td.flag('f').booleanFlag().variationForAll(true));
    const client = official.init('sdk-staging', {
      updateProcessor: td.getFactory(),
      eventsUri: relayUrl,
      diagnosticOptOut: false,
      logger: silent,
      application: { id: 'relay-test' },
    });
    await client.waitForInitialization({ timeout: 5 });
    expect(await client.variation('f', { kind: 'user', key: 'u1' }, false)).toBe(true);
    client.track('clicked', { kind: 'user', key: 'u1' });
    await client.flush();
    client.close();

    await waitFor(() => bulk().length > 0 && upstream.requests.some((r) => r.url === '/diagnostic'));
    const [request] = bulk();
    expect(request?.headers.authorization).toBe('sdk-staging');
    expect(request?.headers['x-launchdarkly-event-schema']).toBe('4');
    expect(request?.headers['x-launchdarkly-tags']).toBe('application-id/relay-test');
    expect(bodyOf<{ kind: string }[]>(request).map((e) => e.kind)).toEqual(
      expect.arrayContaining(['index', 'custom', 'summary']),
    );
    const diagnostic = upstream.requests.find((r) => r.url === '/diagnostic');
    expect(diagnostic?.headers.authorization).toBe('sdk-staging');
    expect(diagnostic?.headers['x-launchdarkly-payload-id']).toBeUndefined();
    expect(bodyOf<{ kind: string }>(diagnostic).kind).toBe('diagnostic-init');
  });
});

describe('intake', () => {
  it('accepts mobile events with the mobile key and forwards them with the SDK key', async () => {
    await startRelay();
    for (const path of ['/mobile', '/mobile/events', '/mobile/events/bulk']) {
      const response = await post(path, JSON.stringify([customEvent(path)]), {
        Authorization: 'api_key mob-prod',
      });
      expect(response.status).toBe(202);
    }
    const diag = await post('/mobile/events/diagnostic', JSON.stringify({ kind: 'diagnostic' }), {
      Authorization: 'mob-prod',
    });
    expect(diag.status).toBe(202);
    const forwarded = () => bulk().flatMap((r) => bodyOf<{ key: string }[]>(r));
    await waitFor(() => forwarded().length === 3 && upstream.requests.some((r) => r.url === '/diagnostic'));
    // Buffered arrays are concatenated per flush; with a 30 ms interval a loaded machine may flush
    // between two of the posts, so only the order and the credential are fixed here.
    expect(bulk().every((r) => r.headers.authorization === 'sdk-prod')).toBe(true);
    expect(forwarded().map((e) => e.key)).toEqual(['/mobile', '/mobile/events', '/mobile/events/bulk']);
    expect(upstream.requests.find((r) => r.url === '/diagnostic')?.headers.authorization).toBe('sdk-prod');
  });

  it('accepts client-side events with CORS and answers preflights', async () => {
    await startRelay();
    const preflight = await fetch(`${relayUrl}/events/bulk/cs-prod`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-LaunchDarkly-Event-Schema');

    const response = await post('/events/bulk/cs-prod', JSON.stringify([customEvent('browser')]), {
      Origin: 'https://app.example',
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const diag = await post('/events/diagnostic/cs-prod', JSON.stringify({ kind: 'diagnostic' }));
    expect(diag.status).toBe(202);

    const unknown = await post('/events/bulk/nope', '[]', { Origin: 'https://app.example' });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('access-control-allow-origin')).toBe('https://app.example');

    // Server-side routes are not for browsers.
    const sdk = await post('/bulk', '[]', { Authorization: 'sdk-prod', Origin: 'https://app.example' });
    expect(sdk.headers.get('access-control-allow-origin')).toBeNull();

    await waitFor(() => bulk().length > 0 && upstream.requests.some((r) => r.url === '/diagnostic'));
    expect(bulk()[0]?.headers.authorization).toBe('sdk-prod');
    expect(bulk()[0]?.body).toEqual([customEvent('browser')]);
  });

  it('rejects bad credentials and bodies', async () => {
    await startRelay({ bodyLimit: 1_000 });
    expect((await post('/bulk', '[]')).status).toBe(401);
    expect((await post('/bulk', '[]', { Authorization: 'wrong' })).status).toBe(401);
    expect((await post('/bulk', '[]', { Authorization: 'mob-prod' })).status).toBe(401);
    expect((await post('/mobile', '[]', { Authorization: 'sdk-prod' })).status).toBe(401);
    expect((await post('/diagnostic', '{}')).status).toBe(401);
    const auth = { Authorization: 'sdk-prod' };
    expect((await post('/bulk', '{"kind":"custom"}', auth)).status).toBe(400);
    expect((await post('/bulk', 'not json', auth)).status).toBe(400);
    expect((await post('/bulk', '', auth)).status).toBe(400);
    expect((await post('/diagnostic', '[]', auth)).status).toBe(400);
    expect((await post('/diagnostic', 'null', auth)).status).toBe(400);
    expect((await post('/bulk', JSON.stringify([{ pad: 'x'.repeat(2_000) }]), auth)).status).toBe(413);
    // The limit applies to the decompressed size.
    const bomb = gzipSync(JSON.stringify([{ pad: 'x'.repeat(5_000) }]));
    expect(bomb.length).toBeLessThan(1_000);
    expect((await post('/bulk', bomb, { ...auth, 'Content-Encoding': 'gzip' })).status).toBe(413);
    expect(
      (await post('/bulk', Buffer.from('garbage'), { ...auth, 'Content-Encoding': 'gzip' })).status,
    ).toBe(400);
  });

  it('accepts gzip bodies and copies tags', async () => {
    await startRelay();
    const response = await post('/bulk', gzipSync(JSON.stringify([customEvent('zipped')])), {
      Authorization: 'sdk-prod',
      'Content-Encoding': 'gzip',
      'X-LaunchDarkly-Tags': 'application-id/zip',
    });
    expect(response.status).toBe(202);
    await waitFor(() => bulk().length > 0);
    expect(bulk()[0]?.body).toEqual([customEvent('zipped')]);
    expect(bulk()[0]?.headers['x-launchdarkly-tags']).toBe('application-id/zip');
  });

  it('drops events beyond capacity and old-schema payloads, counting them', async () => {
    await startRelay({ capacity: 3, flushIntervalMs: 60_000 });
    const auth = { Authorization: 'sdk-prod' };
    const events = [1, 2, 3, 4, 5].map((n) => customEvent(`e${n}`));
    expect((await post('/bulk', JSON.stringify(events), auth)).status).toBe(202);
    expect(
      (await post('/bulk', '[{"kind":"feature"}]', { ...auth, 'X-LaunchDarkly-Event-Schema': '2' })).status,
    ).toBe(202);
    expect(plugin.stats().Production).toMatchObject({ received: 6, dropped: 3, buffered: 3 });
    await plugin.flush();
    expect(bulk()).toHaveLength(1);
    expect(bulk()[0]?.body).toHaveLength(3);
    expect(plugin.stats().Production).toMatchObject({ forwarded: 3, buffered: 0 });
  });
});

describe('upstream failures and shutdown', () => {
  it('retries once on 503 with the same payload id', async () => {
    await startRelay({ flushIntervalMs: 60_000 });
    upstream.statuses = [503];
    await post('/bulk', JSON.stringify([customEvent('a')]), { Authorization: 'sdk-prod' });
    await plugin.flush();
    expect(bulk()).toHaveLength(2);
    expect(bulk()[1]?.headers['x-launchdarkly-payload-id']).toBe(
      bulk()[0]?.headers['x-launchdarkly-payload-id'],
    );
    expect(plugin.stats().Production).toMatchObject({ forwarded: 1, dropped: 0 });

    // The next payload gets a fresh id.
    await post('/bulk', JSON.stringify([customEvent('b')]), { Authorization: 'sdk-prod' });
    await plugin.flush();
    expect(bulk()).toHaveLength(3);
    expect(bulk()[2]?.headers['x-launchdarkly-payload-id']).not.toBe(
      bulk()[0]?.headers['x-launchdarkly-payload-id'],
    );
  });

  it('drops a payload after two failures and counts it', async () => {
    await startRelay({ flushIntervalMs: 60_000 });
    upstream.statuses = [500, 429];
    await post('/bulk', JSON.stringify([customEvent('a'), customEvent('b')]), { Authorization: 'sdk-prod' });
    await plugin.flush();
    expect(bulk()).toHaveLength(2);
    expect(plugin.stats().Production).toMatchObject({ received: 2, forwarded: 0, dropped: 2 });
    // Later payloads are still sent.
    await post('/diagnostic', '{"kind":"diagnostic"}', { Authorization: 'sdk-staging' });
    await plugin.flush();
    expect(plugin.stats().Staging).toMatchObject({ diagnosticsReceived: 1, diagnosticsForwarded: 1 });
  });

  it('drops without retry on a non-recoverable 4xx', async () => {
    await startRelay({ flushIntervalMs: 60_000 });
    upstream.statuses = [401];
    await post('/bulk', JSON.stringify([customEvent('a')]), { Authorization: 'sdk-prod' });
    await plugin.flush();
    expect(bulk()).toHaveLength(1);
    expect(plugin.stats().Production).toMatchObject({ dropped: 1 });
  });

  it('retries after a network error', async () => {
    await startRelay({ flushIntervalMs: 60_000, eventsUri: 'http://127.0.0.1:1' });
    await post('/bulk', JSON.stringify([customEvent('a')]), { Authorization: 'sdk-prod' });
    await plugin.flush();
    expect(plugin.stats().Production).toMatchObject({ forwarded: 0, dropped: 1 });
  });

  it('drains buffered events on close', async () => {
    await startRelay({ flushIntervalMs: 60_000 });
    // The first attempt fails, so close must also wait for the retry.
    upstream.statuses = [503];
    await post('/bulk', JSON.stringify([customEvent('a')]), { Authorization: 'sdk-prod' });
    await post('/diagnostic', '{"kind":"diagnostic"}', { Authorization: 'sdk-prod' });
    expect(upstream.requests).toHaveLength(0);
    await app.close();
    expect(bulk()).toHaveLength(2);
    expect(upstream.requests.filter((r) => r.url === '/diagnostic')).toHaveLength(1);
    expect(plugin.stats().Production).toMatchObject({ forwarded: 1, diagnosticsForwarded: 1, buffered: 0 });
  });
});
