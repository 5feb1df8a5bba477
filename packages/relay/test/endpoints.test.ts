// The relay's SDK-facing endpoints against an in-memory environment fed as the upstream would
// (applyPut/applyPatch/applyDelete): request-level checks of every route family, then the official
// LaunchDarkly Node SDK v9 and ours streaming and polling from the relay.

import * as flagstaff from '@flagstaff/node-server-sdk';
import * as official from '@launchdarkly/node-server-sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  b64,
  CLIENT_ID,
  flag,
  json,
  MOBILE_KEY,
  type Relay,
  readStream,
  SDK_KEY,
  segment,
  startRelay,
} from './fixtures.js';

let relay: Relay;

beforeEach(async () => {
  relay = await startRelay({ heartbeatIntervalMs: 50 });
});

afterEach(async () => {
  await relay.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(relay.base + path, { headers });
const report = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(relay.base + path, {
    method: 'REPORT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('server-side streaming', () => {
  it('sends the put first, then patches and deletes as they are applied, with heartbeats', async () => {
    let sent = false;
    const { status, headers, text } = await readStream(
      `${relay.base}/all`,
      { headers: { authorization: SDK_KEY } },
      (so) => {
        if (!sent && so.includes('event: put')) {
          sent = true;
          relay.env.applyPatch('flags', flag('greeting', { version: 2, on: false }));
          relay.env.applyPatch('segments', segment('beta', ['tama', 'kiri'], 2));
          relay.env.applyDelete('flags', 'off-flag', 5);
        }
        return so.includes('event: delete') && so.includes(':\n\n');
      },
    );
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(headers.get('access-control-allow-origin')).toBeNull();
    const events = text.split('\n\n').filter((e) => e.startsWith('event:'));
    const put = JSON.parse(events[0]!.split('data: ')[1]!);
    expect(put.path).toBe('/');
    expect(Object.keys(put.data.flags).sort()).toEqual(['greeting', 'off-flag', 'web-only']);
    expect(put.data.segments.beta.included).toEqual(['tama']);
    const patch = JSON.parse(events[1]!.split('data: ')[1]!);
    expect(patch).toMatchObject({ path: '/flags/greeting', data: { version: 2, on: false } });
    expect(JSON.parse(events[2]!.split('data: ')[1]!)).toMatchObject({ path: '/segments/beta' });
    expect(JSON.parse(events[3]!.split('data: ')[1]!)).toEqual({ path: '/flags/off-flag', version: 5 });
  });

  it('accepts `api_key <key>`; the legacy /flags stream is flags only with /<key> paths', async () => {
    let sent = false;
    const { text } = await readStream(
      `${relay.base}/flags`,
      { headers: { authorization: `api_key ${SDK_KEY}` } },
      (so) => {
        if (!sent && so.includes('event: put')) {
          sent = true;
          relay.env.applyPatch('segments', segment('beta', [], 3));
          relay.env.applyPatch('flags', flag('web-only', { version: 4 }));
        }
        return so.includes('event: patch');
      },
    );
    const [put, patch] = text.split('\n\n').filter((e) => e.startsWith('event:'));
    expect(Object.keys(JSON.parse(put!.split('data: ')[1]!).data).sort()).toEqual([
      'greeting',
      'off-flag',
      'web-only',
    ]);
    expect(JSON.parse(patch!.split('data: ')[1]!).path).toBe('/web-only');
  });

  it('sends nothing before the environment has data, then the put', async () => {
    await relay.close();
    relay = await startRelay({ load: false, heartbeatIntervalMs: 60_000 });
    const { text } = await readStream(
      `${relay.base}/all`,
      { headers: { authorization: SDK_KEY } },
      (so) => so.includes('event: put'),
      () => setTimeout(() => relay.env.applyPut({ x: flag('x') }, {}), 50),
    );
    expect(text.startsWith('event: put')).toBe(true);
    expect(JSON.parse(text.split('data: ')[1]!).data.flags.x.key).toBe('x');
  });

  it('answers 401 to a wrong or missing key', async () => {
    expect((await get('/all', { authorization: 'sdk-wrong' })).status).toBe(401);
    expect((await get('/all')).status).toBe(401);
    expect((await get('/sdk/latest-all', { authorization: MOBILE_KEY })).status).toBe(401);
  });
});

describe('server-side polling', () => {
  it('serves latest-all with an ETag that changes with the data, and 304 while it does not', async () => {
    const first = await get('/sdk/latest-all', { authorization: SDK_KEY });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    const body = await json(first);
    expect(Object.keys(body.flags).sort()).toEqual(['greeting', 'off-flag', 'web-only']);
    expect(Object.keys(body.segments)).toEqual(['beta']);
    const again = await get('/sdk/latest-all', { authorization: SDK_KEY, 'if-none-match': etag });
    expect(again.status).toBe(304);
    relay.env.applyPatch('flags', flag('greeting', { version: 9 }));
    const changed = await get('/sdk/latest-all', { authorization: SDK_KEY, 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect((await json(changed)).flags.greeting.version).toBe(9);
  });

  it('serves single flags and segments, 404 for unknown or deleted keys', async () => {
    const f = await get('/sdk/latest-flags/greeting', { authorization: SDK_KEY });
    expect((await json(f)).key).toBe('greeting');
    const s = await get('/sdk/latest-segments/beta', { authorization: SDK_KEY });
    expect((await json(s)).included).toEqual(['tama']);
    expect(Object.keys(await json(await get('/sdk/latest-flags', { authorization: SDK_KEY })))).toHaveLength(
      3,
    );
    expect((await get('/sdk/latest-flags/nope', { authorization: SDK_KEY })).status).toBe(404);
    relay.env.applyDelete('flags', 'greeting', 2);
    expect((await get('/sdk/latest-flags/greeting', { authorization: SDK_KEY })).status).toBe(404);
    expect((await get('/sdk/flags/off-flag', { authorization: SDK_KEY })).status).toBe(200);
  });

  it('answers 503 before the environment has data', async () => {
    await relay.close();
    relay = await startRelay({ load: false });
    expect((await get('/sdk/latest-all', { authorization: SDK_KEY })).status).toBe(503);
  });
});

describe('client-side and mobile evaluation', () => {
  const amelie = { kind: 'user', key: 'amelie' };

  it('evaluates for a JS client: only client-side flags, CORS, results per §5.1', async () => {
    const res = await get(`/sdk/evalx/${CLIENT_ID}/contexts/${b64(amelie)}`, {
      origin: 'https://app.example',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(await json(res)).toEqual({ 'web-only': { value: true, variation: 0, version: 1 } });
    const withReasons = await get(`/sdk/evalx/${CLIENT_ID}/users/${b64({ key: 'x' })}?withReasons=true`);
    expect((await json(withReasons))['web-only'].reason).toEqual({ kind: 'FALLTHROUGH' });
  });

  it('answers REPORT with a JSON body, 415 without, and preflights', async () => {
    const res = await report(`/sdk/evalx/${CLIENT_ID}/context`, amelie);
    expect(Object.keys(await json(res))).toEqual(['web-only']);
    const text = await fetch(`${relay.base}/sdk/evalx/${CLIENT_ID}/context`, {
      method: 'REPORT',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(amelie),
    });
    expect(text.status).toBe(415);
    const options = await fetch(`${relay.base}/sdk/evalx/${CLIENT_ID}/context`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'REPORT' },
    });
    expect(options.status).toBe(204);
    expect(options.headers.get('access-control-allow-methods')).toContain('REPORT');
  });

  it('answers 404 with CORS for an unknown client-side ID, 400 for a bad context', async () => {
    const res = await get(`/sdk/evalx/nope/contexts/${b64(amelie)}`, { origin: 'https://a.example' });
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://a.example');
    expect((await get(`/sdk/evalx/${CLIENT_ID}/contexts/!!!`)).status).toBe(400);
    expect((await get(`/sdk/evalx/${CLIENT_ID}/contexts/${b64({ kind: 'user' })}`)).status).toBe(400);
  });

  it('checks the secure-mode hash when given', async () => {
    const { createHmac } = await import('node:crypto');
    const h = createHmac('sha256', SDK_KEY).update('amelie').digest('hex');
    expect((await get(`/sdk/evalx/${CLIENT_ID}/contexts/${b64(amelie)}?h=${h}`)).status).toBe(200);
    expect((await get(`/sdk/evalx/${CLIENT_ID}/contexts/${b64(amelie)}?h=00`)).status).toBe(400);
  });

  it('evaluates for mobile (mobile flags, no CORS) and SDK-key callers (every flag)', async () => {
    const mobile = await get(`/msdk/evalx/contexts/${b64(amelie)}`, {
      authorization: MOBILE_KEY,
      origin: 'https://a.example',
    });
    expect(mobile.headers.get('access-control-allow-origin')).toBeNull();
    const body = await json(mobile);
    expect(Object.keys(body).sort()).toEqual(['greeting', 'off-flag']);
    expect(body.greeting).toEqual({ value: 'bonjour', variation: 1, version: 1 });
    expect(body['off-flag']).toEqual({ value: false, variation: 1, version: 1 });
    const tama = await report('/msdk/evalx/user', { key: 'tama' }, { authorization: MOBILE_KEY });
    expect((await json(tama)).greeting.value).toBe('kia ora');
    const all = await get(`/sdk/evalx/contexts/${b64(amelie)}`, { authorization: SDK_KEY });
    expect(Object.keys(await json(all)).sort()).toEqual(['greeting', 'off-flag', 'web-only']);
    expect((await get(`/msdk/evalx/contexts/${b64(amelie)}`, { authorization: SDK_KEY })).status).toBe(401);
  });

  it('marks experiments with trackEvents, trackReason and a reason', async () => {
    relay.env.applyPatch(
      'flags',
      flag('greeting', {
        version: 2,
        fallthrough: { rollout: { kind: 'experiment', variations: [{ variation: 0, weight: 100000 }] } },
      } as never),
    );
    const body = await json(
      await get(`/sdk/evalx/contexts/${b64({ key: 'zed' })}`, { authorization: SDK_KEY }),
    );
    expect(body.greeting).toMatchObject({
      trackEvents: true,
      trackReason: true,
      reason: { kind: 'FALLTHROUGH', inExperiment: true },
    });
  });
});

describe('ping streams', () => {
  it('sends a ping on connect and on every change, with CORS for JS clients', async () => {
    let sent = false;
    const { headers, text } = await readStream(
      `${relay.base}/eval/${CLIENT_ID}/${b64({ key: 'a' })}`,
      { headers: { origin: 'https://a.example' } },
      (so) => {
        if (!sent && so.includes('event: ping')) {
          sent = true;
          relay.env.applyPatch('segments', segment('beta', [], 2));
        }
        return so.split('event: ping').length > 2;
      },
    );
    expect(headers.get('access-control-allow-origin')).toBe('https://a.example');
    expect(text.startsWith('event: ping\ndata:  \n\n')).toBe(true);
  });

  it('serves REPORT /eval, /meval with the mobile key, and refuses the wrong one', async () => {
    const reported = await readStream(
      `${relay.base}/eval/${CLIENT_ID}`,
      {
        method: 'REPORT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'a' }),
      },
      (so) => so.includes('event: ping'),
    );
    expect(reported.status).toBe(200);
    const mobile = await readStream(
      `${relay.base}/meval/${b64({ key: 'a' })}`,
      { headers: { authorization: MOBILE_KEY } },
      (so) => so.includes('event: ping'),
    );
    expect(mobile.headers.get('access-control-allow-origin')).toBeNull();
    expect((await get(`/meval/${b64({ key: 'a' })}`, { authorization: 'wrong' })).status).toBe(401);
    expect((await get(`/eval/unknown/${b64({ key: 'a' })}`)).status).toBe(404);
  });
});

/** The part of the client API both SDKs share and these tests use. */
interface Client {
  waitForInitialization(options?: { timeout?: number }): Promise<unknown>;
  variation(key: string, context: object, defaultValue: unknown): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  close(): void;
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const sdks: { name: string; init: (key: string, options: object) => Client }[] = [
  {
    name: 'official @launchdarkly/node-server-sdk v9',
    init: (k, o) => official.init(k, o) as unknown as Client,
  },
  { name: '@flagstaff/node-server-sdk', init: (k, o) => flagstaff.init(k, o) as unknown as Client },
];

// Captured before any test fakes the timers, so that the watchdog below measures real time.
const realSetTimeout = setTimeout;
const realClearTimeout = clearTimeout;

function nextUpdate(client: Client, key: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = realSetTimeout(() => reject(new Error(`no update:${key} within 5 s`)), 5000);
    client.on(`update:${key}`, (change) => {
      realClearTimeout(timer);
      resolve(change);
    });
  });
}

describe.each(sdks)('$name against the relay', ({ init }) => {
  const options = (stream: boolean) => ({
    baseUri: relay.base,
    streamUri: relay.base,
    eventsUri: relay.base,
    stream,
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silent,
  });

  it('streams: initialises, evaluates, and applies a live patch and delete', async () => {
    const client = init(SDK_KEY, options(true));
    try {
      await client.waitForInitialization({ timeout: 5 });
      expect(await client.variation('greeting', { kind: 'user', key: 'amelie' }, 'x')).toBe('bonjour');
      expect(await client.variation('greeting', { kind: 'user', key: 'tama' }, 'x')).toBe('kia ora');
      expect(await client.variation('off-flag', { kind: 'user', key: 'a' }, 'x')).toBe(false);
      const updated = nextUpdate(client, 'greeting');
      relay.env.applyPatch(
        'flags',
        flag('greeting', { version: 2, on: false, variations: ['off!'], offVariation: 0 }),
      );
      await updated;
      expect(await client.variation('greeting', { kind: 'user', key: 'amelie' }, 'x')).toBe('off!');
      const deleted = nextUpdate(client, 'off-flag');
      relay.env.applyDelete('flags', 'off-flag', 2);
      await deleted;
      expect(await client.variation('off-flag', { kind: 'user', key: 'a' }, 'x')).toBe('x');
    } finally {
      client.close();
    }
  });

  it('polls: initialises and evaluates from /sdk/latest-all', async () => {
    const client = init(SDK_KEY, options(false));
    try {
      await client.waitForInitialization({ timeout: 5 });
      expect(await client.variation('greeting', { kind: 'user', key: 'tama' }, 'x')).toBe('kia ora');
      expect(await client.variation('web-only', { kind: 'user', key: 'a' }, 'x')).toBe(true);
    } finally {
      client.close();
    }
  });

  it('polls: picks up a change at the next poll, 30 s later', async () => {
    // Both SDKs refuse a pollInterval under 30 s; fake timers that also follow real time let the
    // sockets work while the test jumps to the next poll.
    vi.useFakeTimers({
      shouldAdvanceTime: true,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'],
    });
    const client = init(SDK_KEY, options(false));
    try {
      await client.waitForInitialization({ timeout: 5 });
      const updated = nextUpdate(client, 'greeting');
      relay.env.applyPatch(
        'flags',
        flag('greeting', { version: 2, on: false, variations: ['off!'], offVariation: 0 }),
      );
      await vi.advanceTimersByTimeAsync(31_000);
      await updated;
      expect(await client.variation('greeting', { kind: 'user', key: 'amelie' }, 'x')).toBe('off!');
    } finally {
      client.close();
      vi.useRealTimers();
    }
  });

  it('fails to initialise with a wrong key', async () => {
    const client = init('sdk-wrong', options(true));
    try {
      await expect(client.waitForInitialization({ timeout: 5 })).rejects.toBeDefined();
    } finally {
      client.close();
    }
  });
});
