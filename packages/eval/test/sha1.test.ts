// The pure-TypeScript SHA-1 and bucket hasher (spec §3.8) against node:crypto.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha1BucketHasher, sha1Hex, sha1Words } from '../src/index.js';

function reference(input: string): string {
  return createHash('sha1').update(input, 'utf8').digest('hex');
}

/** A small deterministic PRNG (mulberry32) so failures can be reproduced. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random strings over ASCII, two- and three-byte characters, surrogate pairs and lone surrogates. */
function randomString(random: () => number, maxLength: number): string {
  const length = Math.floor(random() * (maxLength + 1));
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = random();
    if (r < 0.6) out += String.fromCharCode(0x20 + Math.floor(random() * 95));
    else if (r < 0.7) out += String.fromCharCode(0x80 + Math.floor(random() * 0x780));
    else if (r < 0.8) out += String.fromCharCode(0x800 + Math.floor(random() * 0xd000));
    else if (r < 0.9) out += String.fromCodePoint(0x10000 + Math.floor(random() * 0xfffff));
    else if (r < 0.95) out += String.fromCharCode(0xd800 + Math.floor(random() * 0x800));
    else out += String.fromCharCode(Math.floor(random() * 0x80));
  }
  return out;
}

describe('sha1Hex', () => {
  it('hashes the empty string and short ASCII to the published digests', () => {
    expect(sha1Hex('')).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(sha1Hex('abc')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(sha1Hex('The quick brown fox jumps over the lazy dog')).toBe(
      '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12',
    );
  });

  it('matches node:crypto on ASCII', () => {
    for (const input of ['a', 'hashKey.saltyA.userKeyA', 'flag.salt.123', '61.user-key']) {
      expect(sha1Hex(input), input).toBe(reference(input));
    }
  });

  it.each([55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000])(
    'matches node:crypto on %i bytes (padding boundaries)',
    (length) => {
      const input = 'x'.repeat(length);
      expect(Buffer.byteLength(input, 'utf8')).toBe(length);
      expect(sha1Hex(input)).toBe(reference(input));
      // The same byte length reached with multi-byte characters (2 bytes each, plus one ASCII if odd).
      const wide = 'é'.repeat(length >> 1) + (length % 2 === 1 ? 'y' : '');
      expect(Buffer.byteLength(wide, 'utf8')).toBe(length);
      expect(sha1Hex(wide)).toBe(reference(wide));
    },
  );

  it('encodes multi-byte UTF-8 like node:crypto', () => {
    for (const input of ['é', 'naïve café', 'Ω≈ç√', '日本語のキー', '\u0080\u07ff\u0800\uffff', 'a\u0000b']) {
      expect(sha1Hex(input), input).toBe(reference(input));
    }
  });

  it('encodes emoji (surrogate pairs) as four bytes', () => {
    for (const input of ['😀', 'user-👍🏽', '🏳️‍🌈', '\u{10000}\u{10ffff}', '𝄞 clef']) {
      expect(sha1Hex(input), input).toBe(reference(input));
    }
  });

  it('encodes lone surrogates as U+FFFD like node:crypto', () => {
    const inputs = [
      '\ud800',
      '\udfff',
      'a\ud83d',
      '\ud83db',
      '\ude00\ud83d',
      '\ud83d\ud83d\ude00',
      'x\udc00y',
    ];
    for (const input of inputs) {
      expect(sha1Hex(input), JSON.stringify(input)).toBe(reference(input));
    }
    // Checked against explicit bytes too: U+FFFD is EF BF BD.
    const bytes = (...b: number[]) => createHash('sha1').update(Buffer.from(b)).digest('hex');
    expect(sha1Hex('\ud800')).toBe(bytes(0xef, 0xbf, 0xbd));
    expect(sha1Hex('a\udc00')).toBe(bytes(0x61, 0xef, 0xbf, 0xbd));
    expect(sha1Hex('\ud83d\ude00')).toBe(bytes(0xf0, 0x9f, 0x98, 0x80));
  });

  it('matches node:crypto on 10,000 random strings', () => {
    const random = prng(0x5eed);
    const mismatches: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const input = randomString(random, i % 10 === 0 ? 300 : 80);
      if (sha1Hex(input) !== reference(input)) mismatches.push(JSON.stringify(input));
    }
    expect(mismatches).toEqual([]);
  });

  it('is not disturbed by a longer input hashed before', () => {
    const short = 'short';
    sha1Hex('z'.repeat(5000));
    expect(sha1Hex(short)).toBe(reference(short));
  });

  it('returns the digest as five unsigned words from sha1Words', () => {
    const hex = reference('words');
    const words = sha1Words('words');
    expect(words).toEqual([0, 1, 2, 3, 4].map((i) => Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16)));
  });
});

describe('sha1BucketHasher', () => {
  function expected(input: string): number {
    return Number.parseInt(reference(input).slice(0, 15), 16) / Number(0xfffffffffffffffn);
  }

  it("reproduces LaunchDarkly's published bucket values", () => {
    expect(sha1BucketHasher('hashKey.saltyA.userKeyA')).toBeCloseTo(0.42157587, 7);
    expect(sha1BucketHasher('hashKey.saltyA.userKeyB')).toBeCloseTo(0.6708485, 7);
    expect(sha1BucketHasher('hashKey.saltyA.userKeyC')).toBeCloseTo(0.10343106, 7);
  });

  it('gives a value in [0, 1]', () => {
    const random = prng(7);
    for (let i = 0; i < 1000; i++) {
      const b = sha1BucketHasher(randomString(random, 40));
      expect(b >= 0 && b <= 1).toBe(true);
    }
  });

  it('equals parseInt(first 15 hex digits) / 0xFFFFFFFFFFFFFFF bit for bit on 100,000 random inputs', () => {
    const random = prng(0xb0c7);
    const mismatches: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const input = i % 2 === 0 ? `flag.salt.${Math.floor(random() * 1e12)}` : randomString(random, 40);
      const actual = sha1BucketHasher(input);
      const want = expected(input);
      if (!Object.is(actual, want)) mismatches.push(`${JSON.stringify(input)}: ${actual} != ${want}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('agrees bit for bit with the exact 60-bit value rounded once', () => {
    // Digests whose first 15 hex digits need rounding to fit a double: compare with BigInt arithmetic.
    const random = prng(99);
    let checked = 0;
    for (let i = 0; i < 20_000 && checked < 200; i++) {
      const input = randomString(random, 20);
      const prefix = BigInt(`0x${reference(input).slice(0, 15)}`);
      if (prefix < 2n ** 53n) continue;
      checked++;
      expect(Object.is(sha1BucketHasher(input), Number(prefix) / 2 ** 60), JSON.stringify(input)).toBe(true);
    }
    expect(checked).toBe(200);
  });
});
