import { randomUUID } from 'node:crypto';
import type { FlagRule, Target } from '@flagstaff/eval';
import { type Static, Type } from '@sinclair/typebox';
import type { FieldError } from './errors.js';
import { quote } from './errors.js';
import {
  ClauseSchema,
  Comment,
  FlagRuleSchema,
  RolloutSchema,
  TargetSchema,
  VariationIndex,
  Version,
} from './schemas.js';
import { cleanRule, normalizeTargets } from './targetingDoc.js';
import type { Targeting } from './types.js';

/*
 * Semantic patch: LaunchDarkly's instruction names, applied to one environment's targeting. Variations
 * are named by index (this service has no variation ids). Each instruction is applied to the result of
 * the previous one; the whole list is one change, so the version grows by one however long it is.
 */

const strict = { additionalProperties: false } as const;
const kind = <K extends string>(name: K, description: string) => Type.Literal(name, { description });

const variationOrRollout = {
  variation: Type.Optional(VariationIndex),
  rollout: Type.Optional(RolloutSchema),
};
const targetsFields = {
  variation: VariationIndex,
  values: Type.Array(Type.String(), { minItems: 1, description: 'Context keys' }),
  contextKind: Type.Optional(Type.String({ description: 'Defaults to "user"' })),
};

const instructionSchemas = [
  Type.Object({ kind: kind('turnFlagOn', 'Turn targeting on') }, strict),
  Type.Object({ kind: kind('turnFlagOff', 'Turn targeting off (serve the off variation)') }, strict),
  Type.Object(
    {
      kind: kind('addRule', 'Add a rule, last or before another rule'),
      clauses: Type.Array(ClauseSchema, { minItems: 1 }),
      ...variationOrRollout,
      id: Type.Optional(Type.String({ minLength: 1, description: 'Rule id; generated when absent' })),
      beforeRuleId: Type.Optional(Type.String()),
      trackEvents: Type.Optional(Type.Boolean()),
    },
    strict,
  ),
  Type.Object({ kind: kind('removeRule', 'Remove a rule'), ruleId: Type.String() }, strict),
  Type.Object({ kind: kind('replaceRules', 'Replace all rules'), rules: Type.Array(FlagRuleSchema) }, strict),
  Type.Object(
    {
      kind: kind('reorderRules', 'Put the rules in this order'),
      ruleIds: Type.Array(Type.String(), { description: 'Every rule id, once' }),
    },
    strict,
  ),
  Type.Object(
    {
      kind: kind('updateRuleVariationOrRollout', 'Change what a rule serves'),
      ruleId: Type.String(),
      ...variationOrRollout,
    },
    strict,
  ),
  Type.Object(
    { kind: kind('addTargets', 'Serve a variation to these context keys'), ...targetsFields },
    strict,
  ),
  Type.Object({ kind: kind('removeTargets', 'Stop targeting these context keys'), ...targetsFields }, strict),
  Type.Object(
    {
      kind: kind('replaceTargets', 'Replace all individual targets'),
      targets: Type.Array(TargetSchema),
    },
    strict,
  ),
  Type.Object(
    {
      kind: kind('updateFallthroughVariationOrRollout', 'Change the default rule'),
      ...variationOrRollout,
    },
    strict,
  ),
  Type.Object(
    {
      kind: kind('updateOffVariation', 'Change the off variation (null: serve the caller default)'),
      variation: Type.Union([VariationIndex, Type.Null()]),
    },
    strict,
  ),
  Type.Object(
    {
      kind: kind('addPrerequisite', 'Require another flag to serve a variation first'),
      key: Type.String(),
      variation: VariationIndex,
    },
    strict,
  ),
  Type.Object(
    {
      kind: kind('updatePrerequisite', "Change a prerequisite's variation"),
      key: Type.String(),
      variation: VariationIndex,
    },
    strict,
  ),
  Type.Object({ kind: kind('removePrerequisite', 'Remove a prerequisite'), key: Type.String() }, strict),
] as const;

