// End to end, on each backend: the service built by `buildFlagService` listens on a real port and is
// driven only through HTTP. Test data goes in through the admin API; real SDKs (LaunchDarkly's official
// Node server SDK v9 and ours) stream from the service, see live changes, and send events that come
// back out of the insights API; and the credentials of each kind reach exactly what they should.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Backend,
  type BackendFixture,
  BOOLEAN_FLAG,
  backends,
  bootstrapAdminToken,
  contexts,
  createScenario,
  EMAIL_RULE,
  encodeContext,
  HOUR_MS,
  hourOf,
  MULTI_FLAG,
  nextUpdate,
  type RunningService,
  request,
  SEGMENT,
  SEGMENT_RULE,
  sdkOptions,
  sdks,
  startService,
  waitOptions,
} from './support/e2e.js';

describe.each(backends)('end to end on $name', (backend: Backend) => {
  let fixture: BackendFixture;
  let running: RunningService;

  beforeAll(async () => {
    fixture = await backend.open();
    running = await startService(fixture.storage, await bootstrapAdminToken(fixture.storage));
  });

  afterAll(async () => {
    await running?.close();
    await fixture?.cleanup();
  });

  it('builds a project, flags, rules and a segment through the admin API, as SDKs then see them', async () => {
    const { api, url } = running;
    const scenario = await createScenario(api, 'e2e-admin');
    expect(fixture.storage.backend).toBe(backend.name === 'SQLite' ? 'sqlite' : 'postgres');
    expect((await request(url, 'GET', '/health')).body).toEqual({
      status: 'ok',
      storage: fixture.storage.backend,
    });

    // The admin view: per-environment targeting with the versions SDKs will see.
    const flag = await api.expect(200, 'GET', `/projects/${scenario.project}/flags/${BOOLEAN_FLAG}`);
    expect(flag.environments.production).toMatchObject({ on: true, version: 3, rules: [{ id: EMAIL_RULE }] });
    expect(flag.environments.test).toMatchObject({ on: false, version: 1, rules: [] });
    const segment = await api.expect(
      200,
      'GET',
      `/projects/${scenario.project}/environments/production/segments/${SEGMENT}`,
    );
    expect(segment).toMatchObject({ key: SEGMENT, included: [contexts.beta.key], version: 1 });

    // The SDK view of the same data: LaunchDarkly's flag JSON, composed from definition and targeting.
    const all = await request(url, 'GET', '/sdk/latest-all', { authorization: scenario.production.sdkKey });
    expect(all.status).toBe(200);
    expect(all.body.flags[BOOLEAN_FLAG]).toMatchObject({
      key: BOOLEAN_FLAG,
      on: true,
      version: 3,
      variations: [true, false],
      fallthrough: { variation: 1 },
      offVariation: 1,
      rules: [
        {
          id: EMAIL_RULE,
          variation: 0,
          clauses: [{ contextKind: 'user', attribute: 'email', op: 'endsWith', values: ['@example.com'] }],
        },
      ],
    });
    expect(all.body.flags[MULTI_FLAG]).toMatchObject({
      on: true,
      variations: ['blue', 'green', 'red'],
      rules: [{ id: SEGMENT_RULE, variation: 2, clauses: [{ op: 'segmentMatch', values: [SEGMENT] }] }],
    });
    expect(all.body.segments[SEGMENT]).toMatchObject({ key: SEGMENT, included: [contexts.beta.key] });
  });

  // The same steps for each SDK, each in its own project, so that neither sees the other's changes or
  // events: initialise, evaluate with reasons, follow two live changes, flush, find the counts.
  describe.each(sdks)('$name', (sdk) => {
    it('initialises, evaluates, follows live admin changes, and its events reach the insights', async () => {
      const { api, url } = running;
      const testStart = Date.now();
      const { project, production } = await createScenario(api, `e2e-${sdk.id}`);
      const client = sdk.init(production.sdkKey, sdkOptions(url));
      try {
        await client.waitForInitialization({ timeout: 30 });
        // Initialised by streaming: its connection is one of the hub's.
        expect(running.service.hub.connectionCount).toBeGreaterThanOrEqual(1);

        expect(await client.variationDetail(BOOLEAN_FLAG, contexts.staff, null)).toEqual({
          value: true,
          variationIndex: 0,
          reason: { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: EMAIL_RULE },
        });
        expect(await client.variationDetail(BOOLEAN_FLAG, contexts.outsider, null)).toEqual({
          value: false,
          variationIndex: 1,
          reason: { kind: 'FALLTHROUGH' },
        });
        expect(await client.variationDetail(MULTI_FLAG, contexts.beta, 'default')).toEqual({
          value: 'red',
          variationIndex: 2,
          reason: { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: SEGMENT_RULE },
        });
        expect(await client.variationDetail(MULTI_FLAG, contexts.outsider, 'default')).toEqual({
          value: 'blue',
          variationIndex: 0,
          reason: { kind: 'FALLTHROUGH' },
        });

        // A change through the admin API reaches the SDK's stream while it is connected.
        const turnedOff = nextUpdate(client, BOOLEAN_FLAG);
        const off = await api.instruct(project, 'production', BOOLEAN_FLAG, { kind: 'turnFlagOff' });
        expect(off).toMatchObject({ on: false, version: 4 });
        await turnedOff;
        expect(await client.variationDetail(BOOLEAN_FLAG, contexts.staff, null)).toEqual({
          value: false,
          variationIndex: 1,
          reason: { kind: 'OFF' },
        });

        const fallthroughChanged = nextUpdate(client, MULTI_FLAG);
        await api.instruct(project, 'production', MULTI_FLAG, {
          kind: 'updateFallthroughVariationOrRollout',
          variation: 1,
        });
        await fallthroughChanged;
        expect(await client.variationDetail(MULTI_FLAG, contexts.outsider, 'default')).toEqual({
          value: 'green',
          variationIndex: 1,
          reason: { kind: 'FALLTHROUGH' },
        });

        // Every evaluation above is in the SDK's summary event; flushing posts it to /bulk.
        await client.flush();
        const insights = (key: string) =>
          api.expect(
            200,
            'GET',
            `/projects/${project}/environments/production/insights/flags/${key}?from=${hourOf(testStart)}`,
          );
        // Ingestion writes the counters before answering, but waiting keeps this independent of that.
        await vi.waitFor(async () => {
          expect((await insights(BOOLEAN_FLAG)).totals).toEqual({ '0': 1, '1': 2 });
        }, waitOptions);
        await vi.waitFor(async () => {
          expect((await insights(MULTI_FLAG)).totals).toEqual({ '0': 1, '1': 1, '2': 1 });
        }, waitOptions);

        // The counts are in the hour the test ran in (two hours if it straddled a boundary).
        const checkedAt = Date.now();
        for (const key of [BOOLEAN_FLAG, MULTI_FLAG]) {
          const answer = await insights(key);
          expect(answer.granularity).toBe('hour');
          const filled = (answer.series as { time: number; counts: Record<string, number> }[]).filter(
            (bucket) => Object.keys(bucket.counts).length > 0,
          );
          expect(filled.length).toBeGreaterThan(0);
          for (const bucket of filled) {
            expect(bucket.time).toBeGreaterThanOrEqual(hourOf(testStart));
            expect(bucket.time).toBeLessThan(hourOf(checkedAt) + HOUR_MS);
          }
        }
      } finally {
        await client.close();
      }
    });
  });

  it('gives each credential exactly its own reach', async () => {
    const { api, url } = running;
    const { project, production, test } = await createScenario(api, 'e2e-auth');
    const get = (path: string, authorization?: string) => request(url, 'GET', path, { authorization });

    // An SDK key selects its environment: each sees its own targeting, never the other's. (The
    // polling routes take no environment in the path, so the key alone decides what is served.)
    const prodAll = await get('/sdk/latest-all', production.sdkKey);
    const testAll = await get('/sdk/latest-all', test.sdkKey);
    expect(prodAll.status).toBe(200);
    expect(testAll.status).toBe(200);
    expect(prodAll.body.flags[BOOLEAN_FLAG]).toMatchObject({ on: true, version: 3 });
    expect(testAll.body.flags[BOOLEAN_FLAG]).toMatchObject({ on: false, version: 1, rules: [] });
    expect(Object.keys(prodAll.body.segments)).toEqual([SEGMENT]);
    expect(testAll.body.segments).toEqual({});
    // Keys of the other kinds, and no key, open nothing on the server-side routes.
    for (const wrong of [production.mobileKey, production.clientSideId, 'sdk-not-a-key', undefined]) {
      expect((await get('/sdk/latest-all', wrong)).status).toBe(401);
    }

    // An SDK key is not an API token: the admin API (the test environment and its keys included),
    // the insights, and writes all answer 401, with or without "Bearer".
    for (const authorization of [production.sdkKey, `Bearer ${production.sdkKey}`, test.sdkKey]) {
      expect((await get('/api/v1/projects', authorization)).status).toBe(401);
      expect((await get(`/api/v1/projects/${project}/environments/test`, authorization)).status).toBe(401);
      expect(
        (await get(`/api/v1/projects/${project}/environments/production/insights/flags`, authorization))
          .status,
      ).toBe(401);
      const write = await request(url, 'POST', `/api/v1/projects/${project}/flags`, {
        authorization,
        body: { key: 'sneaky', name: 'Sneaky' },
      });
      expect(write.status).toBe(401);
    }

    // A reader token reads and cannot write; nothing changes.
    const reader = await api.expect(201, 'POST', '/tokens', { name: 'e2e reader', role: 'reader' });
    const asReader = { token: reader.secret as string };
    const flagPath = `/projects/${project}/environments/production/flags/${BOOLEAN_FLAG}`;
    const before = await api.call('GET', flagPath, asReader);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ on: true, version: 3 });
    const refused = [
      await api.call('PATCH', flagPath, { ...asReader, body: { instructions: [{ kind: 'turnFlagOff' }] } }),
      await api.call('POST', `/projects/${project}/flags`, { ...asReader, body: { key: 'x', name: 'X' } }),
      await api.call('POST', `/projects/${project}/environments/production/segments`, {
        ...asReader,
        body: { key: 'y', name: 'Y' },
      }),
      await api.call('POST', '/tokens', { ...asReader, body: { name: 'escalate', role: 'admin' } }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403]);
    expect((await api.call('GET', flagPath, asReader)).body).toMatchObject({ on: true, version: 3 });

    // The client-side ID (public) evaluates only the flags made available to client-side SDKs, in
    // its own environment; the SDK key's evaluation route lists every flag.
    const ctx = encodeContext(contexts.beta);
    const clientSide = await get(`/sdk/evalx/${production.clientSideId}/contexts/${ctx}`);
    expect(clientSide.status).toBe(200);
    expect(Object.keys(clientSide.body)).toEqual([MULTI_FLAG]);
    expect(clientSide.body[MULTI_FLAG]).toMatchObject({ value: 'red', variation: 2 });
    const testClientSide = await get(`/sdk/evalx/${test.clientSideId}/contexts/${ctx}`);
    expect(Object.keys(testClientSide.body)).toEqual([MULTI_FLAG]);
    // Off in test, serving its off variation (the first).
    expect(testClientSide.body[MULTI_FLAG]).toMatchObject({ value: 'blue', variation: 0 });
    const serverSide = await get(`/sdk/evalx/contexts/${ctx}`, production.sdkKey);
    expect(Object.keys(serverSide.body).sort()).toEqual([MULTI_FLAG, BOOLEAN_FLAG].sort());
    expect((await get(`/sdk/evalx/contexts/${ctx}`, production.clientSideId)).status).toBe(401);
  });
});
