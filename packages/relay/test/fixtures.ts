import type { Flag, Segment } from '@flagstaff/eval';
import Fastify, { type FastifyInstance } from 'fastify';
import { relayEndpoints } from '../src/endpoints/index.js';
import { EnvironmentData, Registry } from '../src/environmentData.js';

export const SDK_KEY = 'sdk-relay-test';
export const MOBILE_KEY = 'mob-relay-test';
export const CLIENT_ID = 'client-relay-test';

/** A flag in the shape LaunchDarkly sends, with only what a test cares about overridden. */
export function flag(key: string, overrides: Partial<Flag> = {}): Flag {
  return {
    key,
    version: 1,
    on: true,
    prerequisites: [],
    targets: [],
    rules: [],
    fallthrough: { variation: 0 },
    offVariation: 1,
    variations: [true, false],
    salt: key,
    trackEvents: false,
    trackEventsFallthrough: false,
    clientSide: false,
    clientSideAvailability: { usingEnvironmentId: false, usingMobileKey: true },
    deleted: false,
    ...overrides,
  } as Flag;
}

export function segment(key: string, included: string[], version = 1): Segment {
  return { key, version, included, excluded: [], rules: [], salt: key, deleted: false } as unknown as Segment;
}

/** greeting: targets `amelie`, segment `beta` gets variation 2; web-only is visible to JS clients. */
export function standardData(): { flags: Record<string, Flag>; segments: Record<string, Segment> } {
  return {
    flags: {
      greeting: flag('greeting', {
        variations: ['hello', 'bonjour', 'kia ora'],
        targets: [{ values: ['amelie'], variation: 1 }],
        rules: [
          {
            id: 'beta',
            clauses: [{ attribute: '', op: 'segmentMatch', values: ['beta'], negate: false }],
            variation: 2,
            trackEvents: false,
          },
        ],
        offVariation: 0,
      } as Partial<Flag>),
      'web-only': flag('web-only', {
        clientSide: true,
        clientSideAvailability: { usingEnvironmentId: true, usingMobileKey: false },
      }),
      'off-flag': flag('off-flag', { on: false }),
    },
    segments: { beta: segment('beta', ['tama']) },
  };
}

export interface Relay {
  app: FastifyInstance;
  base: string;
  env: EnvironmentData;
  close(): Promise<void>;
}

/** A relay on a real port with one environment, loaded with the standard data unless told not to. */
export async function startRelay(
  options: { load?: boolean; heartbeatIntervalMs?: number } = {},
): Promise<Relay> {
  const env = new EnvironmentData({
    name: 'Test',
    sdkKey: SDK_KEY,
    mobileKey: MOBILE_KEY,
    clientSideId: CLIENT_ID,
  });
  if (options.load !== false) {
    const data = standardData();
    env.applyPut(data.flags, data.segments);
  }
  const app = Fastify();
  await app.register(
    relayEndpoints(new Registry([env]), { heartbeatIntervalMs: options.heartbeatIntervalMs }),
  );
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base, env, close: () => app.close() };
}

export function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Reads an SSE response until `until` matches what has arrived, then aborts it. */
export async function readStream(
  url: string,
  init: RequestInit,
  until: (text: string) => boolean,
  onOpen?: () => void,
  timeoutMs = 3000,
): Promise<{ status: number; headers: Headers; text: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const res = await fetch(url, { ...init, signal: abort.signal });
  let text = '';
  try {
    if (res.status !== 200 || !res.body)
      return { status: res.status, headers: res.headers, text: await res.text() };
    onOpen?.();
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (until(text)) break;
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return { status: res.status, headers: res.headers, text };
}

// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary response JSON; expect() checks it.
export type Json = any;

/** A response's JSON body, loosely typed for assertions. */
export function json(res: Response): Promise<Json> {
  return res.json() as Promise<Json>;
}
