// Without USE_EVENTS the relay answers event posts with 503, as LaunchDarkly's Relay (spec §8.6).
import { gzipSync } from 'node:zlib';
import { basicLogger } from '@flagstaff/node-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { EVENT_PATHS, type Relay, startRelay } from '../src/relay.js';

let relay: Relay;

beforeAll(async () => {
  // No upstream at all: IGNORE_CONNECTION_ERRORS lets the relay start so its routes can be asked.
  const config = loadConfig({
    env: {
      PORT: '0',
      LD_ENV_Test: 'sdk-events-disabled',
      LD_MOBILE_KEY_Test: 'mob-events-disabled',
      LD_CLIENT_SIDE_ID_Test: 'cs-events-disabled',
      STREAM_URI: 'http://127.0.0.1:9',
      BASE_URI: 'http://127.0.0.1:9',
      INIT_TIMEOUT: '100ms',
      IGNORE_CONNECTION_ERRORS: 'true',
    },
  });
  relay = await startRelay(config, { logger: basicLogger({ level: 'none' }), host: '127.0.0.1' });
});
afterAll(async () => {
  await relay?.close();
});

describe('event routes with USE_EVENTS off', () => {
  it('answer every event path with 503 "Event proxy is not enabled"', async () => {
    for (const path of EVENT_PATHS) {
      const url = `${relay.url}${path.replace(':envId', 'cs-events-disabled')}`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: 'sdk-events-disabled', 'content-type': 'application/json' },
        body: '[]',
      });
      expect(res.status, path).toBe(503);
      expect(await res.text()).toBe('Event proxy is not enabled');
    }
  });

  it('answer 503 before reading the body, whatever its encoding', async () => {
    const res = await fetch(`${relay.url}/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync('[{"kind":"custom"}]'),
    });
    expect(res.status).toBe(503);
  });

  it('leave other routes alone', async () => {
    expect((await fetch(`${relay.url}/status`)).status).toBe(200);
    expect((await fetch(`${relay.url}/nothing-here`, { method: 'POST' })).status).toBe(404);
  });
});