export const InstructionSchema = Type.Union([...instructionSchemas]);
export type Instruction = Static<typeof InstructionSchema>;

export const InstructionsBodySchema = Type.Object(
  {
    instructions: Type.Array(InstructionSchema, { minItems: 1, maxItems: 1000 }),
    comment: Type.Optional(Comment),
    version: Type.Optional(Version),
  },
  { ...strict, description: 'Semantic patch: LaunchDarkly instruction names, applied in order' },
);

export interface InstructionResult {
  targeting: Targeting;
  /** How validation paths of the composed flag map to the instruction: `[from, to]` prefixes. */
  paths: Array<readonly [string, string]>;
  /** Problems found applying it (unknown rule id...), as paths into the request body. */
  errors: FieldError[];
}

/**
 * Applies one instruction to a copy of `current`. `at` is the instruction's path in the request
 * (`/instructions/2`); `variationCount` is the flag's number of variations.
 */
export function applyInstruction(
  current: Targeting,
  instruction: Instruction,
  at: string,
  variationCount: number,
): InstructionResult {
  const t: Targeting = structuredClone(current);
  const paths: Array<readonly [string, string]> = [];
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ path: `${at}/${field}`, message });
  const ruleIndex = (id: string, field: string) => {
    const index = t.rules.findIndex((r) => r.id === id);
    if (index < 0) fail(field, `there is no rule with id ${quote(id)}`);
    return index;
  };
  const checkVariation = (variation: number, field: string) => {
    if (variation >= variationCount) {
      fail(field, `variation index ${variation} is out of range: the flag has ${variationCount} variations`);
      return false;
    }
    return true;
  };

  switch (instruction.kind) {
    case 'turnFlagOn':
    case 'turnFlagOff':
      t.on = instruction.kind === 'turnFlagOn';
      break;
    case 'addRule': {
      const rule = cleanRule({
        id: instruction.id ?? randomUUID(),
        clauses: instruction.clauses,
        ...pick(instruction),
        ...(instruction.trackEvents !== undefined ? { trackEvents: instruction.trackEvents } : {}),
      });
      let index = t.rules.length;
      if (instruction.beforeRuleId !== undefined) {
        index = ruleIndex(instruction.beforeRuleId, 'beforeRuleId');
        if (index < 0) break;
      }
      t.rules.splice(index, 0, rule);
      paths.push([`/rules/${index}`, at]);
      break;
    }
    case 'removeRule': {
      const index = ruleIndex(instruction.ruleId, 'ruleId');
      if (index >= 0) t.rules.splice(index, 1);
      break;
    }
    case 'replaceRules':
      t.rules = instruction.rules.map((r) => cleanRule({ ...r, id: r.id ?? randomUUID() }));
      paths.push(['/rules', `${at}/rules`]);
      break;
    case 'reorderRules': {
      const current = t.rules.map((r) => r.id ?? '');
      const wanted = instruction.ruleIds;
      const sameSet =
        wanted.length === current.length &&
        new Set(wanted).size === wanted.length &&
        wanted.every((id) => current.includes(id));
      if (!sameSet) {
        fail('ruleIds', `must list every rule id exactly once: ${current.map(quote).join(', ') || 'none'}`);
        break;
      }
      t.rules = wanted.map((id) => t.rules.find((r) => r.id === id)!);
      break;
    }
    case 'updateRuleVariationOrRollout': {
      const index = ruleIndex(instruction.ruleId, 'ruleId');
      const rule = t.rules[index];
      if (!rule) break;
      const { variation: _v, rollout: _r, ...rest } = rule;
      t.rules[index] = cleanRule({ ...rest, ...pick(instruction) });
      paths.push([`/rules/${index}`, at]);
      break;
    }
    case 'addTargets':
    case 'removeTargets': {
      if (!checkVariation(instruction.variation, 'variation')) break;
      const contextKind = instruction.contextKind ?? 'user';
      if (instruction.kind === 'addTargets') {
        addTargets(t, contextKind, instruction.variation, instruction.values);
      } else {
        removeTargets(t, contextKind, instruction.variation, instruction.values);
      }
      normalizeTargets(t);
      break;
    }
    case 'replaceTargets': {
      t.targets = [];
      t.contextTargets = [];
      instruction.targets.forEach((target, i) => {
        if (!checkVariation(target.variation, `targets/${i}/variation`)) return;
        addTargets(t, target.contextKind ?? 'user', target.variation, target.values);
      });
      normalizeTargets(t);
      break;
    }
    case 'updateFallthroughVariationOrRollout':
      t.fallthrough = pick(instruction);
      paths.push(['/fallthrough', at]);
      break;
    case 'updateOffVariation':
      if (instruction.variation === null) delete t.offVariation;
      else t.offVariation = instruction.variation;
      paths.push(['/offVariation', `${at}/variation`]);
      break;
    case 'addPrerequisite': {
      if (t.prerequisites.some((p) => p.key === instruction.key)) {
        fail('key', `flag ${quote(instruction.key)} is already a prerequisite: use updatePrerequisite`);
        break;
      }
      t.prerequisites.push({ key: instruction.key, variation: instruction.variation });
      paths.push([`/prerequisites/${t.prerequisites.length - 1}`, at]);
      break;
    }
    case 'updatePrerequisite':
    case 'removePrerequisite': {
      const index = t.prerequisites.findIndex((p) => p.key === instruction.key);
      if (index < 0) {
        fail('key', `flag ${quote(instruction.key)} is not a prerequisite`);
        break;
      }
      if (instruction.kind === 'removePrerequisite') {
        t.prerequisites.splice(index, 1);
      } else {
        t.prerequisites[index] = { key: instruction.key, variation: instruction.variation };
        paths.push([`/prerequisites/${index}`, at]);
      }
      break;
    }
  }
  return { targeting: errors.length > 0 ? current : t, paths, errors };
}

