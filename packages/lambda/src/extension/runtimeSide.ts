// The runtime's half of the hand-off to the Flagstaff extension (see ./main.ts for the other half).

import { Agent, request } from 'node:http';
import {
  DONE_PATH,
  type ExtensionMarker,
  encodeTarget,
  FORWARD_PREFIX,
  type RuntimeMarker,
  readMarker,
  stateDir,
  writeMarker,
} from './protocol.js';

/** The SDK's own default, for functions that send events to LaunchDarkly itself. */
const DEFAULT_EVENTS_URI = 'https://events.launchdarkly.com';

/** The extension's loopback port if the extension runs in this environment. */
export function findExtension(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const marker = readMarker<ExtensionMarker>(stateDir(env), 'extension');
  if (marker === undefined || !Number.isInteger(marker.port)) return undefined;
  try {
    process.kill(marker.pid, 0);
  } catch {
    return undefined; // left behind by an extension that is gone
  }
  return marker.port;
}

/**
 * Tells the extension to wait for a hand-off at the end of every invocation. Synchronous, and done while
 * the function module loads, so it is in place before the first INVOKE reaches the extension.
 */
export function announceHandoff(env: NodeJS.ProcessEnv = process.env): void {
  writeMarker(stateDir(env), 'runtime', { pid: process.pid } satisfies RuntimeMarker);
}

/** The `eventsUri` that makes the SDK post to the extension, which forwards to `eventsUri`. */
export function handoffEventsUri(port: number, eventsUri: string | undefined): string {
  const target = (eventsUri ?? DEFAULT_EVENTS_URI).replace(/\/+$/, '');
  return `http://127.0.0.1:${port}${FORWARD_PREFIX}${encodeTarget(target)}`;
}

// Loopback connections are kept open across invocations (and freezes: both ends freeze together).
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/**
 * Says the invocation's events are all handed off, so the extension can deliver them and let Lambda
 * freeze the environment. Resolves `false` instead of throwing: a missed signal only makes the
 * extension wait for the invocation's deadline.
 */
export async function signalDone(port: number, requestId: string, timeoutMs = 1000): Promise<boolean> {
  // One retry on a fresh connection: a kept-alive socket may have been closed while we were frozen.
  return (await postDone(port, requestId, timeoutMs, agent)) || postDone(port, requestId, timeoutMs, false);
}

function postDone(port: number, requestId: string, timeoutMs: number, via: Agent | false): Promise<boolean> {
  const body = JSON.stringify({ requestId });
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: DONE_PATH,
        agent: via,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 204));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end(body);
  });
}
