import type { Clause, Flag, FlagRule, JsonValue, Target } from '@flagstaff/eval';
import { TestDataRuleBuilder } from './testDataRuleBuilder.js';

// A boolean flag is `variations: [true, false]`, so `true` is index 0 and `false` index 1.
const TRUE_INDEX = 0;
const FALSE_INDEX = 1;

function indexOf(variation: number | boolean): number {
  if (typeof variation === 'boolean') return variation ? TRUE_INDEX : FALSE_INDEX;
  return variation;
}

interface RuleData {
  clauses: Clause[];
  variation: number;
}

/**
 * Builds a flag configuration for {@link TestData} (same API and output as LaunchDarkly's v9
 * `TestDataFlagBuilder`). Get one from `td.flag(key)`, configure it, and pass it to `td.update()`.
 * Methods that accept `true`/`false` instead of a variation index turn the flag into a boolean flag first.
 */
export class TestDataFlagBuilder {
  private readonly key: string;
  private targetingOn = true;
  private variationValues: JsonValue[] = [];
  private offIndex: number | undefined;
  private fallthroughIndex: number | undefined;
  // Variation index -> context kind -> keys. Undefined (rather than empty) after clearAllTargets, because
  // v9 then leaves `targets`/`contextTargets` out of the flag, while an empty map still emits empty lists.
  private targets: Map<number, Map<string, string[]>> | undefined;
  private rules: RuleData[] | undefined;
  private sampling: number | undefined;
  private migration: { checkRatio?: number } | undefined;

  /** A new boolean flag that is on and returns `true` (`false` when off), as `td.flag(newKey)` gives. */
  constructor(key: string) {
    this.key = key;
    this.booleanFlag();
  }

  /**
   * Makes the flag `variations(true, false)` with fallthrough `true` and off variation `false`, unless it
   * already has exactly those variations.
   */
  booleanFlag(): TestDataFlagBuilder {
    if (this.isBooleanFlag()) return this;
    return this.variations(true, false).fallthroughVariation(TRUE_INDEX).offVariation(FALSE_INDEX);
  }

  /** Sets the variation values (any JSON values). */
  variations(...values: unknown[]): TestDataFlagBuilder {
    this.variationValues = values as JsonValue[];
    return this;
  }

  /** Turns targeting on or off. */
  on(targetingOn: boolean): TestDataFlagBuilder {
    this.targetingOn = targetingOn;
    return this;
  }

  /** The variation for contexts that match no target or rule while targeting is on. */
  fallthroughVariation(variation: number | boolean): TestDataFlagBuilder {
    if (typeof variation === 'boolean') this.booleanFlag();
    this.fallthroughIndex = indexOf(variation);
    return this;
  }

  /** The variation returned while targeting is off. */
  offVariation(variation: number | boolean): TestDataFlagBuilder {
    if (typeof variation === 'boolean') this.booleanFlag();
    this.offIndex = indexOf(variation);
    return this;
  }

  /** Turns targeting on, drops targets and rules, and serves `variation` to all (off variation unchanged). */
  variationForAll(variation: number | boolean): TestDataFlagBuilder {
    return this.on(true).clearRules().clearAllTargets().fallthroughVariation(variation);
  }

  /**
   * Makes `value` the only variation and serves it to everyone. Like v9, the off variation is left as it
   * was, so turning targeting off afterwards may point it past the single variation.
   */
  valueForAll(value: unknown): TestDataFlagBuilder {
    return this.variations(value).variationForAll(0);
  }

  /** Targets the user-kind context `contextKey` (only while targeting is on). */
  variationForUser(contextKey: string, variation: number | boolean): TestDataFlagBuilder {
    return this.variationForContext('user', contextKey, variation);
  }

  /**
   * Targets the context of kind `contextKind` and key `contextKey` (only while targeting is on), removing
   * it from the targets of every other variation. As in v9, an index outside the current variations adds
   * no target but still removes the key from the others.
   */
  variationForContext(
    contextKind: string,
    contextKey: string,
    variation: number | boolean,
  ): TestDataFlagBuilder {
    if (typeof variation === 'boolean') this.booleanFlag();
    const index = indexOf(variation);
    this.targets ??= new Map();
    for (let i = 0; i < this.variationValues.length; i++) {
      const byKind = this.targets.get(i);
      const keys = byKind?.get(contextKind);
      if (i === index) {
        if (keys === undefined) {
          const forVariation = byKind ?? new Map<string, string[]>();
          forVariation.set(contextKind, [contextKey]);
          this.targets.set(i, forVariation);
        } else if (!keys.includes(contextKey)) {
          keys.push(contextKey);
        }
      } else if (byKind !== undefined && keys !== undefined) {
        const at = keys.indexOf(contextKey);
        if (at >= 0) keys.splice(at, 1);
        if (keys.length === 0) byKind.delete(contextKind);
        if (byKind.size === 0) this.targets.delete(i);
      }
    }
    return this;
  }

  /** Removes every rule. */
  clearRules(): TestDataFlagBuilder {
    this.rules = undefined;
    return this;
  }

