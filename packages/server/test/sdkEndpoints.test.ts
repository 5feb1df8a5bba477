// The SDK endpoints over in-process requests: authentication per key kind, polling with ETags,
// client-side and mobile evaluation (spec §5.1), REPORT, secure mode and CORS. Streams are tested
// over real sockets in sdkStreams.test.ts, SDK interoperability in sdkCompat.test.ts.
import { createHmac } from 'node:crypto';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerContext } from '../src/context.js';
import type { Environment } from '../src/domain/types.js';
import { sdkEndpoints } from '../src/sdk/index.js';
import { encodeContext, SdkFixture } from './support/sdkFixture.js';

const JS = { usingEnvironmentId: true, usingMobileKey: false };
const MOBILE = { usingEnvironmentId: false, usingMobileKey: true };
const BOTH = { usingEnvironmentId: true, usingMobileKey: true };

let fx: SdkFixture;
let app: FastifyInstance;
let prod: Environment;
let staging: Environment;

beforeAll(async () => {
  fx = await SdkFixture.create();
  prod = await fx.environment('shop', 'production');
  staging = await fx.environment('shop', 'staging');
  await fx.flag('shop', 'server-only', {
    variations: ['prod-value', 'other'],
    envs: { production: {}, staging: { fallthrough: { variation: 1 } } },
  });
  await fx.flag('shop', 'js-flag', {
    clientSideAvailability: JS,
    envs: { production: { targets: [{ values: ['alice'], variation: 1 }], trackEvents: true } },
  });
  await fx.flag('shop', 'mobile-flag', {
    variations: ['m0', 'm1'],
    clientSideAvailability: MOBILE,
    envs: { production: {} },
  });
  await fx.flag('shop', 'experiment', {
    variations: ['control', 'treatment'],
    clientSideAvailability: BOTH,
    envs: {
      production: {
        rules: [
          {
            id: 'nz',
            clauses: [{ attribute: 'country', op: 'in', values: ['NZ'] }],
            variation: 1,
            trackEvents: true,
          },
        ],
      },
    },
  });
  await fx.flag('shop', 'with-prereq', {
    variations: ['yes', 'no'],
    clientSideAvailability: JS,
    envs: { production: { prerequisites: [{ key: 'server-only', variation: 0 }] } },
  });
  await fx.flag('shop', 'off-no-off-variation', {
    clientSideAvailability: JS,
    envs: { production: { on: false, offVariation: undefined } },
  });
  await fx.flag('shop', 'debugging', {
    clientSideAvailability: JS,
    envs: { production: { debugEventsUntilDate: 4_102_444_800_000 } },
  });
  await fx.segment('shop', 'production', 'beta', { included: ['bob'] });
  await fx.flag('shop', 'beta-feature', {
    clientSideAvailability: BOTH,
    envs: {
      production: {
        rules: [
          { id: 'beta', clauses: [{ attribute: '', op: 'segmentMatch', values: ['beta'] }], variation: 0 },
        ],
        fallthrough: { variation: 1 },
      },
    },
  });
  await fx.flag('shop', 'archived', { clientSideAvailability: BOTH, envs: { production: {} } });
  await fx.archiveFlag('shop', 'archived');

  const ctx: ServerContext = { storage: fx.storage, now: Date.now, onCommitted: () => {} };
  app = Fastify();
  await app.register(sdkEndpoints(ctx));
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await fx.storage.close();
});

const inject = (options: InjectOptions) => app.inject(options);
const alice = { kind: 'user', key: 'alice', country: 'NZ' };

