import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The parts of a Function URL, API Gateway REST (payload v1) or HTTP API (payload v2) event the sync
 * function reads, plus an EventBridge scheduled event. Every field is optional: the shapes differ.
 */
export interface SyncEvent {
  /** v1 and v2: single-valued headers (v2 and Function URLs lowercase the names, v1 keeps them). */
  headers?: Record<string, string | undefined> | null;
  /** v1 only: every value of every header. */
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  /** v1. */
  httpMethod?: string;
  /** v2 and Function URLs: `requestContext.http.method`. */
  requestContext?: { http?: { method?: string } } | Record<string, unknown>;
  /** EventBridge: `aws.events` for a scheduled rule. */
  source?: string;
  'detail-type'?: string;
}

/**
 * A scheduled EventBridge invocation (the hourly safety net). Only the event's top-level fields decide:
 * a caller over HTTP controls headers and body but never these, and an HTTP event has `requestContext`.
 */
export function isScheduledEvent(event: SyncEvent): boolean {
  return event.source === 'aws.events' && event.requestContext === undefined && event.headers === undefined;
}

export function methodOf(event: SyncEvent): string | undefined {
  const context = event.requestContext as { http?: { method?: unknown } } | undefined;
  const method = event.httpMethod ?? context?.http?.method;
  return typeof method === 'string' ? method.toUpperCase() : undefined;
}

/** The body as the sender signed it: base64-decoded when the platform encoded it. */
export function rawBody(event: SyncEvent): Buffer {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Every value of a header, with its name matched case-insensitively across both header maps. */
export function headerValues(event: SyncEvent, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, list] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted && list) values.push(...list);
  }
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined && !values.includes(value)) values.push(value);
  }
  return values;
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * Whether one of the signature headers holds the HMAC-SHA256 of the raw body keyed by the secret:
 * `X-Flagstaff-Signature: sha256=<hex>` (Flagstaff) or `X-LD-Signature: <hex>` (LaunchDarkly).
 * Digests are compared with `timingSafeEqual`, so the time taken says nothing about how much of a
 * forged signature was right; only the (public) length and format are checked before.
 */
export function hasValidSignature(event: SyncEvent, secret: string, body: Buffer): boolean {
  const expected = createHmac('sha256', secret).update(body).digest();
  const candidates = [
    ...headerValues(event, 'x-flagstaff-signature').map((v) => (v.startsWith('sha256=') ? v.slice(7) : '')),
    ...headerValues(event, 'x-ld-signature').map((v) => (v.startsWith('sha256=') ? v.slice(7) : v)),
  ];
  let valid = false;
  for (const candidate of candidates) {
    const trimmed = candidate.trim();
    if (!HEX_SHA256.test(trimmed)) continue;
    // No early exit: every candidate is compared, whatever the outcome of the previous ones.
    if (timingSafeEqual(Buffer.from(trimmed, 'hex'), expected)) valid = true;
  }
  return valid;
}
