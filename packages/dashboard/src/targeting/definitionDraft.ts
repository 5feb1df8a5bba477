import type { JsonValue } from '@flagstaff/eval';
import type { Flag, TargetingDoc, Variation } from '../api/types.js';
import type { Problem } from './draft.js';

/*
 * The flag definition editor's model: name, description, tags, temporary, and the variations, as
 * typed, turned into the document `PATCH /projects/:p/flags/:key` edits, with every problem at its
 * path. Pure, so it is tested in Node.
 */

/** How variation values are typed: the editor offers the input that fits. */
export type ValueKind = 'boolean' | 'string' | 'number' | 'json';

export interface VariationDraft {
  /** Stable identity for rendering and for telling edits from removals. */
  id: number;
  /** The index this variation had when the flag was loaded; absent for a new one. */
  saved?: number;
  /** The value as typed: `true`/`false`, the string itself, a number, or JSON text. */
  value: string;
  name: string;
  description: string;
}

export interface DefinitionDraft {
  name: string;
  description: string;
  /** Comma-separated. */
  tags: string;
  temporary: boolean;
  kind: ValueKind;
  variations: VariationDraft[];
}

/** The part of a flag the definition patch edits (the service's `FlagDefinitionDoc`, less client-side). */
export interface DefinitionDoc {
  name: string;
  description: string;
  tags: string[];
  temporary: boolean;
  variations: Variation[];
}

export const DEFINITION_FIELDS = ['name', 'description', 'tags', 'temporary', 'variations'] as const;

export function definitionDoc(flag: Flag): DefinitionDoc {
  return {
    name: flag.name,
    description: flag.description,
    tags: flag.tags,
    temporary: flag.temporary,
    variations: flag.variations,
  };
}

/** The narrowest input that can show every value: booleans, strings and numbers get their own. */
export function valueKind(variations: readonly Variation[]): ValueKind {
  const types = new Set(variations.map((v) => typeof v.value));
  if (types.size === 1) {
    const [only] = types;
    if (only === 'boolean' || only === 'string' || only === 'number') return only;
  }
  return 'json';
}

export function valueText(kind: ValueKind, value: JsonValue): string {
  if (kind === 'string' && typeof value === 'string') return value;
  if (kind === 'json') return JSON.stringify(value, null, 2);
  return String(value);
}

let nextId = 1;
const freshId = () => nextId++;

export function toDefinitionDraft(flag: Flag): DefinitionDraft {
  const kind = valueKind(flag.variations);
  return {
    name: flag.name,
    description: flag.description,
    tags: flag.tags.join(', '),
    temporary: flag.temporary,
    kind,
    variations: flag.variations.map((v, i) => ({
      id: freshId(),
      saved: i,
      value: valueText(kind, v.value),
      name: v.name ?? '',
      description: v.description ?? '',
    })),
  };
}

/** A new variation with a value not yet taken, so adding one never starts with a duplicate. */
export function newVariation(draft: DefinitionDraft): VariationDraft {
  const taken = new Set(draft.variations.map((v) => v.value.trim()));
  let value = '';
  if (draft.kind === 'number') {
    let n = draft.variations.length;
    while (taken.has(String(n))) n++;
    value = String(n);
  } else if (draft.kind === 'json') value = '{}';
  return { id: freshId(), value, name: '', description: '' };
}

/** Reads one typed value; a problem goes to `path`. */
export function parseValue(kind: ValueKind, text: string, path: string, problems: Problem[]): JsonValue {
  switch (kind) {
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true';
      problems.push({ path, message: 'choose true or false' });
      return text;
    case 'string':
      return text;
    case 'number': {
      const n = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(n)) {
        problems.push({ path, message: `“${text}” is not a number` });
        return text;
      }
      return n;
    }
    case 'json':
      try {
        return JSON.parse(text) as JsonValue;
      } catch (err) {
        problems.push({ path, message: `not valid JSON: ${(err as Error).message}` });
        return text;
      }
  }
}

/** JSON with sorted keys: two values are the same variation when these agree (as the service decides). */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

