/** SHA-1 bucketing the way the official SDK does it in Node, shared by the eval and sha1 benchmarks. */
import { createHash } from 'node:crypto';

// The SDKs divide by 0xFFFFFFFFFFFFFFF, a literal that is not a double: it rounds to exactly 2^60.
export const SCALE = 2 ** 60;

/** node:crypto's hex digest: the reference for `sha1Hex`. */
export function cryptoHex(input: string): string {
  return createHash('sha1').update(input).digest('hex');
}

/** The bucket as the official SDK computes it: hex digest, first 15 digits parsed, scaled. */
export function cryptoBucket(input: string): number {
  return Number.parseInt(createHash('sha1').update(input).digest('hex').slice(0, 15), 16) / SCALE;
}
