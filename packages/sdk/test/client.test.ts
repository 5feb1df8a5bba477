// The client API end to end over real data sources: TestData, and the protocol server for streaming,
// polling and events. Behaviour is checked against spec §3.9, §5.2 and §10.
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { init, integrations, type LDClient, LDTimeoutError } from '../src/index.js';
import { type ProtocolServer, startProtocolServer } from './support/protocolServer.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const user = { kind: 'user', key: 'u1', country: 'NZ' };
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

function testClient(td: InstanceType<typeof integrations.TestData>, extra = {}): LDClient {
  const client = init('sdk-key', {
    updateProcessor: td.getFactory(),
    sendEvents: false,
    logger: silent,
    ...extra,
  });
  open.push(client);
  return client;
}

describe('evaluation through the client', () => {
  it('evaluates flags from TestData with the official reasons', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('bool-flag').booleanFlag().variationForAll(true));
    await td.update(
      td
        .flag('nz')
        .variations('a', 'b', 'c')
        .fallthroughVariation(0)
        .ifMatch('user', 'country', 'NZ')
        .thenReturn(2),
    );
    const client = testClient(td);
    await client.waitForInitialization({ timeout: 5 });
    expect(client.initialized()).toBe(true);
    expect(await client.variation('bool-flag', user, false)).toBe(true);
    expect(await client.variationDetail('nz', user, 'x')).toEqual({
      value: 'c',
      variationIndex: 2,
      reason: { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'rule0' },
    });
    expect(await client.variationDetail('nz', { kind: 'user', key: 'u2' }, 'x')).toEqual({
      value: 'a',
      variationIndex: 0,
      reason: { kind: 'FALLTHROUGH' },
    });
  });

  it('returns the default with the proper error reason for unknown flags and invalid contexts', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('f').booleanFlag().variationForAll(true));
    const client = testClient(td);
    await client.waitForInitialization({ timeout: 5 });
    expect(await client.variationDetail('missing', user, 'dflt')).toEqual({
      value: 'dflt',
      variationIndex: null,
      reason: { kind: 'ERROR', errorKind: 'FLAG_NOT_FOUND' },
    });
    for (const bad of [null, {}, { kind: 'user' }, { kind: 'user', key: '' }, { kind: 'multi' }]) {
      expect(await client.variationDetail('f', bad as never, 'dflt')).toEqual({
        value: 'dflt',
        variationIndex: null,
        reason: { kind: 'ERROR', errorKind: 'USER_NOT_SPECIFIED' },
      });
    }
  });

  it('checks types in the typed variation methods', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('str').valueForAll('hello'));
    await td.update(td.flag('num').valueForAll(42));
    const client = testClient(td);
    await client.waitForInitialization({ timeout: 5 });
    expect(await client.stringVariation('str', user, 'd')).toBe('hello');
    expect(await client.numberVariation('num', user, 1)).toBe(42);
    expect(await client.boolVariation('str', user, false)).toBe(false);
    expect(await client.numberVariationDetail('str', user, 7)).toEqual({
      value: 7,
      variationIndex: null,
      reason: { kind: 'ERROR', errorKind: 'WRONG_TYPE' },
    });
    expect(await client.jsonVariation('num', user, null)).toBe(42);
  });

  it('answers CLIENT_NOT_READY before initialization and when offline', async () => {
    const never = init('sdk-key', {
      updateProcessor: () => ({ start() {}, stop() {} }),
      sendEvents: false,
      logger: silent,
    });
    open.push(never);
    expect(never.initialized()).toBe(false);
    expect((await never.variationDetail('f', user, 1)).reason).toEqual({
      kind: 'ERROR',
      errorKind: 'CLIENT_NOT_READY',
    });
    await expect(never.waitForInitialization({ timeout: 0.05 })).rejects.toBeInstanceOf(LDTimeoutError);

    const offline = init('', { offline: true, logger: silent });
    open.push(offline);
    expect(offline.isOffline()).toBe(true);
    expect((await offline.variationDetail('f', user, 1)).reason).toEqual({
      kind: 'ERROR',
      errorKind: 'CLIENT_NOT_READY',
    });
    expect((await offline.allFlagsState(user)).valid).toBe(false);
  });

  it('supports callbacks as the official SDK does', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('f').valueForAll('v'));
    const client = testClient(td);
    await client.waitForInitialization({ timeout: 5 });
    const value = await new Promise((resolve) => client.variation('f', user, 'd', (_err, v) => resolve(v)));
    expect(value).toBe('v');
  });

  it('rejects an empty SDK key unless offline', () => {
    expect(() => init('')).toThrow(/SDK key/);
  });
});

describe('allFlagsState', () => {
  it('produces the official JSON format', async () => {
    const td = new integrations.TestData();
    await td.usePreconfiguredFlag({
      key: 'tracked',
      version: 4,
      on: true,
      variations: ['x', 'y'],
      fallthrough: { variation: 1 },
      trackEvents: true,
      clientSideAvailability: { usingEnvironmentId: true, usingMobileKey: true },
    });
    await td.usePreconfiguredFlag({
      key: 'server-only',
      version: 1,
      on: false,
      variations: [true, false],
      offVariation: 1,
      fallthrough: { variation: 0 },
      clientSideAvailability: { usingEnvironmentId: false, usingMobileKey: false },
    });
    const client = testClient(td);
    await client.waitForInitialization({ timeout: 5 });
    const state = await client.allFlagsState(user, { withReasons: true });
    expect(state.toJSON()).toEqual({
      tracked: 'y',
      'server-only': false,
      $flagsState: {
        tracked: { variation: 1, version: 4, reason: { kind: 'FALLTHROUGH' }, trackEvents: true },
        'server-only': { variation: 1, version: 1, reason: { kind: 'OFF' } },
      },
      $valid: true,
    });
    const clientSide = await client.allFlagsState(user, {
      clientSideOnly: true,
      detailsOnlyForTrackedFlags: true,
    });
    expect(clientSide.toJSON()).toEqual({
      tracked: 'y',
      $flagsState: { tracked: { variation: 1, version: 4, trackEvents: true } },
      $valid: true,
    });
    expect(state.getFlagValue('tracked')).toBe('y');
    expect(state.getFlagReason('server-only')).toEqual({ kind: 'OFF' });
    expect(state.allValues()).toEqual({ tracked: 'y', 'server-only': false });
  });
});

