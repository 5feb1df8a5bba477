/**
 * The equivalence check that runs before timing: 100,000 seeded random strings, hashed both ways. It
 * runs in a child process first, because hashing this mix of non-ASCII inputs changes how V8 optimizes
 * the pure hash in the process that does it (see run() in index.ts), and the main measurement should
 * start from the state a process reaches on ordinary ASCII keys. Run directly, it prints its summary.
 */
import { pathToFileURL } from 'node:url';
import { sha1BucketHasher, sha1Hex } from '@flagstaff/eval';
import { cryptoBucket, cryptoHex } from '../lib/cryptoSha1.js';
import { Random } from '../lib/random.js';

const VERIFY_COUNT = 100_000;

/** Code point pools for the random verification inputs: each class stresses a UTF-8 length. */
const POOLS: Array<{ name: string; pick: (r: Random) => string }> = [
  { name: 'ASCII', pick: (r) => String.fromCharCode(0x20 + r.below(0x5f)) },
  { name: '2-byte (Latin-1 to U+07FF)', pick: (r) => String.fromCharCode(0x80 + r.below(0x780)) },
  { name: '3-byte (CJK etc.)', pick: (r) => String.fromCharCode(0x800 + r.below(0xd000)) },
  { name: 'emoji (surrogate pairs)', pick: (r) => String.fromCodePoint(0x1f300 + r.below(0x700)) },
  // Unpaired surrogates are invalid UTF-16; both sides must encode them as U+FFFD.
  { name: 'lone surrogate', pick: (r) => String.fromCharCode(0xd800 + r.below(0x800)) },
];

/**
 * Hashes VERIFY_COUNT random strings both ways and throws on the first difference, so the timing
 * below compares two implementations of the same function. Returns a summary line.
 */
export function verify(): string {
  const random = new Random(0x5eed5a1);
  const used = new Map<string, number>();
  let longest = 0;
  for (let n = 0; n < VERIFY_COUNT; n++) {
    // Mostly short bucketing-like strings, some crossing block boundaries, a few long ones.
    const length = n % 50 === 0 ? random.below(1200) : random.below(140);
    // Each input mixes ASCII with at most one other class, which keeps every class frequent.
    const other = POOLS[1 + random.below(POOLS.length - 1)]!;
    const otherShare = random.below(4) / 4;
    let input = '';
    for (let i = 0; i < length; i++) {
      const pool = random.next() / 0x100000000 < otherShare ? other : POOLS[0]!;
      input += pool.pick(random);
      used.set(pool.name, (used.get(pool.name) ?? 0) + 1);
    }
    longest = Math.max(longest, Buffer.byteLength(input));
    const expectedHex = cryptoHex(input);
    const hex = sha1Hex(input);
    if (hex !== expectedHex) throw new Error(`sha1Hex differs for ${JSON.stringify(input)}: ${hex}`);
    const bucket = sha1BucketHasher(input);
    const expected = cryptoBucket(input);
    if (bucket !== expected) {
      throw new Error(`bucket differs for ${JSON.stringify(input)}: ${bucket} vs ${expected}`);
    }
  }
  const classes = POOLS.map(({ name }) => `${name} ${used.get(name) ?? 0}`).join(', ');
  return `${VERIFY_COUNT} random inputs (0 to ${longest} UTF-8 bytes; characters: ${classes}): identical hex digests and buckets`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  console.log(verify());
