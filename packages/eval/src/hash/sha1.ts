/**
 * SHA-1 in plain TypeScript, tuned for the short strings bucketing hashes (`flagKey.salt.contextKey`,
 * usually one 64-byte block). It avoids the per-call setup of a platform hash object and runs anywhere
 * (browsers, edge runtimes), which is why the evaluator uses it by default; BENCHMARKS.md has the
 * measurements. SHA-1 is used here only as LaunchDarkly's bucketing function, never for security.
 */

// Reused scratch space: the message as big-endian 32-bit words (grown to the longest input seen)
// and the 80-word schedule. Bytes are written straight into words, skipping a byte buffer.
let message = new Int32Array(64);
const schedule = new Int32Array(80);

/** The digest of the last `digest()` call, as five signed 32-bit words; overwritten by the next call. */
export const lastDigest = new Int32Array(5);

/**
 * Writes the padded UTF-8 encoding of `input` into `message` and returns its length in words (a
 * multiple of 16). ASCII input (flag keys, salts and context keys almost always are) is packed four
 * characters to a word; anything else goes through the general UTF-8 path.
 */
function load(input: string): number {
  const length = input.length;
  const worstWords = ((length * 3 + 72) >> 2) + 16;
  if (message.length < worstWords) message = new Int32Array(Math.max(worstWords, message.length * 2));
  const m = message;
  let word = 0;
  let i = 0;
  for (; i < length; i++) {
    const c = input.charCodeAt(i);
    if (c >= 0x80) break;
    word = (word << 8) | c;
    if ((i & 3) === 3) {
      m[i >> 2] = word;
      word = 0;
    }
  }
  if (i < length) return loadUtf8(input);
  // The partial last word, then the 0x80 padding byte after the last character.
  const shift = (3 - (length & 3)) << 3;
  m[length >> 2] = ((word << 8) | 0x80) << shift;
  return finish(m, length);
}

/** Zeroes the words between the message and its bit length, writes the length, returns the word count. */
function finish(m: Int32Array, bytes: number): number {
  const words = (((bytes + 8) >> 6) + 1) << 4;
  m.fill(0, (bytes >> 2) + 1, words - 1);
  // Lengths here fit in 32 bits, so the high word of the 64-bit length is one of the zeroed words.
  m[words - 1] = bytes * 8;
  return words;
}

/** The general path: any UTF-8, lone surrogates written as U+FFFD as TextEncoder and Buffer do. */
function loadUtf8(input: string): number {
  const m = message;
  m.fill(0, 0, ((input.length * 3 + 72) >> 2) + 16);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    let c = input.charCodeAt(i);
    if (c < 0x80) {
      n = put(m, n, c);
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const low = c < 0xdc00 && i + 1 < input.length ? input.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low < 0xe000) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x800) {
      n = put(m, n, 0xc0 | (c >> 6));
    } else if (c < 0x10000) {
      n = put(m, n, 0xe0 | (c >> 12));
      n = put(m, n, 0x80 | ((c >> 6) & 63));
    } else {
      n = put(m, n, 0xf0 | (c >> 18));
      n = put(m, n, 0x80 | ((c >> 12) & 63));
      n = put(m, n, 0x80 | ((c >> 6) & 63));
    }
    n = put(m, n, 0x80 | (c & 63));
  }
  put(m, n, 0x80);
  return finish(m, n);
}

function put(m: Int32Array, n: number, byte: number): number {
  m[n >> 2]! |= byte << (24 - ((n & 3) << 3));
  return n + 1;
}

/** Hashes the UTF-8 encoding of `input` into `lastDigest` without allocating. */
export function digest(input: string): Int32Array {
  const words = load(input);
  const m = message;
  const w = schedule;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  for (let block = 0; block < words; block += 16) {
    for (let i = 0; i < 16; i++) w[i] = m[block + i]!;
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    let t: number;
    // Four rounds of twenty, unrolled by round function: no per-step branch on the round number.
    for (let i = 0; i < 20; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 20; i < 40; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 40; i < 60; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 60; i < 80; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  lastDigest[0] = h0;
  lastDigest[1] = h1;
  lastDigest[2] = h2;
  lastDigest[3] = h3;
  lastDigest[4] = h4;
  return lastDigest;
}

/** The five 32-bit words of the SHA-1 digest of `input` (UTF-8), as unsigned numbers. */
export function sha1Words(input: string): [number, number, number, number, number] {
  const d = digest(input);
  return [d[0]! >>> 0, d[1]! >>> 0, d[2]! >>> 0, d[3]! >>> 0, d[4]! >>> 0];
}

/** Lowercase hex SHA-1 digest of the UTF-8 encoding of `input`. */
export function sha1Hex(input: string): string {
  let out = '';
  for (const word of sha1Words(input)) out += word.toString(16).padStart(8, '0');
  return out;
}
