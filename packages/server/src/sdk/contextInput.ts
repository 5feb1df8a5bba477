import { createHmac, timingSafeEqual } from 'node:crypto';
import { Context, ContextError } from '@flagstaff/eval';
import type { Environment } from '../domain/types.js';

/** Why a request's context can't be evaluated; the routes answer 400 with the message. */
export class BadContext {
  constructor(readonly message: string) {}
}

// base64url as clients send it (spec §5), padding optional; the standard alphabet is accepted too,
// since Node decodes both and older clients used it.
const BASE64 = /^[A-Za-z0-9_\-+/]+={0,2}$/;

/** The context of a GET route: base64url-encoded JSON in the path. */
export function contextFromPath(encoded: string): Context | BadContext {
  if (!BASE64.test(encoded)) return new BadContext('the context in the path is not base64url-encoded');
  let input: unknown;
  try {
    input = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return new BadContext('the context in the path is not base64url-encoded JSON');
  }
  return contextFrom(input);
}

/** The context of a REPORT route: the JSON body (already parsed). */
export function contextFrom(input: unknown): Context | BadContext {
  const context = Context.from(input);
  if (context instanceof ContextError) return new BadContext(`invalid context: ${context.message}`);
  // A legacy user may have an empty key for server-side SDKs; Relay refuses it here, and so do we.
  if (!context.multi && context.key(context.kinds[0]!) === '') {
    return new BadContext('invalid context: the key must not be empty');
  }
  return context;
}

/**
 * Secure mode (spec §5): when the JavaScript client sends `h`, it must be the HMAC-SHA256 of the
 * context's canonical key under the environment's SDK key. A key rotated out but still in its grace
 * period is accepted too, since the application's server may not have picked up the new key yet.
 */
export function secureModeHashMatches(
  env: Environment,
  context: Context,
  hash: string,
  now: number,
): boolean {
  const keys = [env.sdkKey];
  const retired = env.retiredKeys.sdkKey;
  if (retired && retired.expiresAt > now) keys.push(retired.key);
  const given = Buffer.from(hash.toLowerCase(), 'utf8');
  return keys.some((key) => {
    const expected = Buffer.from(
      createHmac('sha256', key).update(context.canonicalKey).digest('hex'),
      'utf8',
    );
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}
