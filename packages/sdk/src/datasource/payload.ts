import type { Flag, Segment, ValidationResult } from '@flagstaff/eval';
import { validateFlag, validateSegment } from '@flagstaff/eval';
import type { DataKindName, FullDataSet } from '../api/dataSource.js';

/** Data from the flag service that the SDK must not store: the stream reconnects, a poll retries. */
export class InvalidDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDataError';
  }
}

/** Parses JSON, turning a syntax error into an InvalidDataError that names where the text came from. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidDataError(
      `${what} is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Checks a full data set (spec §1.4: a poll body, the `data` of a stream `put`). Either map may be
 * absent; every item must pass schema validation. Items are the validator's copies, with null optional
 * properties removed as LaunchDarkly's SDKs do on ingest.
 */
export function readFullDataSet(value: unknown, what: string): FullDataSet {
  if (!isObject(value)) throw new InvalidDataError(`${what} is not a JSON object`);
  return {
    flags: readItems(value.flags, 'flags', what),
    segments: readItems(value.segments, 'segments', what),
  };
}

function readItems<K extends DataKindName>(
  value: unknown,
  kind: K,
  what: string,
): Record<string, K extends 'flags' ? Flag : Segment> {
  type Item = K extends 'flags' ? Flag : Segment;
  const items: Record<string, Item> = {};
  if (value === undefined || value === null) return items;
  if (!isObject(value)) throw new InvalidDataError(`${what}: "${kind}" is not a JSON object`);
  for (const [key, raw] of Object.entries(value)) {
    const item = readItem(kind, raw, `${what}: ${kind}[${JSON.stringify(key)}]`) as Item;
    // The map key is where the item lives (LaunchDarkly's Go SDK and Relay store it under that key).
    item.key = key;
    // defineProperty, because plain assignment of a "__proto__" key (a legal flag key) would set the
    // prototype instead of storing the item.
    Object.defineProperty(items, key, {
      value: item,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return items;
}

/** Validates one flag or segment in schema mode (shapes only, as an SDK may demand). */
export function readItem(kind: DataKindName, value: unknown, what: string): Flag | Segment {
  const result: ValidationResult<Flag | Segment> =
    kind === 'flags' ? validateFlag(value, { mode: 'schema' }) : validateSegment(value, { mode: 'schema' });
  if (result.ok) return result.value;
  const [first] = result.errors;
  const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more problems)` : '';
  const where = first?.path ? ` at ${first.path}` : '';
  throw new InvalidDataError(`${what} is invalid${where}: ${first?.message ?? 'unknown problem'}${more}`);
}

/** `/flags/<key>` or `/segments/<key>`; anything else (an unknown kind, an empty key) is undefined. */
export function parseItemPath(path: string): { kind: DataKindName; key: string } | undefined {
  for (const kind of ['flags', 'segments'] as const) {
    const prefix = `/${kind}/`;
    if (path.startsWith(prefix) && path.length > prefix.length) {
      return { kind, key: path.slice(prefix.length) };
    }
  }
  return undefined;
}
