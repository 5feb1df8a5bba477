import { type Clause, validateFlag, validateSegment } from '@flagstaff/eval';
import type { StorageReader } from '../storage/types.js';
import { composeFlag, composeSegment } from './compose.js';
import type { FieldError } from './errors.js';
import { quote } from './errors.js';
import { flagId, segmentId, targetingId } from './ids.js';
import type { FlagDefinition, SegmentDoc, Targeting } from './types.js';

/*
 * The last gate before anything reaches an SDK: the composed LaunchDarkly JSON must pass
 * `@flagstaff/eval`'s strict validation, and what it refers to (prerequisite flags, segments) must
 * exist without forming a cycle, which evaluation would otherwise report as MALFORMED_FLAG.
 * Paths are JSON Pointers into the composed flag or segment JSON; callers map them to their request.
 */

/** Reads referenced documents once per validation, seeing the writes of the same transaction. */
export class References {
  private readonly defs = new Map<string, FlagDefinition | undefined>();
  private readonly targetings = new Map<string, Targeting | undefined>();
  private readonly segments = new Map<string, SegmentDoc | undefined>();

  constructor(
    readonly reader: StorageReader,
    readonly projectKey: string,
  ) {}

  /** Makes later lookups see a change that is being validated but not yet written. */
  assumeTargeting(envKey: string, flagKey: string, targeting: Targeting): void {
    this.targetings.set(`${envKey}/${flagKey}`, targeting);
  }

  assumeDefinition(def: FlagDefinition): void {
    this.defs.set(def.key, def);
  }

  assumeSegment(segment: SegmentDoc): void {
    this.segments.set(`${segment.envKey}/${segment.key}`, segment);
  }

  async definition(key: string): Promise<FlagDefinition | undefined> {
    if (!this.defs.has(key)) {
      const doc = await this.reader.get<FlagDefinition>('flags', flagId(this.projectKey, key));
      this.defs.set(key, doc?.value);
    }
    return this.defs.get(key);
  }

  async targeting(envKey: string, key: string): Promise<Targeting | undefined> {
    const id = `${envKey}/${key}`;
    if (!this.targetings.has(id)) {
      const doc = await this.reader.get<Targeting>('targeting', targetingId(this.projectKey, envKey, key));
      this.targetings.set(id, doc?.value);
    }
    return this.targetings.get(id);
  }

  async segment(envKey: string, key: string): Promise<SegmentDoc | undefined> {
    const id = `${envKey}/${key}`;
    if (!this.segments.has(id)) {
      const doc = await this.reader.get<SegmentDoc>('segments', segmentId(this.projectKey, envKey, key));
      this.segments.set(id, doc?.value);
    }
    return this.segments.get(id);
  }
}

/** Every problem of a flag in one environment, as paths into its composed LaunchDarkly JSON. */
export async function checkFlag(
  refs: References,
  envKey: string,
  def: FlagDefinition,
  targeting: Targeting,
): Promise<FieldError[]> {
  const composed = composeFlag({ ...def, archived: false }, targeting);
  const result = validateFlag(composed, { mode: 'strict' });
  const errors: FieldError[] = result.ok ? [] : [...result.errors];
  refs.assumeTargeting(envKey, def.key, targeting);
  refs.assumeDefinition(def);

  for (const [i, prerequisite] of targeting.prerequisites.entries()) {
    const at = `/prerequisites/${i}`;
    if (prerequisite.key === def.key) continue; // the strict validation already names this
    const other = await refs.definition(prerequisite.key);
    if (!other) {
      errors.push({ path: `${at}/key`, message: `flag ${quote(prerequisite.key)} does not exist` });
      continue;
    }
    if (other.archived) {
      errors.push({ path: `${at}/key`, message: `flag ${quote(prerequisite.key)} is archived` });
    }
    if (prerequisite.variation >= other.variations.length) {
      errors.push({
        path: `${at}/variation`,
        message: `variation index ${prerequisite.variation} is out of range: flag ${quote(prerequisite.key)} has ${other.variations.length} variations`,
      });
    }
    const cycle = await prerequisiteCycle(refs, envKey, def.key, prerequisite.key);
    if (cycle) {
      errors.push({ path: `${at}/key`, message: `prerequisites form a cycle: ${cycle.join(' → ')}` });
    }
  }

  for (const [i, rule] of targeting.rules.entries()) {
    await checkSegmentRefs(refs, envKey, rule.clauses ?? [], `/rules/${i}/clauses`, errors);
  }
  return errors;
}

