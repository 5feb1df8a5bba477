/** A parsed semantic version; build metadata is dropped because it never affects precedence. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers; numeric ones as numbers. Empty for a release. */
  prerelease: (string | number)[];
}

const NUM = '(0|[1-9]\\d*)';
const PRE_ID = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const STRICT = new RegExp(
  `^${NUM}\\.${NUM}\\.${NUM}(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);
const LEADING_COMPONENTS = /^\d+(\.\d+)?(\.\d+)?/;

/**
 * Parses SemVer 2.0, leniently as LaunchDarkly does (spec §3.6): `2` and `2.1` are padded to
 * `2.0.0` and `2.1.0` (keeping any `-pre` or `+build` remainder); a leading `v`, leading zeros and
 * a fourth component are rejected.
 */
export function parseSemVer(input: unknown): SemVer | undefined {
  if (typeof input !== 'string') return undefined;
  const strict = parseStrict(input);
  if (strict !== undefined) return strict;
  const m = LEADING_COMPONENTS.exec(input);
  if (m === null) return undefined;
  let padded = m[0];
  if (m[1] === undefined) padded += '.0';
  if (m[2] === undefined) padded += '.0';
  return parseStrict(padded + input.slice(m[0].length));
}

function parseStrict(input: string): SemVer | undefined {
  const m = STRICT.exec(input);
  if (m === null) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3]);
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || !Number.isSafeInteger(patch)) {
    return undefined;
  }
  const prerelease = m[4] === undefined ? [] : m[4].split('.').map(preId);
  return { major, minor, patch, prerelease };
}

function preId(id: string): string | number {
  if (!/^\d+$/.test(id)) return id;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : id;
}

/** SemVer precedence: negative, zero or positive like a sort comparator. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  const pa = a.prerelease;
  const pb = b.prerelease;
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length === 0 ? 0 : pa.length === 0 ? 1 : -1;
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const xNum = typeof x === 'number';
    const yNum = typeof y === 'number';
    if (xNum && yNum) return x < y ? -1 : 1;
    if (xNum) return -1;
    if (yNum) return 1;
    return x < y ? -1 : 1;
  }
  return pa.length === pb.length ? 0 : pa.length < pb.length ? -1 : 1;
}
