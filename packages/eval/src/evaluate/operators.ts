import type { JsonValue } from '../model/json.js';
import { parseDate } from './dates.js';
import { jsonEqual } from './jsonEqual.js';
import { compareSemVer, parseSemVer, type SemVer } from './semver.js';

/**
 * A clause operator bound to its clause values: tests one context value against all of them (the
 * clause matches when any value matches). Building it once per clause moves regex compilation, date
 * and version parsing and set construction out of the evaluation path.
 */
export type ValueMatcher = (contextValue: unknown) => boolean;

const never: ValueMatcher = () => false;

/** Returns the matcher for `op` over `values`; unknown operators never match (spec §3.5). */
export function compileOperator(op: string, values: readonly JsonValue[]): ValueMatcher {
  switch (op) {
    case 'in':
      return compileIn(values);
    case 'startsWith':
      return stringTest(values, (a, b) => a.startsWith(b));
    case 'endsWith':
      return stringTest(values, (a, b) => a.endsWith(b));
    case 'contains':
      return stringTest(values, (a, b) => a.includes(b));
    case 'matches':
      return compileMatches(values);
    case 'lessThan':
      return numberTest(values, (a, b) => a < b);
    case 'lessThanOrEqual':
      return numberTest(values, (a, b) => a <= b);
    case 'greaterThan':
      return numberTest(values, (a, b) => a > b);
    case 'greaterThanOrEqual':
      return numberTest(values, (a, b) => a >= b);
    case 'before':
      return parsedTest(values, parseDateCached, (a, b) => a < b);
    case 'after':
      return parsedTest(values, parseDateCached, (a, b) => a > b);
    case 'semVerEqual':
      return parsedTest(values, parseSemVerCached, (a: SemVer, b: SemVer) => compareSemVer(a, b) === 0);
    case 'semVerLessThan':
      return parsedTest(values, parseSemVerCached, (a: SemVer, b: SemVer) => compareSemVer(a, b) < 0);
    case 'semVerGreaterThan':
      return parsedTest(values, parseSemVerCached, (a: SemVer, b: SemVer) => compareSemVer(a, b) > 0);
    default:
      return never;
  }
}

/**
 * `in`: JSON equality, so booleans never equal numbers and `1` equals `1.0`. Objects and arrays compare
 * deeply (spec §3.6 DIVERGENCE: LaunchDarkly's Go evaluator does, its JavaScript one never matches them).
 */
function compileIn(values: readonly JsonValue[]): ValueMatcher {
  const scalars = new Set<unknown>();
  const structured: JsonValue[] = [];
  for (const v of values) {
    if (v !== null && typeof v === 'object') structured.push(v);
    else if (v !== null) scalars.add(v);
  }
  if (structured.length === 0) {
    if (scalars.size === 1) {
      const only = scalars.values().next().value;
      return (a) => a === only;
    }
    return (a) => scalars.has(a);
  }
  return (a) => {
    if (a !== null && typeof a === 'object') return structured.some((b) => jsonEqual(a, b));
    return scalars.has(a);
  };
}

function stringTest(values: readonly JsonValue[], test: (a: string, b: string) => boolean): ValueMatcher {
  const strings = values.filter((v): v is string => typeof v === 'string');
  if (strings.length === 0) return never;
  return (a) => {
    if (typeof a !== 'string') return false;
    for (const b of strings) if (test(a, b)) return true;
    return false;
  };
}

function compileMatches(values: readonly JsonValue[]): ValueMatcher {
  const patterns: RegExp[] = [];
  for (const v of values) {
    if (typeof v !== 'string') continue;
    try {
      patterns.push(new RegExp(v));
    } catch {
      // An invalid pattern is a value that never matches, not an error (spec §3.6).
    }
  }
  if (patterns.length === 0) return never;
  return (a) => {
    if (typeof a !== 'string') return false;
    for (const p of patterns) if (p.test(a)) return true;
    return false;
  };
}

function numberTest(values: readonly JsonValue[], test: (a: number, b: number) => boolean): ValueMatcher {
  const numbers = values.filter((v): v is number => typeof v === 'number');
  if (numbers.length === 0) return never;
  return (a) => {
    if (typeof a !== 'number') return false;
    for (const b of numbers) if (test(a, b)) return true;
    return false;
  };
}

/** Operators whose operands are parsed first (dates, versions); unparseable values never match. */
function parsedTest<T>(
  values: readonly JsonValue[],
  parse: (v: unknown) => T | undefined,
  test: (a: T, b: T) => boolean,
): ValueMatcher {
  const parsed: T[] = [];
  for (const v of values) {
    const p = parse(v);
    if (p !== undefined) parsed.push(p);
  }
  if (parsed.length === 0) return never;
  return (a) => {
    const pa = parse(a);
    if (pa === undefined) return false;
    for (const b of parsed) if (test(pa, b)) return true;
    return false;
  };
}

/**
 * Remembers what strings parsed to. Context values compared by date and version operators repeat a lot
 * (app versions, signup dates), and parsing is a regular expression plus arithmetic; the cache is
 * bounded and simply starts over when full.
 */
function memoizeStrings<T>(parse: (value: unknown) => T | undefined): (value: unknown) => T | undefined {
  const cache = new Map<string, T | null>();
  return (value) => {
    if (typeof value !== 'string') return parse(value);
    const hit = cache.get(value);
    if (hit !== undefined) return hit ?? undefined;
    const parsed = parse(value);
    if (cache.size >= 1000) cache.clear();
    cache.set(value, parsed ?? null);
    return parsed;
  };
}

const parseDateCached = memoizeStrings(parseDate);
const parseSemVerCached = memoizeStrings(parseSemVer);
