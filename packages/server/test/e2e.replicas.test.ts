// End to end with several replicas on one PostgreSQL database (one schema), each a whole service on
// its own port with its own storage connection: a change written through replica A must reach the
// SDK streams held by replica B (PostgreSQL LISTEN/NOTIFY), and when B's listener connection drops,
// a change made in the gap must still reach B's streams once it is back (the hub's resync `put`).

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  adminPool,
  type BackendFixture,
  BOOLEAN_FLAG,
  backends,
  bootstrapAdminToken,
  contexts,
  createScenario,
  DATABASE_URL,
  MULTI_FLAG,
  nextUpdate,
  PostgresGate,
  type RunningService,
  request,
  SEGMENT,
  sdkOptions,
  sdks,
  startService,
  WAIT_MS,
  waitOptions,
} from './support/e2e.js';
import { SseClient } from './support/sseClient.js';

const postgres = backends.find((b) => b.name === 'PostgreSQL')!;
const ours = sdks.find((s) => s.id === 'flagstaff')!;

describe('replicas on one PostgreSQL database', () => {
  let fixture: BackendFixture;
  let admin: pg.Pool;
  let token: string;
  /** Replica A: where the admin changes are made. */
  let a: RunningService;

  beforeAll(async () => {
    admin = await adminPool();
    fixture = await postgres.open();
    token = await bootstrapAdminToken(fixture.storage);
    a = await startService(fixture.storage, token);
  });

  afterAll(async () => {
    await a?.close();
    await fixture?.cleanup();
    await admin?.end();
  });

  it('fans a change written through replica A out to the streams and polls of replica B', async () => {
    const { project, production } = await createScenario(a.api, 'e2e-fanout');
    // Replica B: a second storage connection to the same schema, and a second service.
    const b = await startService(await fixture.openAnother(), token);
    const sse = await SseClient.open(`${b.url}/all`, { headers: { authorization: production.sdkKey } });
    const client = ours.init(production.sdkKey, sdkOptions(b.url, { sendEvents: false }));
    try {
      expect(sse.status).toBe(200);
      const put = await sse.nextJson(WAIT_MS);
      expect(put.event).toBe('put');
      expect(put.data).toMatchObject({
        path: '/',
        data: { flags: { [BOOLEAN_FLAG]: { on: true, version: 3 } } },
      });
      await client.waitForInitialization({ timeout: 30 });
      expect((await client.variationDetail(BOOLEAN_FLAG, contexts.staff, null)).value).toBe(true);

      // A flag change through A's admin API: B's raw stream gets the patch, B's SDK applies it.
      const sdkUpdated = nextUpdate(client, BOOLEAN_FLAG);
      const off = await a.api.instruct(project, 'production', BOOLEAN_FLAG, { kind: 'turnFlagOff' });
      expect(off).toMatchObject({ on: false, version: 4 });
      expect(await sse.nextJson(WAIT_MS)).toMatchObject({
        event: 'patch',
        data: { path: `/flags/${BOOLEAN_FLAG}`, data: { key: BOOLEAN_FLAG, on: false, version: 4 } },
      });
      await sdkUpdated;
      expect(await client.variationDetail(BOOLEAN_FLAG, contexts.staff, null)).toMatchObject({
        value: false,
        reason: { kind: 'OFF' },
      });

      // A segment change through A: the patch carries the segment, and the flag using it follows.
      const segmentUpdated = nextUpdate(client, MULTI_FLAG);
      const segment = await a.api.expect(
        200,
        'PATCH',
        `/projects/${project}/environments/production/segments/${SEGMENT}`,
        [{ op: 'add', path: '/included/-', value: contexts.outsider.key }],
      );
      expect(segment).toMatchObject({ version: 2 });
      expect(await sse.nextJson(WAIT_MS)).toMatchObject({
        event: 'patch',
        data: { path: `/segments/${SEGMENT}`, data: { key: SEGMENT, version: 2 } },
      });
      await segmentUpdated;
      expect((await client.variationDetail(MULTI_FLAG, contexts.outsider, 'default')).value).toBe('red');

      // B's polling endpoint reads the same database: the change is there too.
      const polled = await request(b.url, 'GET', '/sdk/latest-all', { authorization: production.sdkKey });
      expect(polled.status).toBe(200);
      expect(polled.body.flags[BOOLEAN_FLAG]).toMatchObject({ on: false, version: 4 });
      expect(polled.body.segments[SEGMENT]).toMatchObject({ version: 2 });
    } finally {
      sse.close();
      await client.close();
      await b.close();
    }
  });

  it('resyncs replica B’s streams after its listener connection is killed and comes back', async () => {
    const { project, production } = await createScenario(a.api, 'e2e-resync');
    // B reaches PostgreSQL through a gate, so that its listener can be kept from reconnecting until
    // the change below is committed; and under its own application_name, so that the test kills
    // B's LISTEN session and not that of another storage sharing the database.
    const gate = await PostgresGate.start(DATABASE_URL);
    const applicationName = `flagstaff_e2e_${process.pid}_${Date.now().toString(36)}`;
    const errors: string[] = [];
    const storageB = await fixture.openAnother({
      databaseUrl: gate.url(DATABASE_URL, { application_name: applicationName }),
      onError: (message) => errors.push(message),
    });
    const b = await startService(storageB, token);
    const listenerSessions = async () =>
      (
        await admin.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
          [applicationName],
        )
      ).rows;
    const sse = await SseClient.open(`${b.url}/all`, { headers: { authorization: production.sdkKey } });
    try {
      expect(sse.status).toBe(200);
      const put = await sse.nextJson(WAIT_MS);
      expect(put).toMatchObject({
        event: 'put',
        data: { data: { flags: { [BOOLEAN_FLAG]: { version: 3 } } } },
      });
      // B's hub subscribed when the service was built; its LISTEN session must be up before the kill.
      await vi.waitFor(async () => expect(await listenerSessions()).toHaveLength(1), waitOptions);

      gate.shut();
      const killed = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
        [applicationName],
      );
      expect(killed.rowCount).toBe(1);
      // Once B has seen its listener fail, nothing it is sent can reach it until the gate reopens.
      await vi.waitFor(
        () => expect(errors.some((m) => m.startsWith('the change listener connection failed'))).toBe(true),
        waitOptions,
      );
      expect(await listenerSessions()).toHaveLength(0);

      // The change in the gap, through replica A: its notice reaches A's listener, not B's.
      const off = await a.api.instruct(project, 'production', BOOLEAN_FLAG, { kind: 'turnFlagOff' });
      expect(off).toMatchObject({ on: false, version: 4 });

      gate.reopen();
      // The listener reconnects; buildFlagService's onListenerRestored registration resyncs the hub,
      // which sends the whole environment again, now with the change. No patch came for it: the
      // next event after the first put is this put.
      const resync = await sse.nextJson(WAIT_MS);
      expect(resync).toMatchObject({
        event: 'put',
        data: { path: '/', data: { flags: { [BOOLEAN_FLAG]: { on: false, version: 4 } } } },
      });
      await vi.waitFor(async () => expect(await listenerSessions()).toHaveLength(1), waitOptions);

      // And B is back to normal: the next change arrives as a patch.
      await a.api.instruct(project, 'production', MULTI_FLAG, {
        kind: 'updateFallthroughVariationOrRollout',
        variation: 1,
      });
      expect(await sse.nextJson(WAIT_MS)).toMatchObject({
        event: 'patch',
        data: { path: `/flags/${MULTI_FLAG}`, data: { fallthrough: { variation: 1 }, version: 3 } },
      });
      expect(sse.isEnded).toBe(false);
    } finally {
      sse.close();
      await b.close();
      // Before the gate goes, so that the pool's connections end cleanly rather than being cut.
      await storageB.close();
      await gate.stop();
    }
  });
});