describe('secureModeHash', () => {
  it('is the HMAC-SHA256 of the canonical key under the SDK key', () => {
    const client = init('secret', { offline: true, logger: silent });
    open.push(client);
    const expected = (msg: string) => createHmac('sha256', 'secret').update(msg).digest('hex');
    expect(client.secureModeHash({ key: 'u1' })).toBe(expected('u1'));
    expect(client.secureModeHash({ kind: 'org', key: 'a:b' })).toBe(expected('org:a%3Ab'));
    expect(() => client.secureModeHash({ kind: 'org' })).toThrow();
  });
});

describe('update events', () => {
  it('fires update and update:<key> for changed flags and flags that depend on them', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('base').booleanFlag().variationForAll(true));
    await td.usePreconfiguredFlag({
      key: 'dependent',
      version: 1,
      on: true,
      variations: [true, false],
      prerequisites: [{ key: 'base', variation: 0 }],
      fallthrough: { variation: 0 },
      offVariation: 1,
    });
    await td.update(td.flag('unrelated').booleanFlag().variationForAll(true));
    const client = testClient(td);
    await client.waitForInitialization({ timeout: 5 });
    const seen: string[] = [];
    const specific: string[] = [];
    client.on('update', ({ key }: { key: string }) => seen.push(key));
    client.on('update:dependent', ({ key }: { key: string }) => specific.push(key));
    await td.update(td.flag('base').booleanFlag().variationForAll(false));
    expect(seen.sort()).toEqual(['base', 'dependent']);
    expect(specific).toEqual(['dependent']);
    expect(await client.variationDetail('dependent', user, null)).toEqual({
      value: false,
      variationIndex: 1,
      reason: { kind: 'PREREQUISITE_FAILED', prerequisiteKey: 'base' },
    });
  });
});

describe('against the protocol server', () => {
  let server: ProtocolServer;
  afterEach(async () => server?.close());

  const flag = (key: string, version: number, value: unknown) => ({
    key,
    version,
    on: true,
    variations: [value, 'other'],
    fallthrough: { variation: 0 },
    offVariation: 1,
    trackEvents: true,
  });

  for (const stream of [true, false]) {
    it(`initializes over ${stream ? 'streaming' : 'polling'} and sends events to /bulk`, async () => {
      server = await startProtocolServer({ flags: { f: flag('f', 1, 'first') } });
      const client = init('sdk-key', {
        baseUri: server.url,
        streamUri: server.url,
        eventsUri: server.url,
        stream,
        diagnosticOptOut: true,
        logger: silent,
      });
      open.push(client);
      await client.waitForInitialization({ timeout: 5 });
      expect(await client.variation('f', user, 'd')).toBe('first');
      client.track('clicked', user, { a: 1 }, 3);
      const result = await client.flush();
      expect(result.error).toBeUndefined();
      expect(result.delivered).toBeGreaterThanOrEqual(3);
      const [post] = await server.waitForPosts('/bulk', 1);
      const kinds = (post!.body as { kind: string }[]).map((e) => e.kind);
      expect(kinds).toEqual(expect.arrayContaining(['index', 'feature', 'custom', 'summary']));
      expect(post!.headers.authorization).toBe('sdk-key');
      expect(post!.headers['x-launchdarkly-event-schema']).toBe('4');
    });
  }

  it('applies streamed patches and ignores stale ones', async () => {
    server = await startProtocolServer({ flags: { f: flag('f', 5, 'v5') } });
    const client = init('sdk-key', {
      streamUri: server.url,
      baseUri: server.url,
      eventsUri: server.url,
      sendEvents: false,
      logger: silent,
    });
    open.push(client);
    await client.waitForInitialization({ timeout: 5 });
    const changed = new Promise((resolve) => client.once('update:f', resolve));
    server.patchFlag(flag('f', 7, 'v7'));
    await changed;
    expect(await client.variation('f', user, 'd')).toBe('v7');
    server.patchFlag(flag('f', 6, 'v6'));
    server.patchFlag(flag('g', 1, 'marker'));
    await new Promise((resolve) => client.once('update:g', resolve));
    expect(await client.variation('f', user, 'd')).toBe('v7');
  });

  it('fails for good on 401 and rejects waitForInitialization', async () => {
    const http = await import('node:http');
    const denying = http.createServer((_req, res) => {
      res.writeHead(401);
      res.end();
    });
    await new Promise<void>((r) => denying.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(denying.address() as { port: number }).port}`;
    const client = init('bad-key', {
      streamUri: url,
      baseUri: url,
      eventsUri: url,
      sendEvents: false,
      logger: silent,
    });
    open.push(client);
    const failed = new Promise((resolve) => client.once('failed', resolve));
    await expect(client.waitForInitialization({ timeout: 5 })).rejects.toThrow(/401/);
    await failed;
    expect(client.initialized()).toBe(false);
    denying.close();
  });
});
