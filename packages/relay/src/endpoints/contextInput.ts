import { createHmac, timingSafeEqual } from 'node:crypto';
import { Context, ContextError } from '@flagstaff/eval';

/** Why a request's context can't be evaluated; routes answer 400 with the message. */
export class BadContext {
  constructor(readonly message: string) {}
}

// base64url as clients send it (spec §5), padding optional; the standard alphabet too, since older
// clients used it and Node decodes both.
const BASE64 = /^[A-Za-z0-9_\-+/]+={0,2}$/;

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

export function contextFrom(input: unknown): Context | BadContext {
  const context = Context.from(input);
  if (context instanceof ContextError) return new BadContext(`invalid context: ${context.message}`);
  // Server-side SDKs tolerate a legacy user with an empty key; Relay refuses it on these routes.
  if (!context.multi && context.key(context.kinds[0] ?? 'user') === '') {
    return new BadContext('invalid context: the key must not be empty');
  }
  return context;
}

/** Secure mode (spec §5): `h` must be HMAC-SHA256(SDK key, canonical key), hex. */
export function secureModeHashMatches(sdkKey: string, context: Context, hash: string): boolean {
  const expected = Buffer.from(createHmac('sha256', sdkKey).update(context.canonicalKey).digest('hex'));
  const given = Buffer.from(hash.toLowerCase());
  return expected.length === given.length && timingSafeEqual(expected, given);
}
