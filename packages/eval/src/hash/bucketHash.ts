import { digest } from './sha1.js';

/**
 * Maps a bucketing input to a number in [0, 1]: the first 15 hex digits (60 bits) of its SHA-1 digest
 * divided by 0xFFFFFFFFFFFFFFF (spec §3.8). Anything that computes the same function may replace the
 * default, e.g. a platform hash for very long inputs.
 */
export type BucketHasher = (input: string) => number;

// 0xFFFFFFFFFFFFFFF (2^60 - 1) as a double is exactly 2^60: the divisor every JavaScript SDK uses.
const SCALE = 2 ** 60;
const TWO_POW_28 = 0x10000000;

/**
 * The default hasher: the 60-bit prefix is built from the first two digest words. `h0 * 2^28` is exact
 * in a double and the one addition rounds to nearest, the same double that parsing the 15 hex digits
 * gives, so buckets agree bit for bit with SDKs that parse the hex string.
 */
export const sha1BucketHasher: BucketHasher = (input) => {
  const words = digest(input);
  return ((words[0]! >>> 0) * TWO_POW_28 + (words[1]! >>> 4)) / SCALE;
};
