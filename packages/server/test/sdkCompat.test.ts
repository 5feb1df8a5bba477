// Real SDKs against the SDK endpoints: LaunchDarkly's official Node server SDK v9 and ours, each
// pointed at the server (baseUri, streamUri and eventsUri), must initialise by streaming and by
// polling, evaluate correctly, and apply live changes (flag, segment, archive) from the stream.

import * as flagstaff from '@flagstaff/node-server-sdk';
import * as official from '@launchdarkly/node-server-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerContext } from '../src/context.js';
import type { Environment } from '../src/domain/types.js';
import { sdkEndpoints } from '../src/sdk/index.js';
import { SdkFixture } from './support/sdkFixture.js';

/** The part of the client API both SDKs share and these tests use. */
interface Client {
  waitForInitialization(options?: { timeout?: number }): Promise<unknown>;
  variation(key: string, context: object, defaultValue: unknown): Promise<unknown>;
  variationDetail(
    key: string,
    context: object,
    defaultValue: unknown,
  ): Promise<{ value: unknown; reason: unknown }>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  close(): void;
}

interface Options {
  baseUri: string;
  streamUri: string;
  eventsUri: string;
  stream: boolean;
  sendEvents: boolean;
  diagnosticOptOut: boolean;
  logger: typeof silent;
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };

const sdks: { name: string; init: (key: string, options: Options) => Client }[] = [
  {
    name: 'official @launchdarkly/node-server-sdk v9',
    init: (key, o) => official.init(key, o) as unknown as Client,
  },
  { name: '@flagstaff/node-server-sdk', init: (key, o) => flagstaff.init(key, o) as unknown as Client },
];

let fx: SdkFixture;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  fx = await SdkFixture.create();
  const ctx: ServerContext = { storage: fx.storage, now: Date.now, onCommitted: () => {} };
  app = Fastify();
  await app.register(sdkEndpoints(ctx));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await fx.storage.close();
});

let projects = 0;

/** A fresh project per test, so that SDKs under test never see each other's changes. */
async function setup(): Promise<{ project: string; env: Environment }> {
  const project = `compat-${++projects}`;
  const env = await fx.environment(project, 'production');
  await fx.flag(project, 'greeting', {
    variations: ['hello', 'bonjour', 'kia ora'],
    envs: {
      production: {
        targets: [{ values: ['amelie'], variation: 1 }],
        rules: [
          {
            id: 'beta',
            clauses: [{ attribute: '', op: 'segmentMatch', values: ['beta'] }],
            variation: 2,
          },
        ],
      },
    },
  });
  await fx.flag(project, 'gated', {
    envs: { production: { prerequisites: [{ key: 'greeting', variation: 0 }], offVariation: 1 } },
  });
  await fx.segment(project, 'production', 'beta', { included: ['tama'] });
  return { project, env };
}

function nextUpdate(client: Client, key: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no update:${key} within 5 s`)), 5000);
    client.on(`update:${key}`, (change) => {
      clearTimeout(timer);
      resolve(change);
    });
  });
}

describe.each(sdks)('$name', ({ init }) => {
  const options = (stream: boolean): Options => ({
    baseUri: base,
    streamUri: base,
    eventsUri: base,
    stream,
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silent,
  });

  it('streams: initialises, evaluates, and applies live flag, segment and archive changes', async () => {
    const { project, env } = await setup();
    const client = init(env.sdkKey, options(true));
    try {
      await client.waitForInitialization({ timeout: 10 });
      const user = { kind: 'user', key: 'someone' };
      expect(await client.variation('greeting', user, 'default')).toBe('hello');
      expect(await client.variation('greeting', { kind: 'user', key: 'amelie' }, 'default')).toBe('bonjour');
      expect(await client.variation('greeting', { kind: 'user', key: 'tama' }, 'default')).toBe('kia ora');
      expect(await client.variation('gated', user, 'default')).toBe(true);

      const flagChanged = nextUpdate(client, 'greeting');
      await fx.updateTargeting(project, 'production', 'greeting', { fallthrough: { variation: 1 } });
      expect(await flagChanged).toEqual({ key: 'greeting' });
      expect(await client.variation('greeting', user, 'default')).toBe('bonjour');
      // The prerequisite now fails: the dependent flag changed as well.
      expect(await client.variation('gated', user, 'default')).toBe(false);

      const segmentChanged = nextUpdate(client, 'greeting');
      await fx.segment(project, 'production', 'beta', { included: ['tama', 'someone'] });
      await segmentChanged;
      expect(await client.variation('greeting', user, 'default')).toBe('kia ora');

      const archived = nextUpdate(client, 'greeting');
      await fx.archiveFlag(project, 'greeting');
      await archived;
      const detail = await client.variationDetail('greeting', user, 'default');
      expect(detail).toMatchObject({
        value: 'default',
        reason: { kind: 'ERROR', errorKind: 'FLAG_NOT_FOUND' },
      });
    } finally {
      client.close();
    }
  });

  it('polls: initialises from /sdk/latest-all and evaluates', async () => {
    const { env } = await setup();
    const client = init(env.sdkKey, options(false));
    try {
      await client.waitForInitialization({ timeout: 10 });
      expect(await client.variation('greeting', { kind: 'user', key: 'amelie' }, 'default')).toBe('bonjour');
      expect(await client.variation('gated', { kind: 'user', key: 'x' }, 'default')).toBe(true);
    } finally {
      client.close();
    }
  });

  it('gives up on a key the server refuses (401 is not retried)', async () => {
    const { env } = await setup();
    for (const stream of [true, false]) {
      const client = init(env.mobileKey, options(stream));
      try {
        await expect(client.waitForInitialization({ timeout: 10 })).rejects.toThrow();
      } finally {
        client.close();
      }
    }
  });
});
