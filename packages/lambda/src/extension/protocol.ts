// What the handler wrapper (in the runtime process) and the Flagstaff extension (a separate process in
// the same execution environment) agree on. They meet in two places: a loopback HTTP port, and a
// state directory in /tmp, which Lambda gives every execution environment and shares between the
// runtime and its extensions. Files are used where the answer is needed synchronously: the wrapper
// decides its flush policy while the function module loads, and the extension decides, when an
// INVOKE arrives, whether to wait for a hand-off.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Overrides the state directory; tests give each emulated environment its own. */
export const STATE_DIR_ENV = 'FLAGSTAFF_EXTENSION_DIR';
export const DEFAULT_STATE_DIR = '/tmp/flagstaff-extension';
/** Overrides the loopback port. */
export const PORT_ENV = 'FLAGSTAFF_EXTENSION_PORT';
// Away from the ports AWS's own extensions use (2772 AppConfig, 2773 Parameters and Secrets).
export const DEFAULT_PORT = 9271;
/** The extension's file name in `/opt/extensions`; Lambda requires it as the registered name. */
export const EXTENSION_NAME = 'flagstaff';

/** Written by the extension once it listens, before it registers (so before the runtime starts). */
export interface ExtensionMarker {
  port: number;
  pid: number;
  version: string;
}

/** Written by the wrapper when it will hand events off at the end of every invocation. */
export interface RuntimeMarker {
  pid: number;
}

// Paths on the loopback server.
/** `POST {FORWARD_PREFIX}{encodeTarget(eventsUri)}/bulk` (and `/diagnostic`): events to deliver. */
export const FORWARD_PREFIX = '/v1/forward/';
/** `POST`: the invocation's hand-off is complete; body `{"requestId": "..."}`. */
export const DONE_PATH = '/v1/done';
/** `GET`: counters, for logs and tests. */
export const STATUS_PATH = '/v1/status';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env[STATE_DIR_ENV] || DEFAULT_STATE_DIR;
}

/**
 * The events URI as one path segment. The SDK appends `/bulk` or `/diagnostic` to its `eventsUri`, so
 * the real destination travels inside the URI it is given, and the extension needs no configuration
 * of its own: it forwards wherever each SDK client was told to send.
 */
export function encodeTarget(eventsUri: string): string {
  return Buffer.from(eventsUri, 'utf8').toString('base64url');
}

export function decodeTarget(segment: string): string | undefined {
  const uri = Buffer.from(segment, 'base64url').toString('utf8');
  // Only absolute http(s) URLs: anything else would make the extension a request forwarder for
  // whatever the path says.
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' || url.protocol === 'https:' ? uri : undefined;
  } catch {
    return undefined;
  }
}

export function readMarker<T>(dir: string, name: 'extension' | 'runtime'): T | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Writes atomically (rename), so a reader never sees half a file. */
export function writeMarker(dir: string, name: 'extension' | 'runtime', value: object): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(value));
  renameSync(partial, file);
}
