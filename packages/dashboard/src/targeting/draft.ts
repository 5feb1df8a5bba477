import type { Clause, Flag, FlagRule, JsonValue, Rollout, Target } from '@flagstaff/eval';
import { parseSemVer } from '@flagstaff/eval';
import type { RuleDoc, ServeDoc, TargetingDoc, Variation } from '../api/types.js';
import { stableJson } from '../lib/diff.js';
import { operatorInfo } from './operators.js';

/*
 * The targeting editor's model. Form fields hold text as typed (values one per line, percentages), so
 * a half-typed value never disappears; `buildTargeting` turns a draft into the targeting document
 * and reports every problem at a path the form shows next to its field. Pure: tested in Node.
 */

export interface Problem {
  path: string;
  message: string;
}

/** How a clause's `in` values are read: typed (numbers and booleans as such) or all as text. */
export type InMode = 'typed' | 'text';

export interface ClauseDraft {
  contextKind: string;
  attribute: string;
  op: string;
  negate: boolean;
  values: string;
  inMode: InMode;
}

export interface ServeDraft {
  mode: 'variation' | 'rollout';
  variation: number;
  /** Percentages as typed, one per variation. */
  percents: string[];
  bucketBy: string;
  contextKind: string;
  /** Kept from the document: the editor does not change these. */
  extra?: Pick<Rollout, 'kind' | 'seed'>;
}

export interface RuleDraft {
  id?: string;
  description: string;
  clauses: ClauseDraft[];
  serve: ServeDraft;
  trackEvents: boolean;
}

export interface TargetDraft {
  contextKind: string;
  variation: number;
  values: string;
}

export interface TargetingDraft {
  on: boolean;
  prerequisites: { key: string; variation: number }[];
  targets: TargetDraft[];
  rules: RuleDraft[];
  fallthrough: ServeDraft;
  offVariation: number | null;
}

const WEIGHT_SCALE = 100_000;

export const newClause = (): ClauseDraft => ({
  contextKind: 'user',
  attribute: 'key',
  op: 'in',
  negate: false,
  values: '',
  inMode: 'typed',
});

export const newServe = (variationCount: number, variation = 0): ServeDraft => ({
  mode: 'variation',
  variation,
  percents: evenPercents(variationCount),
  bucketBy: '',
  contextKind: '',
});

export const newRule = (variationCount: number): RuleDraft => ({
  description: '',
  clauses: [newClause()],
  serve: newServe(variationCount),
  trackEvents: false,
});

/** An even split that adds up to exactly 100 (the remainder goes to the first variations). */
export function evenPercents(count: number): string[] {
  if (count <= 0) return [];
  const base = Math.floor(WEIGHT_SCALE / count);
  let rest = WEIGHT_SCALE - base * count;
  return Array.from({ length: count }, () => {
    const weight = base + (rest-- > 0 ? 1 : 0);
    return weightToPercent(weight);
  });
}

export const weightToPercent = (weight: number) => String(Number((weight / 1000).toFixed(3)));

/** Parses a percentage with at most three decimals (LaunchDarkly weights are thousandths of a percent). */
export function percentToWeight(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{1,3}(\.\d{1,3})?$/.test(t)) return undefined;
  const weight = Math.round(Number(t) * 1000);
  return weight <= WEIGHT_SCALE ? weight : undefined;
}

/** The sum of the typed percentages, or undefined while one is not a valid percentage. */
export function percentTotal(percents: readonly string[]): number | undefined {
  let total = 0;
  for (const p of percents) {
    const w = percentToWeight(p);
    if (w === undefined) return undefined;
    total += w;
  }
  return total / 1000;
}

function serveDraft(doc: ServeDoc, variationCount: number): ServeDraft {
  if (doc.rollout) {
    const percents = Array.from({ length: variationCount }, () => '0');
    for (const wv of doc.rollout.variations) {
      if (wv.variation >= 0 && wv.variation < variationCount)
        percents[wv.variation] = weightToPercent(wv.weight);
    }
    const extra: ServeDraft['extra'] = {};
    if (doc.rollout.kind !== undefined) extra.kind = doc.rollout.kind;
    if (doc.rollout.seed !== undefined && doc.rollout.seed !== null) extra.seed = doc.rollout.seed;
    return {
      mode: 'rollout',
      variation: 0,
      percents,
      bucketBy: doc.rollout.bucketBy ?? '',
      contextKind: doc.rollout.contextKind ?? '',
      extra,
    };
  }
  return newServe(variationCount, doc.variation ?? 0);
}

