// Clause operators (spec §3.6): type rules, strings, regexes, numbers, dates and semantic versions.
import { describe, expect, it } from 'vitest';
import { compileOperator } from '../src/evaluate/operators.js';
import type { JsonValue } from '../src/index.js';

/** Whether context value `a` matches any of the clause `values` under `op`. */
function match(op: string, a: unknown, ...values: JsonValue[]): boolean {
  return compileOperator(op, values)(a);
}

// 2020-01-01T00:00:00Z: 18262 days after the epoch (50 years, 12 of them leap years), times 86400000.
const NEW_YEAR_2020 = 18_262 * 86_400_000;

describe('in', () => {
  it('matches equal strings, numbers and booleans', () => {
    expect(match('in', 'a', 'a', 'b')).toBe(true);
    expect(match('in', 'b', 'a', 'b')).toBe(true);
    expect(match('in', 'c', 'a', 'b')).toBe(false);
    expect(match('in', 3, 1, 2, 3)).toBe(true);
    expect(match('in', true, true)).toBe(true);
    expect(match('in', false, true)).toBe(false);
  });

  it('treats 1 and 1.0 as equal', () => {
    expect(match('in', 1, 1.0)).toBe(true);
    expect(match('in', 1.0, 2, 1)).toBe(true);
    expect(match('in', 1.5, 1)).toBe(false);
  });

  it('never equates values of different types', () => {
    expect(match('in', true, 1)).toBe(false);
    expect(match('in', 1, true)).toBe(false);
    expect(match('in', false, 0)).toBe(false);
    expect(match('in', 0, false)).toBe(false);
    expect(match('in', '1', 1)).toBe(false);
    expect(match('in', 1, '1')).toBe(false);
    expect(match('in', 'true', true)).toBe(false);
    expect(match('in', '', 0)).toBe(false);
    expect(match('in', 0, null)).toBe(false);
    expect(match('in', { a: 1 }, '[object Object]')).toBe(false);
    expect(match('in', 'a', ['a'])).toBe(false);
  });

  it('compares objects deeply, ignoring key order', () => {
    expect(match('in', { a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(match('in', { a: { b: 'c' } }, 'x', { a: { b: 'c' } })).toBe(true);
    expect(match('in', { a: 1 }, { a: 1.0 })).toBe(true);
    expect(match('in', { a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(match('in', { a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(match('in', { a: 1 }, { a: '1' })).toBe(false);
    expect(match('in', { a: 1 }, { b: 1 })).toBe(false);
    expect(match('in', { a: null }, { b: null })).toBe(false);
    expect(match('in', {}, {})).toBe(true);
  });

  it('compares arrays deeply and in order', () => {
    expect(match('in', [1, 2], [1, 2])).toBe(true);
    expect(match('in', [1, 2], [2, 1])).toBe(false);
    expect(match('in', [1, 2], [1, 2, 3])).toBe(false);
    expect(match('in', [[1], { a: [true] }], [[1], { a: [true] }])).toBe(true);
    expect(match('in', [], {})).toBe(false);
    expect(match('in', {}, [])).toBe(false);
    expect(match('in', [true], [1])).toBe(false);
  });

  it('mixes scalar and structured clause values', () => {
    expect(match('in', 'x', { a: 1 }, 'x')).toBe(true);
    expect(match('in', 'y', { a: 1 }, 'x')).toBe(false);
  });

  it('matches nothing with no clause values', () => {
    expect(match('in', 'a')).toBe(false);
  });
});

describe('startsWith, endsWith, contains', () => {
  it('tests prefixes, suffixes and substrings case-sensitively', () => {
    expect(match('startsWith', 'foobar', 'foo')).toBe(true);
    expect(match('startsWith', 'foobar', 'Foo')).toBe(false);
    expect(match('startsWith', 'foobar', 'bar')).toBe(false);
    expect(match('endsWith', 'foobar', 'bar')).toBe(true);
    expect(match('endsWith', 'foobar', 'BAR')).toBe(false);
    expect(match('endsWith', 'foobar', 'foo')).toBe(false);
    expect(match('contains', 'foobar', 'oba')).toBe(true);
    expect(match('contains', 'foobar', 'OBA')).toBe(false);
    expect(match('contains', 'foobar', 'baz')).toBe(false);
  });

  it('matches when any clause value does', () => {
    expect(match('startsWith', 'foobar', 'x', 'fo')).toBe(true);
    expect(match('endsWith', 'foobar', 'x', 'ar')).toBe(true);
    expect(match('contains', 'foobar', 'x', 'ob')).toBe(true);
  });

  it('accepts the whole string and the empty string', () => {
    expect(match('startsWith', 'abc', 'abc')).toBe(true);
    expect(match('endsWith', 'abc', '')).toBe(true);
    expect(match('contains', 'abc', 'abc')).toBe(true);
    expect(match('contains', 'ab', 'abc')).toBe(false);
  });

  it('requires strings on both sides', () => {
    expect(match('startsWith', 123, '1')).toBe(false);
    expect(match('startsWith', '123', 1)).toBe(false);
    expect(match('endsWith', 123, '3')).toBe(false);
    expect(match('contains', true, 'true')).toBe(false);
    expect(match('contains', ['abc'], 'b')).toBe(false);
    expect(match('contains', 'null', null)).toBe(false);
  });
});

describe('matches', () => {
  it('searches anywhere in the value (unanchored)', () => {
    expect(match('matches', 'hello world', 'o w')).toBe(true);
    expect(match('matches', 'hello world', 'l+o')).toBe(true);
    expect(match('matches', 'hello world', '^world')).toBe(false);
    expect(match('matches', 'hello world', 'world$')).toBe(true);
    expect(match('matches', 'hello world', '^hello world$')).toBe(true);
    expect(match('matches', 'user-123', '\\d{3}')).toBe(true);
    expect(match('matches', 'user-12', '\\d{3}')).toBe(false);
  });

  it('is case-sensitive', () => {
    expect(match('matches', 'Hello', 'hello')).toBe(false);
    expect(match('matches', 'Hello', 'H')).toBe(true);
  });

  it('treats an invalid pattern as no match instead of throwing', () => {
    expect(() => compileOperator('matches', ['('])).not.toThrow();
    expect(match('matches', '(', '(')).toBe(false);
    expect(match('matches', 'abc', '[')).toBe(false);
    expect(match('matches', 'abc', '*')).toBe(false);
    expect(match('matches', 'abc', '(', 'b')).toBe(true);
  });

  it('requires strings on both sides', () => {
    expect(match('matches', 123, '1')).toBe(false);
    expect(match('matches', '123', 1)).toBe(false);
    expect(match('matches', true, 'true')).toBe(false);
  });
});

describe('numeric comparisons', () => {
  it('compares numbers at the equality boundary', () => {
    expect(match('lessThan', 5, 6)).toBe(true);
    expect(match('lessThan', 6, 6)).toBe(false);
    expect(match('lessThan', 7, 6)).toBe(false);
    expect(match('lessThanOrEqual', 5, 6)).toBe(true);
    expect(match('lessThanOrEqual', 6, 6)).toBe(true);
    expect(match('lessThanOrEqual', 7, 6)).toBe(false);
    expect(match('greaterThan', 7, 6)).toBe(true);
    expect(match('greaterThan', 6, 6)).toBe(false);
    expect(match('greaterThan', 5, 6)).toBe(false);
    expect(match('greaterThanOrEqual', 7, 6)).toBe(true);
    expect(match('greaterThanOrEqual', 6, 6)).toBe(true);
    expect(match('greaterThanOrEqual', 5, 6)).toBe(false);
  });

  it('treats 1 and 1.0 as the same number and compares fractions and negatives', () => {
    expect(match('lessThanOrEqual', 1, 1.0)).toBe(true);
    expect(match('lessThan', 1, 1.0)).toBe(false);
    expect(match('lessThan', 0.1, 0.2)).toBe(true);
    expect(match('greaterThan', -1, -2)).toBe(true);
    expect(match('lessThan', -0.5, 0)).toBe(true);
  });

  it('never compares strings as numbers', () => {
    expect(match('lessThan', '5', 6)).toBe(false);
    expect(match('lessThan', 5, '6')).toBe(false);
    expect(match('lessThanOrEqual', '6', 6)).toBe(false);
    expect(match('greaterThan', '7', 6)).toBe(false);
    expect(match('greaterThanOrEqual', 6, '6')).toBe(false);
    expect(match('lessThan', 'a', 'b')).toBe(false);
  });

  it('never compares booleans or null as numbers', () => {
    expect(match('lessThan', false, 1)).toBe(false);
    expect(match('greaterThan', true, 0)).toBe(false);
    expect(match('greaterThanOrEqual', 0, false)).toBe(false);
    expect(match('lessThanOrEqual', 0, null)).toBe(false);
  });

  it('matches when any clause value does', () => {
    expect(match('lessThan', 5, 1, 2, 10)).toBe(true);
    expect(match('greaterThan', 5, 10, 'x', 4)).toBe(true);
    expect(match('greaterThan', 5, 10, 20)).toBe(false);
  });
});

describe('before and after', () => {
  it('uses the hand-computed epoch of 2020-01-01 (sanity check of the constant)', () => {
    expect(NEW_YEAR_2020).toBe(1_577_836_800_000);
  });

  it('compares epoch-millisecond numbers strictly', () => {
    expect(match('before', NEW_YEAR_2020, NEW_YEAR_2020 + 1)).toBe(true);
    expect(match('before', NEW_YEAR_2020, NEW_YEAR_2020)).toBe(false);
    expect(match('before', NEW_YEAR_2020 + 1, NEW_YEAR_2020)).toBe(false);
    expect(match('after', NEW_YEAR_2020 + 1, NEW_YEAR_2020)).toBe(true);
    expect(match('after', NEW_YEAR_2020, NEW_YEAR_2020)).toBe(false);
    expect(match('after', NEW_YEAR_2020 - 1, NEW_YEAR_2020)).toBe(false);
    expect(match('before', -1, 0)).toBe(true);
  });

  it('reads RFC 3339 strings with Z', () => {
    expect(match('before', '2020-01-01T00:00:00Z', NEW_YEAR_2020 + 1)).toBe(true);
    expect(match('before', '2020-01-01T00:00:00Z', NEW_YEAR_2020)).toBe(false);
    expect(match('after', '2020-01-01T00:00:00Z', NEW_YEAR_2020 - 1)).toBe(true);
    expect(match('after', '2020-01-01T00:00:00Z', NEW_YEAR_2020)).toBe(false);
    expect(match('after', NEW_YEAR_2020 + 1, '2020-01-01T00:00:00Z')).toBe(true);
    expect(match('before', '2019-12-31T23:59:59Z', '2020-01-01T00:00:00Z')).toBe(true);
    expect(match('after', '2019-12-31T23:59:59Z', '2020-01-01T00:00:00Z')).toBe(false);
  });

  it('applies +hh:mm and -hh:mm offsets', () => {
    // 01:00 at +01:00 and 19:00 the day before at -05:00 are both midnight UTC.
    for (const text of [
      '2020-01-01T01:00:00+01:00',
      '2019-12-31T19:00:00-05:00',
      '2020-01-01T05:30:00+05:30',
    ]) {
      expect(match('before', text, NEW_YEAR_2020), text).toBe(false);
      expect(match('after', text, NEW_YEAR_2020), text).toBe(false);
      expect(match('before', text, NEW_YEAR_2020 + 1), text).toBe(true);
      expect(match('after', text, NEW_YEAR_2020 - 1), text).toBe(true);
    }
    // 00:30 at +01:00 is half an hour before midnight UTC.
    expect(match('before', '2020-01-01T00:30:00+01:00', '2020-01-01T00:00:00Z')).toBe(true);
    expect(match('after', '2020-01-01T00:30:00-01:00', '2020-01-01T01:00:00Z')).toBe(true);
  });

  it('reads fractional seconds', () => {
    expect(match('after', '2020-01-01T00:00:00.5Z', NEW_YEAR_2020 + 499)).toBe(true);
    expect(match('before', '2020-01-01T00:00:00.5Z', NEW_YEAR_2020 + 501)).toBe(true);
    expect(match('after', '2020-01-01T00:00:00.5Z', NEW_YEAR_2020 + 500)).toBe(false);
    expect(match('before', '2020-01-01T00:00:00.5Z', NEW_YEAR_2020 + 500)).toBe(false);
    expect(match('after', '2020-01-01T00:00:00.123Z', NEW_YEAR_2020 + 122)).toBe(true);
    expect(match('before', '2020-01-01T00:00:00.123Z', NEW_YEAR_2020 + 124)).toBe(true);
    expect(match('before', '2020-01-01T00:00:00.999+00:00', '2020-01-01T00:00:01Z')).toBe(true);
  });

  it('accepts a leap day', () => {
    const leapDay = NEW_YEAR_2020 + (31 + 28) * 86_400_000;
    expect(match('after', '2020-02-29T00:00:00Z', leapDay - 1)).toBe(true);
    expect(match('before', '2020-02-29T00:00:00Z', leapDay + 1)).toBe(true);
  });

  it.each([
    ['a date without time', '2020-01-01'],
    ['a time without zone', '2020-01-01T00:00:00'],
    ['a numeric string', String(NEW_YEAR_2020)],
    ['February 30', '2020-02-30T00:00:00Z'],
    ['February 29 of a common year', '2019-02-29T00:00:00Z'],
    ['month 13', '2020-13-01T00:00:00Z'],
    ['month 0', '2020-00-10T00:00:00Z'],
    ['day 0', '2020-01-00T00:00:00Z'],
    ['April 31', '2020-04-31T00:00:00Z'],
    ['hour 24', '2020-01-01T24:00:00Z'],
    ['a space instead of T', '2020-01-01 00:00:00Z'],
    ['free text', 'yesterday'],
    ['the empty string', ''],
  ])('rejects %s', (_label, text) => {
    // Neither as the context value nor as the clause value, whatever the other side is.
    for (const op of ['before', 'after']) {
      expect(match(op, text, 0, NEW_YEAR_2020 * 2, '1970-01-01T00:00:00Z', '2999-01-01T00:00:00Z')).toBe(
        false,
      );
      expect(match(op, 0, text)).toBe(false);
      expect(match(op, NEW_YEAR_2020 * 2, text)).toBe(false);
    }
  });

  it('rejects values that are neither numbers nor strings', () => {
    for (const value of [true, null, [NEW_YEAR_2020], { t: NEW_YEAR_2020 }]) {
      expect(match('before', value, NEW_YEAR_2020 * 2)).toBe(false);
      expect(match('after', value, 0)).toBe(false);
    }
  });

  it('matches when any clause value does', () => {
    expect(match('before', NEW_YEAR_2020, 'junk', 0, NEW_YEAR_2020 + 1)).toBe(true);
  });
});

describe('semantic versions', () => {
  it('compares equal versions', () => {
    expect(match('semVerEqual', '2.0.0', '2.0.0')).toBe(true);
    expect(match('semVerEqual', '2.0.0', '2.0.1')).toBe(false);
    expect(match('semVerLessThan', '2.0.0', '2.0.0')).toBe(false);
    expect(match('semVerGreaterThan', '2.0.0', '2.0.0')).toBe(false);
  });

  it('orders by major, minor and patch numerically', () => {
    expect(match('semVerLessThan', '2.0.0', '2.0.1')).toBe(true);
    expect(match('semVerLessThan', '2.0.1', '2.1.0')).toBe(true);
    expect(match('semVerLessThan', '2.1.0', '3.0.0')).toBe(true);
    expect(match('semVerLessThan', '2.0.0', '10.0.0')).toBe(true);
    expect(match('semVerLessThan', '1.9.9', '1.10.0')).toBe(true);
    expect(match('semVerGreaterThan', '1.10.0', '1.9.9')).toBe(true);
    expect(match('semVerGreaterThan', '2.0.1', '2.0.0')).toBe(true);
    expect(match('semVerGreaterThan', '2.0.0', '2.0.1')).toBe(false);
    expect(match('semVerLessThan', '2.0.1', '2.0.0')).toBe(false);
  });

  it('pads versions with fewer than three components', () => {
    expect(match('semVerEqual', '2', '2.0.0')).toBe(true);
    expect(match('semVerEqual', '2.0.0', '2')).toBe(true);
    expect(match('semVerEqual', '2.0', '2.0.0')).toBe(true);
    expect(match('semVerEqual', '2.1', '2.1.0')).toBe(true);
    expect(match('semVerLessThan', '2', '2.0.1')).toBe(true);
    expect(match('semVerGreaterThan', '2.1', '2.0.9')).toBe(true);
  });

  it('keeps a prerelease or build suffix when padding', () => {
    expect(match('semVerEqual', '2.0-rc', '2.0.0-rc')).toBe(true);
    expect(match('semVerEqual', '2-rc.1', '2.0.0-rc.1')).toBe(true);
    expect(match('semVerLessThan', '2.0-rc', '2.0.0')).toBe(true);
    expect(match('semVerEqual', '2.0+build', '2.0.0')).toBe(true);
    expect(match('semVerEqual', '2.0-rc+build.5', '2.0.0-rc')).toBe(true);
  });

  it('orders prereleases by SemVer precedence', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        const a = ordered[i]!;
        const b = ordered[j]!;
        expect(match('semVerLessThan', a, b), `${a} < ${b}`).toBe(i < j);
        expect(match('semVerGreaterThan', a, b), `${a} > ${b}`).toBe(i > j);
        expect(match('semVerEqual', a, b), `${a} = ${b}`).toBe(i === j);
      }
    }
  });

  it('orders numeric prerelease identifiers below alphanumeric ones', () => {
    expect(match('semVerLessThan', '1.0.0-1', '1.0.0-a')).toBe(true);
    expect(match('semVerLessThan', '1.0.0-9', '1.0.0-10')).toBe(true);
    expect(match('semVerLessThan', '1.0.0-Z', '1.0.0-a')).toBe(true);
  });

  it('ignores build metadata', () => {
    expect(match('semVerEqual', '1.0.0+build.1', '1.0.0+build.2')).toBe(true);
    expect(match('semVerEqual', '1.0.0+build', '1.0.0')).toBe(true);
    expect(match('semVerLessThan', '1.0.0+zzz', '1.0.0+aaa')).toBe(false);
    expect(match('semVerGreaterThan', '1.0.0+zzz', '1.0.0+aaa')).toBe(false);
    expect(match('semVerEqual', '1.0.0-rc.1+b', '1.0.0-rc.1')).toBe(true);
  });

  it.each([
    ['a leading v', 'v2.0.0'],
    ['a leading zero in major', '02.0.0'],
    ['a leading zero in minor', '2.01.0'],
    ['a leading zero in a padded version', '02'],
    ['a leading zero in a numeric prerelease', '2.0.0-01'],
    ['four components', '2.0.0.0'],
    ['an empty prerelease', '2.0.0-'],
    ['a trailing dot', '2.'],
    ['letters', 'latest'],
    ['the empty string', ''],
  ])('rejects %s', (_label, text) => {
    for (const op of ['semVerEqual', 'semVerLessThan', 'semVerGreaterThan']) {
      expect(match(op, text, '2.0.0', '0.0.1', '99.0.0'), `${op} context ${text}`).toBe(false);
      expect(match(op, '2.0.0', text), `${op} clause ${text}`).toBe(false);
    }
  });

  it('rejects non-strings', () => {
    expect(match('semVerEqual', 2, '2.0.0')).toBe(false);
    expect(match('semVerEqual', '2.0.0', 2)).toBe(false);
    expect(match('semVerLessThan', 1, '2.0.0')).toBe(false);
  });

  it('matches when any clause value does', () => {
    expect(match('semVerEqual', '1.2.3', 'junk', '1.2.4', '1.2.3')).toBe(true);
  });
});

describe('unknown operators', () => {
  it('never match, whatever the values', () => {
    for (const op of ['equals', 'IN', 'segmentMatch', '', 'semverEqual', 'toString', '__proto__']) {
      expect(match(op, 'a', 'a'), op).toBe(false);
      expect(match(op, 1, 1), op).toBe(false);
    }
  });
});
