// Proof against a real client: LaunchDarkly's official Node SDK v9 and ours connect to the same
// protocol server, evaluate the same streamed flags, and post events for the same sequence of calls.
// Evaluations must be equal; event payloads must have the same shape (timestamps and ids aside).
import * as official from '@launchdarkly/node-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.js';
import { type ProtocolServer, startProtocolServer } from './support/protocolServer.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

const flags = {
  'off-flag': {
    key: 'off-flag',
    version: 3,
    on: false,
    variations: ['a', 'b'],
    offVariation: 1,
    fallthrough: { variation: 0 },
  },
  targeted: {
    key: 'targeted',
    version: 7,
    on: true,
    variations: [true, false],
    targets: [{ values: ['u1'], variation: 0 }],
    fallthrough: { variation: 1 },
    offVariation: 1,
    trackEvents: true,
  },
  rollout: {
    key: 'rollout',
    version: 2,
    on: true,
    salt: 'salty',
    variations: ['control', 'treatment'],
    fallthrough: {
      rollout: {
        kind: 'experiment',
        variations: [
          { variation: 0, weight: 50000 },
          { variation: 1, weight: 50000 },
        ],
      },
    },
    offVariation: 0,
  },
  rules: {
    key: 'rules',
    version: 9,
    on: true,
    variations: [1, 2, 3],
    rules: [
      {
        id: 'r-country',
        clauses: [{ attribute: 'country', op: 'in', values: ['NZ'] }],
        variation: 2,
        trackEvents: true,
      },
      {
        id: 'r-seg',
        clauses: [{ attribute: '', op: 'segmentMatch', values: ['beta'] }],
        variation: 1,
      },
    ],
    fallthrough: { variation: 0 },
    offVariation: 0,
  },
  'with-prereq': {
    key: 'with-prereq',
    version: 1,
    on: true,
    variations: ['yes', 'no'],
    prerequisites: [{ key: 'targeted', variation: 0 }],
    fallthrough: { variation: 0 },
    offVariation: 1,
    trackEvents: true,
  },
};
const segments = {
  beta: { key: 'beta', version: 1, included: ['u2'], salt: 's' },
};

// Typed loosely: the two SDKs declare different context types for the same JSON.
// biome-ignore lint/suspicious/noExplicitAny: shared by both SDKs' differently typed signatures
const contexts: any[] = [
  { kind: 'user', key: 'u1', country: 'NZ', name: 'Ann' },
  { kind: 'user', key: 'u2', country: 'AU' },
  { kind: 'multi', user: { key: 'u3' }, org: { key: 'o1', tier: 'gold' } },
  { key: 'legacy-user', custom: { country: 'NZ' } },
  { kind: 'org', key: 'o2' },
];

let server: ProtocolServer;
beforeAll(async () => {
  server = await startProtocolServer({ flags, segments });
});
afterAll(async () => server.close());

function options() {
  return {
    baseUri: server.url,
    streamUri: server.url,
    eventsUri: server.url,
    diagnosticOptOut: true,
    logger: silent,
  };
}

/** Strips what legitimately differs between two runs: times and generated ids. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      if (k === 'creationDate' || k === 'startDate' || k === 'endDate') out[k] = typeof v;
      else out[k] = shape(v);
    }
    return out;
  }
  return value;
}

function sortEvents(events: unknown[]): unknown[] {
  return [...events].map(shape).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('official @launchdarkly/node-server-sdk v9 against the same server', () => {
  it('evaluates every flag for every context exactly as we do', async () => {
    const theirs = official.init('sdk-key', { ...options(), sendEvents: false });
    const ours = init('sdk-key', { ...options(), sendEvents: false });
    try {
      await Promise.all([
        theirs.waitForInitialization({ timeout: 10 }),
        ours.waitForInitialization({ timeout: 10 }),
      ]);
      for (const key of [...Object.keys(flags), 'missing-flag']) {
        for (const context of contexts) {
          const expected = await theirs.variationDetail(key, context, 'default');
          const actual = await ours.variationDetail(key, context, 'default');
          expect({ key, context, detail: actual }).toEqual({ key, context, detail: expected });
        }
      }
      for (const context of contexts) {
        for (const opts of [{}, { withReasons: true }, { detailsOnlyForTrackedFlags: true }]) {
          const expected = (await theirs.allFlagsState(context, opts)).toJSON();
          const actual = (await ours.allFlagsState(context, opts)).toJSON();
          expect(actual).toEqual(expected);
        }
      }
    } finally {
      theirs.close();
      await ours.close();
    }
  });

  it('posts event payloads of the same shape for the same calls', async () => {
    // The same calls against either SDK; their context parameter types differ, the JSON does not.
    // biome-ignore lint/suspicious/noExplicitAny: either SDK's client
    const run = async (client: any) => {
      for (const context of contexts) {
        for (const key of Object.keys(flags)) await client.variation(key, context, 'default');
        await client.variationDetail('rules', context, 0);
        await client.variation('missing-flag', context, 'default');
      }
      client.track('purchase', contexts[0]!, { sku: 'x' }, 9.5);
      client.identify(contexts[1]!);
      await client.flush();
    };
    const before = server.posts.length;
    const theirs = official.init('sdk-key', { ...options(), flushInterval: 3600 });
    await theirs.waitForInitialization({ timeout: 10 });
    await run(theirs);
    const theirPosts = (await server.waitForPosts('/bulk', 1)).slice();
    theirs.close();
    const theirEvents = theirPosts.flatMap((p) => p.body as unknown[]);
    const afterTheirs = server.posts.filter((p) => p.path === '/bulk').length;

    const ours = init('sdk-key', { ...options(), flushInterval: 3600 });
    await ours.waitForInitialization({ timeout: 10 });
    await run(ours);
    await ours.close();
    const ourEvents = server.posts
      .filter((p) => p.path === '/bulk')
      .slice(afterTheirs)
      .flatMap((p) => p.body as unknown[]);

    expect(server.posts.length).toBeGreaterThan(before);
    expect(ourEvents.length).toBeGreaterThan(10);
    expect(sortEvents(ourEvents)).toEqual(sortEvents(theirEvents));
  });
});