/** Builds the definition document and reports every problem at its path (as the service would). */
export function buildDefinition(draft: DefinitionDraft): { doc: DefinitionDoc; problems: Problem[] } {
  const problems: Problem[] = [];
  const name = draft.name.trim();
  if (!name) problems.push({ path: '/name', message: 'give the flag a name' });
  else if (name.length > 256) problems.push({ path: '/name', message: 'at most 256 characters' });
  if (draft.description.length > 4096)
    problems.push({ path: '/description', message: 'at most 4096 characters' });
  const tags = parseTags(draft.tags);
  if (tags.some((t) => t.length > 64))
    problems.push({ path: '/tags', message: 'tags are at most 64 characters' });
  if (tags.length > 64) problems.push({ path: '/tags', message: 'at most 64 tags' });
  if (draft.variations.length === 0)
    problems.push({ path: '/variations', message: 'a flag needs at least one variation' });

  const seen = new Map<string, number>();
  const variations = draft.variations.map((v, i): Variation => {
    const path = `/variations/${i}/value`;
    const before = problems.length;
    const value = parseValue(draft.kind, v.value, path, problems);
    if (problems.length === before) {
      // SDKs report the variation served by value as well as index, so values must differ.
      const key = canonicalJson(value);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else problems.push({ path, message: `has the same value as variation ${first + 1}` });
    }
    if (v.name.length > 256)
      problems.push({ path: `/variations/${i}/name`, message: 'at most 256 characters' });
    if (v.description.length > 4096)
      problems.push({ path: `/variations/${i}/description`, message: 'at most 4096 characters' });
    const out: Variation = { value };
    if (v.name.trim()) out.name = v.name.trim();
    if (v.description.trim()) out.description = v.description.trim();
    return out;
  });
  return {
    doc: { name, description: draft.description.trim(), tags, temporary: draft.temporary, variations },
    problems,
  };
}

/** Where one environment's targeting serves a variation, in words ("rule 2", "the off variation"). */
export function variationUses(t: TargetingDoc, index: number): string[] {
  const uses: string[] = [];
  const serves = (s: {
    variation?: number | null;
    rollout?: { variations: { variation: number }[] } | null;
  }) => s.variation === index || (s.rollout?.variations.some((w) => w.variation === index) ?? false);
  if (t.targets.some((x) => x.variation === index) || t.contextTargets.some((x) => x.variation === index))
    uses.push('individual targets');
  t.rules.forEach((r, i) => {
    if (serves(r)) uses.push(`rule ${i + 1}`);
  });
  if (serves(t.fallthrough)) uses.push('the default rule');
  if (t.offVariation === index) uses.push('the off variation');
  return uses;
}

/**
 * Why a saved variation cannot be removed, or undefined when it can: the service refuses to remove a
 * variation any environment's targeting still serves. `envName` turns keys into names.
 */
export function removalRefusal(
  flag: Flag,
  index: number,
  envName: (key: string) => string,
): string | undefined {
  const places = Object.entries(flag.environments)
    .map(([env, t]) => [envName(env), variationUses(t, index)] as const)
    .filter(([, uses]) => uses.length > 0)
    .map(([env, uses]) => `${env} (${uses.join(', ')})`);
  if (places.length === 0) return undefined;
  return `Variation ${index + 1} cannot be removed: it is served in ${places.join('; ')}. Change the targeting there first.`;
}

/**
 * Where the service will think each saved variation went. It matches by value first, then by position
 * for values edited in place (its `variationMap`); `undefined` marks a removal.
 */
export function serviceVariationMap(
  before: readonly Variation[],
  after: readonly Variation[],
): (number | undefined)[] {
  const key = (v: Variation) => canonicalJson(v.value);
  const taken = new Set<number>();
  const map = before.map((v) => {
    const i = after.findIndex((w, j) => !taken.has(j) && key(w) === key(v));
    if (i < 0) return undefined;
    taken.add(i);
    return i;
  });
  return map.map((m, i) => {
    if (m !== undefined) return m;
    const candidate = after[i];
    if (candidate && !taken.has(i) && !before.some((v) => key(v) === key(candidate))) {
      taken.add(i);
      return i;
    }
    return undefined;
  });
}

/** Where the editor means each saved variation to go (by identity, whatever its value became). */
export function intendedVariationMap(draft: DefinitionDraft, savedCount: number): (number | undefined)[] {
  const map: (number | undefined)[] = Array.from({ length: savedCount }, () => undefined);
  draft.variations.forEach((v, i) => {
    if (v.saved !== undefined) map[v.saved] = i;
  });
  return map;
}

/**
 * A problem when the service would read the change differently from what was meant (say, a value
 * edited and another removed in one go, which it can take for the removal of the edited one):
 * targeting would follow the wrong variation, so such a change is saved in two steps.
 */
export function ambiguityProblem(
  draft: DefinitionDraft,
  saved: readonly Variation[],
  doc: DefinitionDoc,
): Problem[] {
  const intended = intendedVariationMap(draft, saved.length);
  const service = serviceVariationMap(saved, doc.variations);
  if (intended.every((m, i) => m === service[i])) return [];
  return [
    {
      path: '/variations',
      message:
        'this mixes edited values with removed or reordered variations, which the service could match up ' +
        'differently: save the value edits first, then the removal',
    },
  ];
}