  /** Removes every individual target. */
  clearAllTargets(): TestDataFlagBuilder {
    this.targets = undefined;
    return this;
  }

  /** Starts a rule whose first clause is "the attribute of the `contextKind` context is one of `values`". */
  ifMatch(
    contextKind: string,
    attribute: string,
    ...values: unknown[]
  ): TestDataRuleBuilder<TestDataFlagBuilder> {
    return this.newRule().andMatch(contextKind, attribute, ...values);
  }

  /** Starts a rule whose first clause is "the attribute of the `contextKind` context is none of `values`". */
  ifNotMatch(
    contextKind: string,
    attribute: string,
    ...values: unknown[]
  ): TestDataRuleBuilder<TestDataFlagBuilder> {
    return this.newRule().andNotMatch(contextKind, attribute, ...values);
  }

  /** Same as {@link ifMatch}; the name other LaunchDarkly SDKs use for kind-aware rules. */
  ifMatchContext(
    contextKind: string,
    attribute: string,
    ...values: unknown[]
  ): TestDataRuleBuilder<TestDataFlagBuilder> {
    return this.ifMatch(contextKind, attribute, ...values);
  }

  /** Same as {@link ifNotMatch}; the name other LaunchDarkly SDKs use for kind-aware rules. */
  ifNotMatchContext(
    contextKind: string,
    attribute: string,
    ...values: unknown[]
  ): TestDataRuleBuilder<TestDataFlagBuilder> {
    return this.ifNotMatch(contextKind, attribute, ...values);
  }

  /** Sets `migration.checkRatio` (migration flags). */
  checkRatio(ratio: number): TestDataFlagBuilder {
    this.migration = { ...this.migration, checkRatio: ratio };
    return this;
  }

  /** Sets the flag's event `samplingRatio`. */
  samplingRatio(ratio: number): TestDataFlagBuilder {
    this.sampling = ratio;
    return this;
  }

  /** The flag key. */
  getKey(): string {
    return this.key;
  }

  /** An independent copy: later changes to either builder do not affect the other. */
  clone(): TestDataFlagBuilder {
    const copy = new TestDataFlagBuilder(this.key);
    copy.targetingOn = this.targetingOn;
    copy.variationValues = [...this.variationValues];
    copy.offIndex = this.offIndex;
    copy.fallthroughIndex = this.fallthroughIndex;
    copy.targets =
      this.targets &&
      new Map([...this.targets].map(([i, byKind]) => [i, new Map([...byKind].map(([k, v]) => [k, [...v]]))]));
    copy.rules = this.rules?.map((rule) => ({ ...rule }));
    copy.sampling = this.sampling;
    copy.migration = this.migration && { ...this.migration };
    return copy;
  }

  /**
   * The flag JSON with version `version`, as v9 builds it: user-kind targets go to `targets` and leave a
   * placeholder (`values: []`) in `contextTargets` that keeps their place in the evaluation order; rule ids
   * are `rule0`, `rule1`, ... Nothing in the result is shared with the builder.
   */
  build(version: number): Flag {
    const flag: Flag = {
      key: this.key,
      version,
      on: this.targetingOn,
      fallthrough: { variation: this.fallthroughIndex },
      variations: structuredClone(this.variationValues),
    };
    if (this.offIndex !== undefined) flag.offVariation = this.offIndex;
    if (this.migration !== undefined) flag.migration = { ...this.migration };
    if (this.sampling !== undefined) flag.samplingRatio = this.sampling;
    if (this.targets !== undefined) {
      const userTargets: Target[] = [];
      const contextTargets: Target[] = [];
      // Ascending variation order, as v9 gets from iterating an object keyed by index.
      for (const i of [...this.targets.keys()].sort((a, b) => a - b)) {
        for (const [contextKind, keys] of this.targets.get(i) ?? []) {
          const isUser = contextKind === 'user';
          contextTargets.push({ contextKind, values: isUser ? [] : [...keys], variation: i });
          if (isUser) userTargets.push({ values: [...keys], variation: i });
        }
      }
      flag.targets = userTargets;
      flag.contextTargets = contextTargets;
    }
    if (this.rules !== undefined) {
      flag.rules = this.rules.map(
        (rule, i): FlagRule => ({
          id: `rule${i}`,
          variation: rule.variation,
          clauses: rule.clauses.map((clause) => ({ ...clause, values: structuredClone(clause.values) })),
        }),
      );
    }
    return flag;
  }

  private isBooleanFlag(): boolean {
    const values = this.variationValues;
    return values.length === 2 && values[TRUE_INDEX] === true && values[FALSE_INDEX] === false;
  }

  private newRule(): TestDataRuleBuilder<TestDataFlagBuilder> {
    return new TestDataRuleBuilder<TestDataFlagBuilder>((clauses, variation) => {
      if (typeof variation === 'boolean') this.booleanFlag();
      this.rules ??= [];
      this.rules.push({ clauses, variation: indexOf(variation) });
      return this;
    });
  }
}