function valueToLine(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function clauseDraft(clause: Clause): ClauseDraft {
  // `in` values that are all strings but would read as numbers or booleans must stay text.
  const looksTyped = (v: JsonValue) => typeof v === 'string' && readTyped(v) !== v;
  const inMode: InMode =
    clause.op === 'in' && clause.values.some((v) => looksTyped(v) || v === '') ? 'text' : 'typed';
  return {
    contextKind: clause.contextKind ?? 'user',
    attribute: clause.attribute ?? '',
    op: clause.op,
    negate: clause.negate ?? false,
    values: clause.values.map(valueToLine).join('\n'),
    inMode,
  };
}

export function toDraft(doc: TargetingDoc, variationCount: number): TargetingDraft {
  const targets: TargetDraft[] = [];
  const userTargets = new Map(doc.targets.map((t) => [t.variation, t.values]));
  const placed = new Set<number>();
  // contextTargets carries the order across kinds; its user entries are placeholders for `targets`.
  for (const t of doc.contextTargets) {
    const kind = t.contextKind ?? 'user';
    if (kind === 'user') {
      const values = userTargets.get(t.variation);
      if (values && !placed.has(t.variation)) {
        placed.add(t.variation);
        targets.push({ contextKind: 'user', variation: t.variation, values: values.join('\n') });
      }
    } else targets.push({ contextKind: kind, variation: t.variation, values: t.values.join('\n') });
  }
  for (const t of doc.targets) {
    if (!placed.has(t.variation))
      targets.push({ contextKind: 'user', variation: t.variation, values: t.values.join('\n') });
  }
  return {
    on: doc.on,
    prerequisites: doc.prerequisites.map((p) => ({ ...p })),
    targets,
    rules: doc.rules.map((r) => ({
      ...(r.id !== undefined ? { id: r.id } : {}),
      description: r.description ?? '',
      clauses: r.clauses.map(clauseDraft),
      serve: serveDraft(r, variationCount),
      trackEvents: r.trackEvents ?? false,
    })),
    fallthrough: serveDraft(doc.fallthrough, variationCount),
    offVariation: doc.offVariation,
  };
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** A typed `in` value: numbers and booleans become such, anything else stays text. */
function readTyped(line: string): JsonValue {
  if (line === 'true') return true;
  if (line === 'false') return false;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(line)) return Number(line);
  return line;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Reads a clause's values for its operator; problems go to `path/values`. */
export function buildClause(draft: ClauseDraft, path: string, problems: Problem[]): Clause {
  const info = operatorInfo(draft.op);
  if (!info) problems.push({ path: `${path}/op`, message: `choose an operator ("${draft.op}" is not one)` });
  if (draft.attribute.trim() === '' && draft.op !== 'segmentMatch') {
    problems.push({ path: `${path}/attribute`, message: 'name the attribute to compare, e.g. key or email' });
  }
  if (draft.contextKind.trim() === '' && draft.op !== 'segmentMatch') {
    problems.push({ path: `${path}/contextKind`, message: 'name the context kind, e.g. user' });
  }
  const raw = lines(draft.values);
  if (raw.length === 0) problems.push({ path: `${path}/values`, message: 'give at least one value' });
  const values: JsonValue[] = [];
  raw.forEach((line, i) => {
    const at = `${path}/values`;
    switch (info?.kind) {
      case 'number': {
        const n = Number(line);
        if (!Number.isFinite(n) || line === '')
          problems.push({ path: at, message: `line ${i + 1}: "${line}" is not a number` });
        values.push(n);
        break;
      }
      case 'date': {
        if (/^-?\d+$/.test(line)) values.push(Number(line));
        else if (RFC3339.test(line) && !Number.isNaN(Date.parse(line))) values.push(line);
        else {
          problems.push({
            path: at,
            message: `line ${i + 1}: "${line}" is neither epoch milliseconds nor an RFC 3339 date-time`,
          });
          values.push(line);
        }
        break;
      }
      case 'semver':
        if (!parseSemVer(line))
          problems.push({ path: at, message: `line ${i + 1}: "${line}" is not a semantic version` });
        values.push(line);
        break;
      case 'regex':
        try {
          new RegExp(line);
        } catch {
          problems.push({ path: at, message: `line ${i + 1}: "${line}" is not a valid regular expression` });
        }
        values.push(line);
        break;
      case 'any':
        values.push(draft.inMode === 'text' ? line : readTyped(line));
        break;
      default:
        values.push(line);
    }
  });
  const clause: Clause = { attribute: draft.attribute.trim(), op: draft.op, values };
  // Written only when set, as the API and LaunchDarkly write it: an unchanged rule diffs clean.
  if (draft.negate) clause.negate = true;
  if (draft.op === 'segmentMatch') {
    // Segment clauses ignore the attribute and kind; LaunchDarkly writes them as user/"segmentMatch".
    clause.attribute = 'segmentMatch';
    clause.contextKind = 'user';
  } else clause.contextKind = draft.contextKind.trim();
  return clause;
}

/** Reads a serve choice (variation or rollout); a rollout's percentages must add up to exactly 100. */
export function buildServe(
  draft: ServeDraft,
  variationCount: number,
  path: string,
  problems: Problem[],
): ServeDoc {
  if (draft.mode === 'variation') {
    if (!(draft.variation >= 0 && draft.variation < variationCount)) {
      problems.push({ path: `${path}/variation`, message: 'choose a variation' });
    }
    return { variation: draft.variation };
  }
  const variations: { variation: number; weight: number }[] = [];
  let total = 0;
  draft.percents.slice(0, variationCount).forEach((p, i) => {
    const weight = percentToWeight(p === '' ? '0' : p);
    if (weight === undefined) {
      problems.push({
        path: `${path}/rollout/${i}`,
        message: `"${p}" is not a percentage between 0 and 100 with at most three decimals`,
      });
    } else {
      total += weight;
      variations.push({ variation: i, weight });
    }
  });
  if (variations.length === variationCount && total !== WEIGHT_SCALE) {
    problems.push({
      path: `${path}/rollout`,
      message: `the percentages add up to ${Number((total / 1000).toFixed(3))}%, not 100%`,
    });
  }
  const rollout: Rollout = { variations, ...(draft.extra ?? {}) };
  if (draft.bucketBy.trim()) rollout.bucketBy = draft.bucketBy.trim();
  if (draft.contextKind.trim()) rollout.contextKind = draft.contextKind.trim();
  return { rollout };
}

/**
 * The targeting document a draft describes, on top of `base` (salt, tracking flags and the like are
 * kept), or the problems that keep it from being saved.
 */
export function buildTargeting(
  draft: TargetingDraft,
  base: TargetingDoc,
  variationCount: number,
): { doc: TargetingDoc; problems: Problem[] } {
  const problems: Problem[] = [];
  const prereqKeys = new Set<string>();
  draft.prerequisites.forEach((p, i) => {
    if (!p.key) problems.push({ path: `/prerequisites/${i}/key`, message: 'choose a flag' });
    else if (prereqKeys.has(p.key))
      problems.push({ path: `/prerequisites/${i}/key`, message: `"${p.key}" is already a prerequisite` });
    prereqKeys.add(p.key);
  });

  // Individual targets: user keys go to `targets`; other kinds to `contextTargets`, where user entries
  // become placeholders so that SDKs keep honouring user targets in the order shown (spec §3.3).
  const merged = new Map<string, { contextKind: string; variation: number; values: string[] }>();
  const seenKeys = new Map<string, number>();
  draft.targets.forEach((t, i) => {
    const kind = t.contextKind.trim();
    if (!kind)
      problems.push({ path: `/targets/${i}/contextKind`, message: 'name the context kind, e.g. user' });
    if (!(t.variation >= 0 && t.variation < variationCount))
      problems.push({ path: `/targets/${i}/variation`, message: 'choose a variation' });
    const values = lines(t.values);
    if (values.length === 0)
      problems.push({
        path: `/targets/${i}/values`,
        message: 'give at least one context key, or remove this target',
      });
    for (const key of values) {
      const id = `${kind}\u0000${key}`;
      const other = seenKeys.get(id);
      if (other !== undefined && other !== t.variation) {
        problems.push({
          path: `/targets/${i}/values`,
          message: `${kind} "${key}" is already targeted with another variation`,
        });
      }
      seenKeys.set(id, t.variation);
    }
    const id = `${kind}\u0000${t.variation}`;
    const entry = merged.get(id) ?? { contextKind: kind, variation: t.variation, values: [] };
    for (const v of values) if (!entry.values.includes(v)) entry.values.push(v);
    merged.set(id, entry);
  });
  const entries = [...merged.values()];
  const targets: Target[] = entries
    .filter((e) => e.contextKind === 'user')
    .map((e) => ({ values: e.values, variation: e.variation }));
  const hasOtherKinds = entries.some((e) => e.contextKind !== 'user');
  const contextTargets: Target[] = hasOtherKinds
    ? entries.map((e) =>
        e.contextKind === 'user'
          ? { contextKind: 'user', values: [], variation: e.variation }
          : { contextKind: e.contextKind, values: e.values, variation: e.variation },
      )
    : [];

  const rules: RuleDoc[] = draft.rules.map((r, i) => {
    const path = `/rules/${i}`;
    if (r.clauses.length === 0)
      problems.push({ path: `${path}/clauses`, message: 'a rule needs at least one condition' });
    const rule: RuleDoc = {
      ...(r.id !== undefined ? { id: r.id } : {}),
      clauses: r.clauses.map((c, j) => buildClause(c, `${path}/clauses/${j}`, problems)),
      ...buildServe(r.serve, variationCount, path, problems),
    };
    if (r.trackEvents) rule.trackEvents = true;
    if (r.description.trim()) rule.description = r.description.trim();
    return rule;
  });
  const fallthrough = buildServe(draft.fallthrough, variationCount, '/fallthrough', problems);
  if (draft.offVariation !== null && !(draft.offVariation >= 0 && draft.offVariation < variationCount)) {
    problems.push({ path: '/offVariation', message: 'choose a variation' });
  }
  const { version: _v, ...rest } = base;
  return {
    doc: {
      ...rest,
      version: base.version,
      on: draft.on,
      prerequisites: draft.prerequisites.map((p) => ({ key: p.key, variation: p.variation })),
      targets,
      contextTargets,
      rules,
      fallthrough,
      offVariation: draft.offVariation,
    },
    problems,
  };
}

/** The fields of the targeting document that the editor changes. */
export const EDITED_FIELDS = [
  'on',
  'prerequisites',
  'targets',
  'contextTargets',
  'rules',
  'fallthrough',
  'offVariation',
] as const;

/** The document without its version, as the audit log and diff show it. */
export function editable(doc: TargetingDoc): Omit<TargetingDoc, 'version'> {
  const { version: _v, ...rest } = doc;
  return rest;
}

/** A flag in LaunchDarkly's JSON (what SDKs evaluate), composed the way the service composes it. */
export function composeFlag(
  key: string,
  variations: readonly Variation[],
  doc: TargetingDoc,
  clientSideAvailability?: { usingMobileKey: boolean; usingEnvironmentId: boolean },
): Flag {
  const flag: Flag = {
    key,
    version: doc.version,
    on: doc.on,
    variations: variations.map((v) => v.value),
    prerequisites: doc.prerequisites,
    targets: doc.targets,
    contextTargets: doc.contextTargets,
    rules: doc.rules.map((r) => {
      const rule: FlagRule = {
        clauses: r.clauses,
        trackEvents: r.trackEvents ?? false,
      };
      if (r.id !== undefined) rule.id = r.id;
      if (r.variation !== undefined && r.variation !== null) rule.variation = r.variation;
      if (r.rollout) rule.rollout = r.rollout;
      return rule;
    }),
    fallthrough: doc.fallthrough.rollout
      ? { rollout: doc.fallthrough.rollout }
      : { variation: doc.fallthrough.variation ?? null },
    offVariation: doc.offVariation,
    salt: doc.salt,
    trackEvents: doc.trackEvents,
    trackEventsFallthrough: doc.trackEventsFallthrough,
  };
  if (clientSideAvailability) flag.clientSideAvailability = clientSideAvailability;
  return flag;
}

/** JSON Patch `replace` operations for the top-level fields that differ (key order aside). */
export function replaceOps<T extends object>(before: T, after: T, fields: readonly (keyof T & string)[]) {
  return fields
    .filter((f) => stableJson(before[f]) !== stableJson(after[f]))
    .map((f) => ({ op: 'replace' as const, path: `/${f}`, value: after[f] }));
}
