import { randomBytes, randomUUID } from 'node:crypto';
import type { FlagRule, Rollout, Target, VariationOrRollout } from '@flagstaff/eval';
import type { FieldError } from './errors.js';
import type { TargetingDoc } from './schemas.js';
import type { FlagDefinition, Targeting } from './types.js';

/** Bucketing salt: random per flag and environment, so rollouts of different flags are independent. */
export const newSalt = () => randomBytes(16).toString('hex');

/** Whether the flag is a boolean flag (exactly the variations true and false). */
export function isBooleanFlag(def: Pick<FlagDefinition, 'variations'>): boolean {
  return def.variations.length === 2 && def.variations.every((v) => typeof v.value === 'boolean');
}

/** The fallthrough and off variation a new environment gets. */
export function defaultVariations(def: Pick<FlagDefinition, 'variations' | 'defaults'>): {
  onVariation: number;
  offVariation: number;
} {
  const count = def.variations.length;
  const d = def.defaults;
  if (d && d.onVariation < count && d.offVariation < count) return d;
  // Booleans are served "false" when off; other flags start with their first variation.
  return { onVariation: 0, offVariation: isBooleanFlag(def) ? count - 1 : 0 };
}

/** A flag's targeting in a new environment: off, serving the defaults. */
export function initialTargeting(def: Pick<FlagDefinition, 'variations' | 'defaults'>): Targeting {
  const { onVariation, offVariation } = defaultVariations(def);
  return {
    version: 1,
    on: false,
    prerequisites: [],
    targets: [],
    contextTargets: [],
    rules: [],
    fallthrough: { variation: onVariation },
    offVariation,
    salt: newSalt(),
    trackEvents: false,
    trackEventsFallthrough: false,
  };
}

/** Targeting as callers read and JSON-patch it: absent optional values are `null`, so `replace` works. */
export function toTargetingDoc(t: Targeting): TargetingDoc {
  return {
    on: t.on,
    prerequisites: t.prerequisites,
    targets: t.targets,
    contextTargets: t.contextTargets,
    rules: t.rules as TargetingDoc['rules'],
    fallthrough: t.fallthrough as TargetingDoc['fallthrough'],
    offVariation: t.offVariation ?? null,
    salt: t.salt,
    trackEvents: t.trackEvents,
    trackEventsFallthrough: t.trackEventsFallthrough,
    debugEventsUntilDate: t.debugEventsUntilDate ?? null,
  };
}

/** Targeting from a schema-checked document: nulls dropped, rule ids assigned. */
export function fromTargetingDoc(doc: TargetingDoc, version: number): Targeting {
  const t: Targeting = {
    version,
    on: doc.on,
    prerequisites: doc.prerequisites,
    targets: doc.targets,
    contextTargets: doc.contextTargets,
    rules: doc.rules.map((r) => cleanRule({ ...r, id: r.id ?? randomUUID() })),
    fallthrough: cleanVariationOrRollout(doc.fallthrough),
    salt: doc.salt,
    trackEvents: doc.trackEvents,
    trackEventsFallthrough: doc.trackEventsFallthrough,
  };
  if (doc.offVariation !== null && doc.offVariation !== undefined) t.offVariation = doc.offVariation;
  if (doc.debugEventsUntilDate !== null && doc.debugEventsUntilDate !== undefined) {
    t.debugEventsUntilDate = doc.debugEventsUntilDate;
  }
  return t;
}

export function cleanRule(rule: FlagRule): FlagRule {
  const out: FlagRule = { ...rule, ...cleanVariationOrRollout(rule) };
  if (out.variation === undefined) delete out.variation;
  if (out.rollout === undefined) delete out.rollout;
  return out;
}

function cleanVariationOrRollout(v: VariationOrRollout): VariationOrRollout {
  const out: VariationOrRollout = {};
  if (v.variation !== null && v.variation !== undefined) out.variation = v.variation;
  if (v.rollout) out.rollout = cleanRollout(v.rollout);
  return out;
}

function cleanRollout(rollout: Rollout): Rollout {
  const out: Rollout = { ...rollout };
  if (out.seed === null) delete out.seed;
  return out;
}

/**
 * Keeps user targets effective when other kinds are targeted: once `contextTargets` is non-empty,
 * SDKs look at user targets only through `user` placeholders there (spec §3.3). Empty entries go.
 */
export function normalizeTargets(t: Targeting): void {
  t.targets = t.targets.filter((e) => e.values.length > 0);
  const userVariations = new Set(t.targets.map((e) => e.variation));
  const isUser = (e: Target) => e.contextKind === undefined || e.contextKind === 'user';
  const others = t.contextTargets.filter((e) => !isUser(e) && e.values.length > 0);
  if (others.length === 0) {
    t.contextTargets = [];
    return;
  }
  const kept: Target[] = [];
  const placed = new Set<number>();
  for (const e of t.contextTargets) {
    if (!isUser(e)) {
      if (e.values.length > 0) kept.push(e);
    } else if (userVariations.has(e.variation) && !placed.has(e.variation)) {
      placed.add(e.variation);
      kept.push({ contextKind: 'user', values: [], variation: e.variation });
    }
  }
  // New placeholders go first: user targets keep the precedence they had before other kinds came.
  const missing: Target[] = [];
  for (const e of t.targets) {
    if (!placed.has(e.variation)) {
      placed.add(e.variation);
      missing.push({ contextKind: 'user', values: [], variation: e.variation });
    }
  }
  t.contextTargets = [...missing, ...kept];
}

/**
 * Renumbers every variation index of `t` after the flag's variations were edited (`map[old]` is the
 * new index, or undefined when that variation was removed). Uses of a removed variation are errors,
 * as paths into the composed flag JSON.
 */
export function remapVariations(
  t: Targeting,
  map: ReadonlyArray<number | undefined>,
  describe: (oldIndex: number) => string,
): { targeting: Targeting; errors: FieldError[] } {
  const out: Targeting = structuredClone(t);
  const errors: FieldError[] = [];
  const remap = (index: number, path: string): number => {
    const next = map[index];
    if (next === undefined) {
      errors.push({
        path,
        message: `uses variation ${index} (${describe(index)}), which the change removes`,
      });
      return index;
    }
    return next;
  };
  const remapVor = (v: VariationOrRollout, path: string) => {
    if (typeof v.variation === 'number') v.variation = remap(v.variation, `${path}/variation`);
    v.rollout?.variations.forEach((w, i) => {
      w.variation = remap(w.variation, `${path}/rollout/variations/${i}/variation`);
    });
  };
  out.targets.forEach((e, i) => {
    e.variation = remap(e.variation, `/targets/${i}/variation`);
  });
  out.contextTargets.forEach((e, i) => {
    e.variation = remap(e.variation, `/contextTargets/${i}/variation`);
  });
  for (const [i, r] of out.rules.entries()) remapVor(r, `/rules/${i}`);
  remapVor(out.fallthrough, '/fallthrough');
  if (out.offVariation !== undefined) out.offVariation = remap(out.offVariation, '/offVariation');
  return { targeting: out, errors };
}