/** The chain from `start` back to `origin` through prerequisites in `envKey`, if there is one. */
async function prerequisiteCycle(
  refs: References,
  envKey: string,
  origin: string,
  start: string,
): Promise<string[] | undefined> {
  const seen = new Set<string>();
  const walk = async (key: string, chain: string[]): Promise<string[] | undefined> => {
    if (key === origin) return [...chain, key];
    if (seen.has(key)) return undefined;
    seen.add(key);
    const targeting = await refs.targeting(envKey, key);
    for (const next of targeting?.prerequisites ?? []) {
      const found = await walk(next.key, [...chain, key]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, [origin]);
}

async function checkSegmentRefs(
  refs: References,
  envKey: string,
  clauses: readonly Clause[],
  at: string,
  errors: FieldError[],
): Promise<void> {
  for (const [j, clause] of clauses.entries()) {
    if (clause.op !== 'segmentMatch' || !Array.isArray(clause.values)) continue;
    for (const [k, key] of clause.values.entries()) {
      if (typeof key !== 'string') continue; // the strict validation names these
      const segment = await refs.segment(envKey, key);
      const path = `${at}/${j}/values/${k}`;
      if (!segment) {
        errors.push({
          path,
          message: `segment ${quote(key)} does not exist in environment ${quote(envKey)}`,
        });
      } else if (segment.archived) {
        errors.push({ path, message: `segment ${quote(key)} is archived` });
      }
    }
  }
}

/** Every problem of a segment, as paths into its LaunchDarkly JSON. */
export async function checkSegment(refs: References, segment: SegmentDoc): Promise<FieldError[]> {
  const result = validateSegment(composeSegment({ ...segment, archived: false }), { mode: 'strict' });
  const errors: FieldError[] = result.ok ? [] : [...result.errors];
  refs.assumeSegment(segment);
  for (const [i, rule] of segment.rules.entries()) {
    const at = `/rules/${i}/clauses`;
    const before = errors.length;
    await checkSegmentRefs(refs, segment.envKey, rule.clauses ?? [], at, errors);
    if (errors.length > before) continue;
    for (const [j, clause] of (rule.clauses ?? []).entries()) {
      if (clause.op !== 'segmentMatch') continue;
      for (const [k, key] of clause.values.entries()) {
        if (typeof key !== 'string' || key === segment.key) continue;
        const cycle = await segmentCycle(refs, segment.envKey, segment.key, key);
        if (cycle) {
          errors.push({
            path: `${at}/${j}/values/${k}`,
            message: `segments refer to each other in a cycle: ${cycle.join(' → ')}`,
          });
        }
      }
    }
  }
  return errors;
}

async function segmentCycle(
  refs: References,
  envKey: string,
  origin: string,
  start: string,
): Promise<string[] | undefined> {
  const seen = new Set<string>();
  const walk = async (key: string, chain: string[]): Promise<string[] | undefined> => {
    if (key === origin) return [...chain, key];
    if (seen.has(key)) return undefined;
    seen.add(key);
    const segment = await refs.segment(envKey, key);
    for (const rule of segment?.rules ?? []) {
      for (const clause of rule.clauses ?? []) {
        if (clause.op !== 'segmentMatch') continue;
        for (const next of clause.values) {
          if (typeof next !== 'string') continue;
          const found = await walk(next, [...chain, key]);
          if (found) return found;
        }
      }
    }
    return undefined;
  };
  return walk(start, [origin]);
}

/** Rewrites error paths by the first matching prefix: `[from, to]` pairs, e.g. `/rules/2` → `/instructions/0`. */
export function mapPaths(
  errors: readonly FieldError[],
  prefixes: ReadonlyArray<readonly [string, string]>,
  fallback?: (e: FieldError) => FieldError,
): FieldError[] {
  return errors.map((e) => {
    for (const [from, to] of prefixes) {
      if (e.path === from || e.path.startsWith(`${from}/`)) {
        return { path: to + e.path.slice(from.length), message: e.message };
      }
    }
    return fallback ? fallback(e) : e;
  });
}
