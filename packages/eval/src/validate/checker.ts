import { describeValue, objectTag } from './describe.js';
import type { ValidationError } from './result.js';

/** Collects every error of one validation run; `strict` switches the semantic rules on. */
export class Checker {
  readonly errors: ValidationError[] = [];

  constructor(readonly strict: boolean) {}

  fail(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  /** Reports a wrong type and returns undefined, so checks can end with `return c.wrongType(...)`. */
  wrongType(path: string, expected: string, got: unknown): undefined {
    this.fail(path, `expected ${expected}, got ${describeValue(got)}`);
    return undefined;
  }
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && objectTag(value) === 'Object'
  );
}

export function checkString(c: Checker, path: string, value: unknown): string | undefined {
  return typeof value === 'string' ? value : c.wrongType(path, 'a string', value);
}

export function checkBoolean(c: Checker, path: string, value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : c.wrongType(path, 'a boolean', value);
}

/** JSON numbers are always finite; the check matters for values built in code rather than parsed. */
export function checkNumber(c: Checker, path: string, value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : c.wrongType(path, 'a number', value);
}

/**
 * An integer, and in strict mode a safe one: beyond 2^53 neighbouring integers share one double, so a
 * version or seed there would not survive a round trip through any JavaScript SDK.
 */
export function checkInteger(c: Checker, path: string, value: unknown, min?: number): number | undefined {
  const expected = min === 0 ? 'a non-negative integer' : 'an integer';
  if (typeof value !== 'number' || !Number.isInteger(value)) return c.wrongType(path, expected, value);
  if (min !== undefined && value < min) return c.wrongType(path, expected, value);
  if (c.strict && !Number.isSafeInteger(value)) {
    c.fail(path, `expected a safe integer (at most 2^53 - 1 in magnitude), got ${describeValue(value)}`);
    return undefined;
  }
  return value;
}
