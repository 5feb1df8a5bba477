// OFREP on the relay: request-level checks of the protocol's status codes and shapes, then
// OpenFeature's own OFREP provider with @openfeature/server-sdk evaluating through it.

import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flag, json, MOBILE_KEY, type Relay, SDK_KEY, startRelay } from './fixtures.js';

let relay: Relay;

beforeEach(async () => {
  relay = await startRelay();
});

afterEach(async () => {
  await relay.close();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${relay.base}/ofrep/v1/evaluate/flags${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SDK_KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('OFREP single-flag evaluation', () => {
  it('maps targetingKey to the context key and LaunchDarkly reasons to OFREP ones', async () => {
    const target = await post('/greeting', { context: { targetingKey: 'amelie' } });
    expect(target.status).toBe(200);
    expect(await json(target)).toEqual({
      key: 'greeting',
      value: 'bonjour',
      reason: 'TARGETING_MATCH',
      variant: '1',
      metadata: { flagVersion: 1, ldReason: 'TARGET_MATCH' },
    });
    const rule = await json(await post('/greeting', { context: { targetingKey: 'tama' } }));
    expect(rule).toMatchObject({ value: 'kia ora', reason: 'TARGETING_MATCH', metadata: { ruleId: 'beta' } });
    const fallthrough = await json(await post('/greeting', { context: { targetingKey: 'zed' } }));
    expect(fallthrough).toMatchObject({ value: 'hello', reason: 'DEFAULT', variant: '0' });
    const off = await json(await post('/off-flag', { context: { targetingKey: 'zed' } }));
    expect(off).toMatchObject({ value: false, reason: 'DISABLED', variant: '1' });
  });

  it('supports other kinds and multi-contexts', async () => {
    relay.env.applyPatch(
      'flags',
      flag('org-flag', {
        contextTargets: [{ contextKind: 'org', values: ['acme'], variation: 1 }],
      } as never),
    );
    const org = await json(await post('/org-flag', { context: { targetingKey: 'acme', kind: 'org' } }));
    expect(org).toMatchObject({ value: false, reason: 'TARGETING_MATCH' });
    const multi = await post('/org-flag', {
      context: { kind: 'multi', user: { targetingKey: 'u1', name: 'U' }, org: { targetingKey: 'acme' } },
    });
    expect(await json(multi)).toMatchObject({ value: false, reason: 'TARGETING_MATCH' });
  });

  it('answers 404 FLAG_NOT_FOUND, 400 for missing key, bad context or bad JSON, 401 for a bad key', async () => {
    const missing = await post('/nope', { context: { targetingKey: 'a' } });
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ key: 'nope', errorCode: 'FLAG_NOT_FOUND' });
    const noKey = await post('/greeting', { context: { name: 'a' } });
    expect(noKey.status).toBe(400);
    expect(await json(noKey)).toMatchObject({ key: 'greeting', errorCode: 'TARGETING_KEY_MISSING' });
    const badKind = await post('/greeting', { context: { targetingKey: 'a', kind: 'kind' } });
    expect(badKind.status).toBe(400);
    expect((await json(badKind)).errorCode).toBe('INVALID_CONTEXT');
    const badJson = await post('/greeting', '{"context":');
    expect(badJson.status).toBe(400);
    expect((await json(badJson)).errorCode).toBe('PARSE_ERROR');
    expect(
      (await post('/greeting', { context: { targetingKey: 'a' } }, { authorization: MOBILE_KEY })).status,
    ).toBe(401);
    // The raw key, as LaunchDarkly SDKs send it, works as well.
    expect(
      (await post('/greeting', { context: { targetingKey: 'a' } }, { authorization: SDK_KEY })).status,
    ).toBe(200);
  });
});

describe('OFREP bulk evaluation', () => {
  it('evaluates every flag, with an ETag that gives 304 until the data or the context changes', async () => {
    const res = await post('', { context: { targetingKey: 'amelie' } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.flags.map((f: { key: string }) => f.key).sort()).toEqual([
      'greeting',
      'off-flag',
      'web-only',
    ]);
    const etag = res.headers.get('etag')!;
    expect((await post('', { context: { targetingKey: 'amelie' } }, { 'if-none-match': etag })).status).toBe(
      304,
    );
    expect((await post('', { context: { targetingKey: 'tama' } }, { 'if-none-match': etag })).status).toBe(
      200,
    );
    relay.env.applyPatch('flags', flag('greeting', { version: 2, on: false }));
    expect((await post('', { context: { targetingKey: 'amelie' } }, { 'if-none-match': etag })).status).toBe(
      200,
    );
    expect((await post('', {})).status).toBe(400);
  });
});

describe('through @openfeature/ofrep-provider', () => {
  it('resolves values and details with OpenFeature', async () => {
    const domain = `relay-${Date.now()}`;
    await OpenFeature.setProviderAndWait(
      domain,
      new OFREPProvider({ baseUrl: relay.base, headers: { Authorization: `Bearer ${SDK_KEY}` } }),
    );
    const client = OpenFeature.getClient(domain);
    expect(await client.getStringValue('greeting', 'x', { targetingKey: 'amelie' })).toBe('bonjour');
    const detail = await client.getStringDetails('greeting', 'x', { targetingKey: 'tama' });
    expect(detail).toMatchObject({ value: 'kia ora', reason: 'TARGETING_MATCH', variant: '2' });
    expect(await client.getBooleanValue('off-flag', true, { targetingKey: 'a' })).toBe(false);
    const missing = await client.getBooleanDetails('nope', true, { targetingKey: 'a' });
    expect(missing).toMatchObject({ value: true, errorCode: 'FLAG_NOT_FOUND' });
    const noKey = await client.getStringDetails('greeting', 'x', {});
    expect(noKey).toMatchObject({ value: 'x', errorCode: 'TARGETING_KEY_MISSING' });
    await OpenFeature.clearProviders();
  });
});
