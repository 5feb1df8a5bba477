// The examples in /examples run unchanged apart from their import: each handler runs as written (our
// SDK) and with the import switched to LaunchDarkly's official SDK, against the same flag service.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProtocolServer, startProtocolServer } from './support/protocolServer.js';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
let server: ProtocolServer;
const written: string[] = [];

beforeAll(async () => {
  server = await startProtocolServer({
    flags: {
      'show-banner': {
        key: 'show-banner',
        version: 1,
        on: true,
        variations: [true, false],
        rules: [{ id: 'nz', clauses: [{ attribute: 'country', op: 'in', values: ['NZ'] }], variation: 0 }],
        fallthrough: { variation: 1 },
        offVariation: 1,
      },
      'checkout-flow': {
        key: 'checkout-flow',
        version: 3,
        on: true,
        salt: 'x',
        variations: ['classic', 'one-page'],
        fallthrough: {
          rollout: {
            variations: [
              { variation: 0, weight: 50000 },
              { variation: 1, weight: 50000 },
            ],
          },
        },
        offVariation: 0,
      },
    },
  });
  for (const name of ['SDK_KEY', 'BASE_URI', 'STREAM_URI', 'EVENTS_URI']) {
    process.env[`LAUNCHDARKLY_${name}`] = name === 'SDK_KEY' ? 'sdk-key' : server.url;
  }
});

afterAll(async () => {
  for (const file of written) rmSync(file, { force: true });
  await server.close();
});

async function runHandler(file: string, events: object[]) {
  const mod = (await import(file)) as {
    handler: (e: object) => Promise<{ statusCode: number; body: string }>;
    close: () => unknown;
  };
  const results = [];
  for (const event of events) results.push(await mod.handler(event));
  await mod.close();
  return results;
}

describe('examples/lambda-relay', () => {
  it('gives the same answers with only the import switched to the official SDK', async () => {
    const source = readFileSync(`${examples}lambda-relay/handler.mjs`, 'utf8');
    expect(source).toContain("from '@flagstaff/node-server-sdk'");
    const officialFile = `${examples}lambda-relay/.handler-official.test-copy.mjs`;
    writeFileSync(
      officialFile,
      source.replace("'@flagstaff/node-server-sdk'", "'@launchdarkly/node-server-sdk'"),
    );
    written.push(officialFile);

    const events = [
      { userKey: 'u1', country: 'NZ', path: '/' },
      { userKey: 'u2', country: 'AU', path: '/cart' },
      { userKey: 'u3', path: '/' },
    ];
    const ours = await runHandler(`${examples}lambda-relay/handler.mjs`, events);
    const theirs = await runHandler(officialFile, events);
    expect(ours.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(ours).toEqual(theirs);
    expect(JSON.parse(ours[0]!.body)).toMatchObject({ showBanner: true });
    // Both flushed every invocation: each posted its events to /bulk.
    const bulk = server.posts.filter((p) => p.path === '/bulk');
    expect(bulk.length).toBeGreaterThanOrEqual(6);
  });
});
