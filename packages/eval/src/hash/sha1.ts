/**
 * SHA-1 in plain TypeScript, tuned for the short strings bucketing hashes (`flagKey.salt.contextKey`,
 * usually one or two 64-byte blocks). It avoids the per-call setup of a platform hash object and runs
 * anywhere (browsers, edge runtimes), which is why the evaluator uses it by default. SHA-1 is used here
 * only as LaunchDarkly's bucketing function, never for security.
 */

// Reused scratch space: the message schedule and a byte buffer that grows to the longest input seen.
const schedule = new Int32Array(80);
let bytes = new Uint8Array(256);

/** Writes the UTF-8 encoding of `input` into the shared buffer and returns its length in bytes. */
function encodeUtf8(input: string): number {
  const worst = input.length * 3 + 72;
  if (bytes.length < worst) bytes = new Uint8Array(Math.max(worst, bytes.length * 2));
  const out = bytes;
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    let c = input.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < input.length) {
      const low = input.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        out[n++] = 0xf0 | (c >> 18);
        out[n++] = 0x80 | ((c >> 12) & 63);
        out[n++] = 0x80 | ((c >> 6) & 63);
        out[n++] = 0x80 | (c & 63);
      } else {
        n = putThreeBytes(out, n, 0xfffd);
      }
    } else if (c >= 0xd800 && c < 0xe000) {
      // A lone surrogate: TextEncoder and Node's Buffer both write U+FFFD.
      n = putThreeBytes(out, n, 0xfffd);
    } else {
      n = putThreeBytes(out, n, c);
    }
  }
  return n;
}

function putThreeBytes(out: Uint8Array, n: number, c: number): number {
  out[n] = 0xe0 | (c >> 12);
  out[n + 1] = 0x80 | ((c >> 6) & 63);
  out[n + 2] = 0x80 | (c & 63);
  return n + 3;
}

/** The digest of the last `digest()` call, as five signed 32-bit words; overwritten by the next call. */
export const lastDigest = new Int32Array(5);

/** Hashes the UTF-8 encoding of `input` into `lastDigest` without allocating. */
export function digest(input: string): Int32Array {
  const length = encodeUtf8(input);
  const buf = bytes;
  // Padding: 0x80, zeros, then the bit length as a 64-bit big-endian integer.
  const total = (((length + 8) >> 6) + 1) << 6;
  buf[length] = 0x80;
  buf.fill(0, length + 1, total - 4);
  const bits = length * 8;
  buf[total - 4] = bits >>> 24;
  buf[total - 3] = (bits >>> 16) & 0xff;
  buf[total - 2] = (bits >>> 8) & 0xff;
  buf[total - 1] = bits & 0xff;

  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  const w = schedule;
  for (let offset = 0; offset < total; offset += 64) {
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = (buf[j]! << 24) | (buf[j + 1]! << 16) | (buf[j + 2]! << 8) | buf[j + 3]!;
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]!) | 0;
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
