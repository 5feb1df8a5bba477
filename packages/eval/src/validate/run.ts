import { Checker } from './checker.js';
import { describeValue, quote } from './describe.js';
import { type ObjectReader, readObject } from './reader.js';
import type { ValidationOptions, ValidationResult } from './result.js';

/**
 * Validates one top-level item. The try/catch is a last resort: plain JSON cannot make the checks
 * throw, but values built in code can (throwing getters, proxies), and callers rely on getting a result.
 */
export function runValidation<T>(
  input: unknown,
  options: ValidationOptions | undefined,
  what: string,
  fill: (reader: ObjectReader) => void,
): ValidationResult<T> {
  const mode: unknown = options?.mode ?? 'schema';
  const c = new Checker(mode === 'strict');
  if (mode !== 'schema' && mode !== 'strict') {
    // Falling back to schema would quietly drop the strict rules a caller asked for.
    c.fail(
      '',
      `unknown validation mode ${typeof mode === 'string' ? quote(mode) : describeValue(mode)}: expected "schema" or "strict"`,
    );
    return { ok: false, errors: c.errors };
  }
  try {
    const value = readObject(c, '', input, what, fill);
    if (value !== undefined && c.errors.length === 0) return { ok: true, value: value as T };
  } catch (e) {
    c.fail(
      '',
      `the input could not be read: ${e instanceof Error ? e.message : 'an unknown error was thrown'}`,
    );
  }
  return { ok: false, errors: c.errors };
}