describe('authentication', () => {
  const poll = (authorization?: string) =>
    inject({ url: '/sdk/latest-all', headers: authorization ? { authorization } : {} });

  it('admits the SDK key raw or as `api_key <key>`, and nothing else on server-side routes', async () => {
    expect((await poll(prod.sdkKey)).statusCode).toBe(200);
    expect((await poll(`api_key ${prod.sdkKey}`)).statusCode).toBe(200);
    for (const wrong of [
      undefined,
      'sdk-unknown',
      prod.mobileKey,
      prod.clientSideId,
      `Bearer ${prod.sdkKey}`,
    ]) {
      const res = await poll(wrong);
      expect(res.statusCode, String(wrong)).toBe(401);
      expect(res.json().code).toBe('unauthorized');
    }
  });

  it('gives each key its own environment only', async () => {
    const prodData = (await poll(prod.sdkKey)).json();
    const stagingData = (await poll(staging.sdkKey)).json();
    expect(Object.keys(prodData.flags)).toContain('js-flag');
    expect(Object.keys(stagingData.flags)).toEqual(['server-only']);
    expect(stagingData.flags['server-only'].fallthrough).toEqual({ variation: 1 });
    expect(stagingData.segments).toEqual({});
  });

  it('admits only the mobile key on mobile routes', async () => {
    const url = `/msdk/evalx/contexts/${encodeContext(alice)}`;
    expect((await inject({ url, headers: { authorization: prod.mobileKey } })).statusCode).toBe(200);
    for (const wrong of [prod.sdkKey, prod.clientSideId, 'mob-unknown']) {
      expect((await inject({ url, headers: { authorization: wrong } })).statusCode, wrong).toBe(401);
    }
    expect((await inject({ url })).statusCode).toBe(401);
  });

  it('finds JavaScript-client environments by client-side ID only (404 otherwise)', async () => {
    const ctx = encodeContext(alice);
    expect((await inject({ url: `/sdk/evalx/${prod.clientSideId}/contexts/${ctx}` })).statusCode).toBe(200);
    for (const wrong of [prod.sdkKey, prod.mobileKey, 'deadbeef']) {
      const res = await inject({ url: `/sdk/evalx/${wrong}/contexts/${ctx}` });
      expect(res.statusCode, wrong).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
  });

  it('accepts a rotated key during its grace period only', async () => {
    const env = await fx.environment('rotation', 'test');
    const rotated = await fx.rotateSdkKey(env, Date.now() + 60_000);
    expect((await poll(env.sdkKey)).statusCode).toBe(200);
    expect((await poll(rotated.sdkKey)).statusCode).toBe(200);
    const again = await fx.rotateSdkKey(rotated, Date.now() - 1);
    expect((await poll(rotated.sdkKey)).statusCode).toBe(401);
    expect((await poll(again.sdkKey)).statusCode).toBe(200);
  });

  it('refuses every key of an archived environment', async () => {
    const env = await fx.environment('rotation', 'doomed');
    await fx.archiveEnvironment(env);
    expect((await poll(env.sdkKey)).statusCode).toBe(401);
    expect(
      (await inject({ url: `/sdk/evalx/${env.clientSideId}/contexts/${encodeContext(alice)}` })).statusCode,
    ).toBe(404);
  });
});

describe('polling', () => {
  const get = (url: string, headers: Record<string, string> = {}) =>
    inject({ url, headers: { authorization: prod.sdkKey, ...headers } });

  it('serves the full data set with an ETag and answers 304 while nothing changed', async () => {
    const first = await get('/sdk/latest-all');
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    const body = first.json();
    expect(Object.keys(body).sort()).toEqual(['flags', 'segments']);
    expect(body.flags['js-flag']).toMatchObject({
      key: 'js-flag',
      version: 1,
      on: true,
      variations: [true, false],
    });
    expect(body.flags.archived).toBeUndefined();
    expect(body.segments.beta).toMatchObject({ key: 'beta', version: 1, included: ['bob'] });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);

    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const cached = await get('/sdk/latest-all', { 'if-none-match': ifNoneMatch });
      expect(cached.statusCode, ifNoneMatch).toBe(304);
      expect(cached.body).toBe('');
      expect(cached.headers.etag).toBe(etag);
    }
    expect((await get('/sdk/latest-all', { 'if-none-match': '"other"' })).statusCode).toBe(200);

    await fx.updateTargeting('shop', 'production', 'js-flag', { on: false });
    const changed = await get('/sdk/latest-all', { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json().flags['js-flag']).toMatchObject({ on: false, version: 2 });
    await fx.updateTargeting('shop', 'production', 'js-flag', { on: true });
  });

  it('serves flags and segments separately, and single items (404 when unknown or archived)', async () => {
    const flags = (await get('/sdk/latest-flags')).json();
    expect(Object.keys(flags)).toContain('server-only');
    expect(flags.beta).toBeUndefined();
    expect((await get('/sdk/latest-segments')).json()).toEqual({
      beta: expect.objectContaining({ key: 'beta' }),
    });

    const flag = await get('/sdk/latest-flags/server-only');
    expect(flag.statusCode).toBe(200);
    expect(flag.json()).toMatchObject({ key: 'server-only', variations: ['prod-value', 'other'] });
    expect(flag.headers.etag).toBeDefined();
    expect((await get('/sdk/latest-segments/beta')).json()).toMatchObject({ key: 'beta' });
    for (const url of ['/sdk/latest-flags/nope', '/sdk/latest-flags/archived', '/sdk/latest-segments/nope']) {
      expect((await get(url)).statusCode, url).toBe(404);
    }
    // Relay's PHP-style paths serve the same.
    expect((await get('/sdk/flags')).json()).toEqual(flags);
    expect((await get('/sdk/flags/server-only')).json()).toEqual(flag.json());
  });
});

