// Interoperability with LaunchDarkly's own packages through the real Redis, both ways:
// data our store writes is evaluated by the official SDK v9 in daemon mode over the official Redis store
// exactly as by ours, and data the official Redis store writes is read by our daemon-mode client.

import { FEATURES, init, integrations, type LDClient, type LDFeatureStore } from '@flagstaff/node-server-sdk';
import * as official from '@launchdarkly/node-server-sdk';
import { RedisFeatureStore as OfficialRedisFeatureStore } from '@launchdarkly/node-server-sdk-redis';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisFeatureStore } from '../src/index.js';
import { contexts, flags, segments } from './support/flags.js';
import { deletePrefix, sharedRedis, silent, uniquePrefix } from './support/redis.js';

let redis: Redis;
const prefixes: string[] = [];
const cleanup: (() => unknown)[] = [];
beforeAll(() => {
  redis = sharedRedis();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
});
afterAll(() => redis.disconnect());

function prefix(): string {
  const p = uniquePrefix();
  prefixes.push(p);
  return p;
}

const quiet = { sendEvents: false, diagnosticOptOut: true, logger: silent };

function ourDaemon(p: string): LDClient {
  const client = init('sdk-key', {
    ...quiet,
    useLdd: true,
    featureStore: RedisFeatureStore({ prefix: p, cacheTTL: 0 }),
  });
  cleanup.push(() => client.close());
  return client;
}

function theirDaemon(featureStore: official.LDOptions['featureStore']): official.LDClient {
  const client = official.init('sdk-key', { ...quiet, useLdd: true, featureStore });
  cleanup.push(() => client.close());
  return client;
}

const keys = [...Object.keys(flags), 'missing-flag'];

/** Every flag for every context, with reasons, and allFlagsState both ways, must be equal. */
async function expectSameEvaluations(ours: LDClient, theirs: official.LDClient): Promise<void> {
  await Promise.all([
    ours.waitForInitialization({ timeout: 5 }),
    theirs.waitForInitialization({ timeout: 5 }),
  ]);
  let compared = 0;
  let errors = 0;
  for (const key of keys) {
    for (const context of contexts) {
      const expected = await theirs.variationDetail(key, context, 'default');
      if (expected.reason.kind === 'ERROR') errors++;
      expect({ key, context, detail: await ours.variationDetail(key, context, 'default') }).toEqual({
        key,
        context,
        detail: expected,
      });
      compared++;
    }
  }
  expect(compared).toBe(keys.length * contexts.length);
  // Only 'missing-flag' and at most the deleted flag are unknown: the stores were really read.
  expect(errors).toBeLessThanOrEqual(2 * contexts.length);
  for (const context of contexts) {
    for (const options of [{}, { withReasons: true }, { clientSideOnly: true }]) {
      const expected = (await theirs.allFlagsState(context, options)).toJSON();
      expect((await ours.allFlagsState(context, options)).toJSON()).toEqual(expected);
    }
  }
}

describe('written by our store, read by the official SDK', () => {
  it('evaluates identically in daemon mode over the official Redis store', async () => {
    const p = prefix();
    const td = new integrations.TestData();
    for (const f of Object.values(flags)) await td.usePreconfiguredFlag(f);
    for (const s of Object.values(segments)) await td.usePreconfiguredSegment(s);
    const writer = init('sdk-key', {
      ...quiet,
      updateProcessor: td.getFactory(),
      featureStore: RedisFeatureStore({ prefix: p }),
    });
    cleanup.push(() => writer.close());
    await writer.waitForInitialization({ timeout: 5 });
    // An upsert after the init, and a delete (tombstone) through our store.
    await td.usePreconfiguredFlag({ ...flags.rules, fallthrough: { variation: 2 } });
    const ourStore = RedisFeatureStore({ prefix: p, logger: silent })({ sdkKey: 'k', logger: silent });
    cleanup.push(() => ourStore.close());
    await new Promise<void>((done) => ourStore.delete(FEATURES, 'to-delete', 100, done));

    const theirs = theirDaemon(OfficialRedisFeatureStore({ prefix: p, cacheTTL: 0 }));
    const ours = ourDaemon(p);
    await expectSameEvaluations(ours, theirs);
    expect(await theirs.variationDetail('to-delete', contexts[0], 'gone')).toMatchObject({
      value: 'gone',
      reason: { kind: 'ERROR', errorKind: 'FLAG_NOT_FOUND' },
    });
    expect(await theirs.variation('rules', { kind: 'user', key: 'nobody' }, 0)).toBe(3);
  });
});

describe('written by the official Redis store, read by ours', () => {
  it('through the official SDK with TestData, upserts and deletes included', async () => {
    const p = prefix();
    const td = new official.integrations.TestData();
    for (const f of Object.values(flags)) await td.usePreconfiguredFlag(f);
    for (const s of Object.values(segments)) await td.usePreconfiguredSegment(s);
    const writer = official.init('sdk-key', {
      ...quiet,
      updateProcessor: td.getFactory(),
      featureStore: OfficialRedisFeatureStore({ prefix: p }),
    });
    cleanup.push(() => writer.close());
    await writer.waitForInitialization({ timeout: 5 });
    await td.usePreconfiguredFlag({ ...flags.targeted, targets: [{ values: ['u2'], variation: 0 }] });
    // Their delete writes their tombstone shape.
    const theirStore = OfficialRedisFeatureStore({ prefix: p, cacheTTL: 0 })({
      basicConfiguration: { logger: silent },
    } as never) as unknown as LDFeatureStore;
    cleanup.push(() => theirStore.close());
    await new Promise<void>((done) => theirStore.delete(FEATURES, 'to-delete', 100, done));

    // Same layout as ours.
    expect((await redis.keys(`${p}:*`)).sort()).toEqual([`${p}:$inited`, `${p}:features`, `${p}:segments`]);
    expect(Object.keys(await redis.hgetall(`${p}:features`)).sort()).toEqual(Object.keys(flags).sort());
    expect(JSON.parse((await redis.hget(`${p}:features`, 'to-delete')) ?? '')).toMatchObject({
      version: 100,
      deleted: true,
    });

    const ours = ourDaemon(p);
    await expectSameEvaluations(ours, theirDaemon(OfficialRedisFeatureStore({ prefix: p, cacheTTL: 0 })));
    expect(await ours.variationDetail('to-delete', contexts[0], 'gone')).toMatchObject({
      value: 'gone',
      reason: { kind: 'ERROR', errorKind: 'FLAG_NOT_FOUND' },
    });
    expect(await ours.variation('targeted', { kind: 'user', key: 'u2' }, null)).toBe(true);
  });

  it('by calling the official store`s init directly (no $inited needed by daemon mode either way)', async () => {
    const p = prefix();
    const theirStore = OfficialRedisFeatureStore({ prefix: p, cacheTTL: 0 })({
      basicConfiguration: { logger: silent },
    } as never) as unknown as LDFeatureStore;
    cleanup.push(() => theirStore.close());
    await new Promise((done) => theirStore.init({ features: flags, segments }, done));
    await redis.del(`${p}:$inited`);
    await expectSameEvaluations(
      ourDaemon(p),
      theirDaemon(OfficialRedisFeatureStore({ prefix: p, cacheTTL: 0 })),
    );
  });
});