/** The variation or rollout an instruction names, as a rule or fallthrough carries it. */
function pick(instruction: { variation?: number; rollout?: FlagRule['rollout'] }): {
  variation?: number;
  rollout?: NonNullable<FlagRule['rollout']>;
} {
  const out: { variation?: number; rollout?: NonNullable<FlagRule['rollout']> } = {};
  if (instruction.variation !== undefined) out.variation = instruction.variation;
  if (instruction.rollout) out.rollout = instruction.rollout;
  return out;
}

/** The list a kind's targets live in: `targets` for users, `contextTargets` for other kinds (spec §1.1). */
function listFor(t: Targeting, contextKind: string): Target[] {
  return contextKind === 'user' ? t.targets : t.contextTargets;
}

function sameKind(target: Target, contextKind: string): boolean {
  return contextKind === 'user' ? true : target.contextKind === contextKind;
}

/** A context key is served one variation: adding it to one removes it from the others. */
function addTargets(t: Targeting, contextKind: string, variation: number, values: string[]): void {
  const list = listFor(t, contextKind);
  for (const target of list) {
    if (sameKind(target, contextKind) && target.variation !== variation) {
      target.values = target.values.filter((v) => !values.includes(v));
    }
  }
  let entry = list.find((e) => sameKind(e, contextKind) && e.variation === variation);
  if (!entry) {
    entry = contextKind === 'user' ? { values: [], variation } : { contextKind, values: [], variation };
    list.push(entry);
  }
  for (const value of values) if (!entry.values.includes(value)) entry.values.push(value);
}

function removeTargets(t: Targeting, contextKind: string, variation: number, values: string[]): void {
  for (const target of listFor(t, contextKind)) {
    if (sameKind(target, contextKind) && target.variation === variation) {
      target.values = target.values.filter((v) => !values.includes(v));
    }
  }
}