describe('client-side evaluation', () => {
  const jsGet = (context: unknown, query = '') =>
    inject({ url: `/sdk/evalx/${prod.clientSideId}/contexts/${encodeContext(context)}${query}` });

  it('evaluates only the flags available to the JavaScript client, as spec §5.1 shapes them', async () => {
    const res = await jsGet(alice);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual([
      'beta-feature',
      'debugging',
      'experiment',
      'js-flag',
      'off-no-off-variation',
      'with-prereq',
    ]);
    expect(body['js-flag']).toEqual({
      value: false,
      variation: 1,
      version: expect.any(Number),
      trackEvents: true,
    });
    expect(body['beta-feature']).toEqual({ value: false, variation: 1, version: 1 });
    // An experiment (rule with trackEvents) always carries its reason.
    expect(body.experiment).toEqual({
      value: 'treatment',
      variation: 1,
      version: 1,
      trackEvents: true,
      trackReason: true,
      reason: { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'nz' },
    });
    // Prerequisites are evaluated against every flag, including ones the client cannot see.
    expect(body['with-prereq']).toEqual({
      value: 'yes',
      variation: 0,
      version: 1,
      prerequisites: ['server-only'],
    });
    expect(body['off-no-off-variation']).toEqual({ value: null, variation: null, version: 1 });
    expect(body.debugging).toEqual({
      value: true,
      variation: 0,
      version: 1,
      debugEventsUntilDate: 4_102_444_800_000,
    });
  });

  it('adds every reason with withReasons=true', async () => {
    const body = (await jsGet({ kind: 'user', key: 'bob' }, '?withReasons=true')).json();
    expect(body['beta-feature'].reason).toEqual({ kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'beta' });
    expect(body['beta-feature'].value).toBe(true);
    expect(body['js-flag'].reason).toEqual({ kind: 'FALLTHROUGH' });
    expect(body['off-no-off-variation'].reason).toEqual({ kind: 'OFF' });
  });

  it('reads legacy users, multi-kind contexts and padded base64', async () => {
    const legacy = await inject({
      url: `/sdk/evalx/${prod.clientSideId}/users/${encodeContext({ key: 'alice', country: 'NZ' })}`,
    });
    expect(legacy.json()['js-flag'].value).toBe(false);
    expect(legacy.json().experiment.value).toBe('treatment');

    const multi = await jsGet({ kind: 'multi', user: { key: 'bob' }, org: { key: 'acme' } });
    expect(multi.json()['beta-feature'].value).toBe(true);

    const padded = Buffer.from(JSON.stringify({ kind: 'user', key: 'a' })).toString('base64');
    expect(padded.endsWith('=')).toBe(true);
    const res = await inject({ url: `/sdk/evalx/${prod.clientSideId}/contexts/${padded}` });
    expect(res.statusCode).toBe(200);
  });

  it('refuses malformed and invalid contexts with 400 and a message', async () => {
    const bad = [
      '!!!',
      Buffer.from('not json').toString('base64url'),
      encodeContext({ kind: 'user' }),
      encodeContext({ kind: 'user', key: '' }),
      encodeContext({ key: '' }),
      encodeContext({ kind: 'bad kind!', key: 'x' }),
      encodeContext('a string'),
    ];
    for (const ctx of bad) {
      const res = await inject({ url: `/sdk/evalx/${prod.clientSideId}/contexts/${ctx}` });
      expect(res.statusCode, ctx).toBe(400);
      expect(res.json().message).toMatch(/context/);
    }
    expect((await inject({ url: `/sdk/evalx/${prod.clientSideId}/contexts/` })).statusCode).toBe(400);
  });

  it('accepts REPORT with a JSON body, and only JSON (415)', async () => {
    const url = `/sdk/evalx/${prod.clientSideId}/context`;
    const get = (await jsGet(alice)).json();
    const report = await inject({ method: 'REPORT', url, payload: alice });
    expect(report.statusCode).toBe(200);
    expect(report.json()).toEqual(get);
    for (const alias of ['user', 'contexts']) {
      const res = await inject({
        method: 'REPORT',
        url: `/sdk/evalx/${prod.clientSideId}/${alias}`,
        payload: alice,
      });
      expect(res.json(), alias).toEqual(get);
    }
    const withReasons = await inject({ method: 'REPORT', url: `${url}?withReasons=true`, payload: alice });
    expect(withReasons.json()['js-flag'].reason).toEqual({ kind: 'TARGET_MATCH' });

    for (const contentType of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const res = await inject({
        method: 'REPORT',
        url,
        payload: JSON.stringify(alice),
        headers: { 'content-type': contentType },
      });
      expect(res.statusCode, contentType).toBe(415);
    }
    const invalid = await inject({ method: 'REPORT', url, payload: { kind: 'user', key: 42 } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().code).toBe('invalid_context');
  });

  it('checks the secure-mode hash when one is given', async () => {
    const hash = (key: string, canonical: string) =>
      createHmac('sha256', key).update(canonical).digest('hex');
    const ok = await jsGet(alice, `?h=${hash(prod.sdkKey, 'alice')}`);
    expect(ok.statusCode).toBe(200);
    const org = { kind: 'org', key: 'acme:1' };
    expect((await jsGet(org, `?h=${hash(prod.sdkKey, 'org:acme%3A1')}`)).statusCode).toBe(200);

    for (const h of [hash(prod.sdkKey, 'bob'), hash(staging.sdkKey, 'alice'), 'nothex', '']) {
      const res = await jsGet(alice, `?h=${h}`);
      expect(res.statusCode, h).toBe(400);
      expect(res.json().code).toBe('invalid_secure_mode_hash');
    }
    const report = await inject({
      method: 'REPORT',
      url: `/sdk/evalx/${prod.clientSideId}/context?h=${hash(prod.sdkKey, 'bob')}`,
      payload: alice,
    });
    expect(report.statusCode).toBe(400);
  });

  it('gives mobile SDKs the mobile-available flags, and SDK-key callers every flag', async () => {
    const ctx = encodeContext(alice);
    const mobile = (
      await inject({ url: `/msdk/evalx/contexts/${ctx}`, headers: { authorization: prod.mobileKey } })
    ).json();
    expect(Object.keys(mobile).sort()).toEqual(['beta-feature', 'experiment', 'mobile-flag']);
    expect(mobile['mobile-flag']).toEqual({ value: 'm0', variation: 0, version: 1 });
    const legacy = await inject({
      url: `/msdk/evalx/users/${encodeContext({ key: 'alice', country: 'NZ' })}`,
      headers: { authorization: prod.mobileKey },
    });
    expect(legacy.json()).toEqual(mobile);
    for (const path of ['context', 'user']) {
      const res = await inject({
        method: 'REPORT',
        url: `/msdk/evalx/${path}`,
        headers: { authorization: prod.mobileKey },
        payload: alice,
      });
      expect(res.json(), path).toEqual(mobile);
    }

    const all = (
      await inject({ url: `/sdk/evalx/contexts/${ctx}`, headers: { authorization: prod.sdkKey } })
    ).json();
    expect(Object.keys(all)).toContain('server-only');
    expect(Object.keys(all)).toContain('mobile-flag');
    expect(all['server-only']).toEqual({ value: 'prod-value', variation: 0, version: 1 });
    const report = await inject({
      method: 'REPORT',
      url: '/sdk/evalx/context',
      headers: { authorization: prod.sdkKey },
      payload: alice,
    });
    expect(report.json()).toEqual(all);
  });
});

describe('CORS', () => {
  const origin = 'https://app.example.com';

  it('is on JavaScript-client routes, errors included', async () => {
    const ok = await inject({
      url: `/sdk/evalx/${prod.clientSideId}/contexts/${encodeContext(alice)}`,
      headers: { origin },
    });
    expect(ok.headers['access-control-allow-origin']).toBe(origin);
    expect(ok.headers.vary).toMatch(/Origin/);
    const anyOrigin = await inject({
      url: `/sdk/evalx/${prod.clientSideId}/contexts/${encodeContext(alice)}`,
    });
    expect(anyOrigin.headers['access-control-allow-origin']).toBe('*');

    const unknown = await inject({
      url: `/sdk/evalx/nope/contexts/${encodeContext(alice)}`,
      headers: { origin },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['access-control-allow-origin']).toBe(origin);
    const unsupported = await inject({
      method: 'REPORT',
      url: `/sdk/evalx/${prod.clientSideId}/context`,
      payload: 'x',
      headers: { origin, 'content-type': 'text/plain' },
    });
    expect(unsupported.statusCode).toBe(415);
    expect(unsupported.headers['access-control-allow-origin']).toBe(origin);

    const goals = await inject({ url: `/sdk/goals/${prod.clientSideId}`, headers: { origin } });
    expect(goals.json()).toEqual([]);
    expect(goals.headers['access-control-allow-origin']).toBe(origin);
  });

  it('answers preflights on JavaScript-client routes', async () => {
    for (const url of [
      `/sdk/evalx/${prod.clientSideId}/context`,
      `/sdk/evalx/${prod.clientSideId}/contexts/abc`,
      `/eval/${prod.clientSideId}/abc`,
      `/eval/${prod.clientSideId}`,
      `/sdk/goals/${prod.clientSideId}`,
    ]) {
      const res = await inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin,
          'access-control-request-method': 'REPORT',
          'access-control-request-headers': 'content-type,x-launchdarkly-user-agent',
        },
      });
      expect(res.statusCode, url).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers['access-control-allow-methods']).toMatch(/REPORT/);
      expect(res.headers['access-control-allow-headers']).toMatch(/Content-Type/);
      expect(res.headers['access-control-allow-headers']).toMatch(/X-LaunchDarkly-User-Agent/);
    }
  });

  it('is absent from server-side and mobile routes', async () => {
    const server = await inject({ url: '/sdk/latest-all', headers: { origin, authorization: prod.sdkKey } });
    expect(server.statusCode).toBe(200);
    expect(server.headers['access-control-allow-origin']).toBeUndefined();
    const denied = await inject({ url: '/sdk/latest-all', headers: { origin } });
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    const mobile = await inject({
      url: `/msdk/evalx/contexts/${encodeContext(alice)}`,
      headers: { origin, authorization: prod.mobileKey },
    });
    expect(mobile.headers['access-control-allow-origin']).toBeUndefined();
    const relay = await inject({
      url: `/sdk/evalx/contexts/${encodeContext(alice)}`,
      headers: { origin, authorization: prod.sdkKey },
    });
    expect(relay.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await inject({
      method: 'OPTIONS',
      url: '/sdk/latest-all',
      headers: { origin, 'access-control-request-method': 'GET' },
    });
    expect(preflight.statusCode).toBe(404);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});
