import { createHmac, timingSafeEqual } from 'node:crypto';

/** Lowercase hex HMAC-SHA256 of the raw body, keyed by the webhook's secret (what X-LD-Signature carries). */
export function signBody(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Checks a received `X-Flagstaff-Signature` (`sha256=<hex>`) or `X-LD-Signature` (`<hex>`) header
 * against the raw body, in constant time, for receivers written in TypeScript.
 */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const received = header.startsWith('sha256=') ? header.slice(7) : header;
  const expected = signBody(secret, body);
  if (!/^[0-9a-f]{64}$/i.test(received)) return false;
  return timingSafeEqual(Buffer.from(received.toLowerCase(), 'hex'), Buffer.from(expected, 'hex'));
}
