import {
  type Flag,
  type Segment,
  type ValidationResult,
  validateFlag,
  validateSegment,
} from '@flagstaff/eval';
import type { FullDataSet } from '../api/dataSource.js';
import type { YamlParser } from './yamlLoader.js';

/** Every problem found in the flag data files, one line each, as `file#/json/pointer: message`. */
export class FileDataError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(
      problems.length === 1
        ? `invalid flag data file: ${problems[0]}`
        : `invalid flag data files (${problems.length} problems):\n  ${problems.join('\n  ')}`,
    );
    this.name = 'FileDataError';
    this.problems = problems;
  }
}

export interface ParsedFile {
  path: string;
  data: unknown;
}

/**
 * Parses one data file. `.yml`/`.yaml` files are YAML; others are JSON, except that a file without the
 * `.json` extension which is not valid JSON is tried as YAML (YAML is a superset of JSON, so this only
 * widens what loads). `.json` stays strict: a typo there should be reported as a JSON error.
 * Throws an Error whose message names the file.
 */
export async function parseFile(
  path: string,
  text: string,
  getYaml: () => Promise<YamlParser>,
): Promise<unknown> {
  // Editors on Windows like to add a byte-order mark, which JSON.parse rejects.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lower = path.toLowerCase();
  if (lower.endsWith('.yml') || lower.endsWith('.yaml')) return parseYaml(path, body, await getYaml());
  try {
    return JSON.parse(body);
  } catch (err) {
    const jsonProblem = `${path}: not valid JSON (${messageOf(err)})`;
    if (lower.endsWith('.json')) throw new Error(jsonProblem);
    let yaml: YamlParser;
    try {
      yaml = await getYaml();
    } catch (yamlErr) {
      throw new Error(`${jsonProblem}; YAML was not tried: ${messageOf(yamlErr)}`);
    }
    return parseYaml(path, body, yaml);
  }
}

function parseYaml(path: string, text: string, parse: YamlParser): unknown {
  try {
    return parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid YAML (${messageOf(err)})`);
  }
}

/**
 * Merges parsed files into one data set, checking every item with the evaluation engine's schema
 * validation. Each key may be defined once across all files (flags in `flags` and `flagValues` share one
 * key space), as in v9. `previous` is the data set currently applied: `flagValues` flags keep its version
 * while their value is unchanged and get version + 1 when it changes, as in v9, so clients see updates.
 * Throws a {@link FileDataError} listing every problem.
 */
export function buildDataSet(files: ParsedFile[], previous: FullDataSet | undefined): FullDataSet {
  const problems: string[] = [];
  const flags = new Map<string, { item: Flag; where: string }>();
  const segments = new Map<string, { item: Segment; where: string }>();

  const add = <T>(
    into: Map<string, { item: T; where: string }>,
    what: string,
    key: string,
    item: T,
    where: string,
  ) => {
    const existing = into.get(key);
    if (existing !== undefined) {
      problems.push(`${where}: ${what} key "${key}" is already defined at ${existing.where}`);
    } else {
      into.set(key, { item, where });
    }
  };

  for (const { path, data } of files) {
    if (!isObject(data)) {
      problems.push(
        `${path}: expected an object with "flags", "flagValues" and/or "segments", found ${describe(data)}`,
      );
      continue;
    }
    for (const [key, raw, where] of section(path, data, 'flags', problems)) {
      const flag = checkItem(raw, key, where, validateFlag, problems);
      if (flag !== undefined) add(flags, 'flag', key, flag, where);
    }
    for (const [key, value, where] of section(path, data, 'flagValues', problems)) {
      const flag = checkItem(valueFlag(key, value, previous?.flags[key]), key, where, validateFlag, problems);
      if (flag !== undefined) add(flags, 'flag', key, flag, where);
    }
    for (const [key, raw, where] of section(path, data, 'segments', problems)) {
      const segment = checkItem(raw, key, where, validateSegment, problems);
      if (segment !== undefined) add(segments, 'segment', key, segment, where);
    }
  }
  if (problems.length > 0) throw new FileDataError(problems);
  // Object.fromEntries defines own properties, so even a key such as "__proto__" stays an ordinary entry.
  return {
    flags: Object.fromEntries([...flags].map(([key, { item }]) => [key, item])),
    segments: Object.fromEntries([...segments].map(([key, { item }]) => [key, item])),
  };
}

/** The entries of `data[name]` as [key, value, `file#/name/key`]; reports a section that is not an object. */
function section(path: string, data: Record<string, unknown>, name: string, problems: string[]) {
  const value = data[name];
  if (value === undefined || value === null) return [];
  if (!isObject(value)) {
    problems.push(
      `${path}#/${name}: expected an object keyed by ${name === 'segments' ? 'segment' : 'flag'} key, ` +
        `found ${describe(value)}`,
    );
    return [];
  }
  return Object.entries(value).map(
    ([key, item]) => [key, item, `${path}#/${name}/${pointerToken(key)}`] as const,
  );
}

/**
 * Validates one flag or segment. Hand-written files often leave out `key` and `version`, so a missing key
 * is taken from the property name and a missing version is 1 (v9 would store `undefined`, which breaks
 * version comparisons). A `key` that differs from the property name is reported: v9 silently uses the
 * inner key, which makes the file say something other than what loads.
 */
function checkItem<T>(
  raw: unknown,
  key: string,
  where: string,
  validate: (input: unknown) => ValidationResult<T>,
  problems: string[],
): T | undefined {
  let input = raw;
  if (isObject(raw)) {
    if (raw.key !== undefined && raw.key !== key) {
      problems.push(
        `${where}/key: the key ${JSON.stringify(raw.key)} differs from the property name "${key}"`,
      );
      return undefined;
    }
    input = { ...raw, key, version: raw.version ?? 1 };
  }
  const result = validate(input);
  if (result.ok) return result.value;
  for (const error of result.errors) problems.push(`${where}${error.path}: ${error.message}`);
  return undefined;
}

/** The flag v9 makes of a `flagValues` entry: on, one variation, served to everyone. */
function valueFlag(key: string, value: unknown, previous: Flag | undefined): Flag {
  let version = 1;
  if (previous !== undefined) {
    const changed = JSON.stringify(previous.variations[0]) !== JSON.stringify(value);
    version = previous.version + (changed ? 1 : 0);
  }
  return {
    key,
    version,
    on: true,
    fallthrough: { variation: 0 },
    variations: [value as Flag['variations'][number]],
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Escapes a key for a JSON Pointer (RFC 6901). */
function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
