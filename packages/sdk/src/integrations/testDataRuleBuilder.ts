import type { Clause, JsonValue } from '@flagstaff/eval';

/** Receives a finished rule: its clauses and what `thenReturn` was given. Returns the flag builder. */
export type TestDataRuleSink<BuilderType> = (clauses: Clause[], variation: number | boolean) => BuilderType;

/**
 * Builds one flag rule for {@link TestDataFlagBuilder} (same API as LaunchDarkly's v9 `TestDataRuleBuilder`).
 * Start a rule with the flag builder's `ifMatch` or `ifNotMatch`, add clauses, and finish it with
 * `thenReturn`. A rule matches when every clause matches; clauses use the `in` operator.
 */
export class TestDataRuleBuilder<BuilderType> {
  private readonly clauses: Clause[] = [];
  private readonly sink: TestDataRuleSink<BuilderType>;

  /** Created by the flag builder, which passes the function that stores the finished rule. */
  constructor(sink: TestDataRuleSink<BuilderType>) {
    this.sink = sink;
  }

  /** Adds a clause: the attribute of the context of `contextKind` is one of `values`. */
  andMatch(contextKind: string, attribute: string, ...values: unknown[]): TestDataRuleBuilder<BuilderType> {
    return this.addClause(contextKind, attribute, values, false);
  }

  /** Adds a clause: the attribute of the context of `contextKind` is none of `values`. */
  andNotMatch(
    contextKind: string,
    attribute: string,
    ...values: unknown[]
  ): TestDataRuleBuilder<BuilderType> {
    return this.addClause(contextKind, attribute, values, true);
  }

  /** Same as {@link andMatch}; the name other LaunchDarkly SDKs use for kind-aware clauses. */
  andMatchContext(
    contextKind: string,
    attribute: string,
    ...values: unknown[]
  ): TestDataRuleBuilder<BuilderType> {
    return this.andMatch(contextKind, attribute, ...values);
  }

  /** Same as {@link andNotMatch}; the name other LaunchDarkly SDKs use for kind-aware clauses. */
  andNotMatchContext(
    contextKind: string,
    attribute: string,
    ...values: unknown[]
  ): TestDataRuleBuilder<BuilderType> {
    return this.andNotMatch(contextKind, attribute, ...values);
  }

  /**
   * Finishes the rule: matching contexts get variation `variation` (an index), or `true`/`false`, which
   * also turns the flag into a boolean flag if it is not one. Returns the flag builder.
   */
  thenReturn(variation: number | boolean): BuilderType {
    return this.sink(
      this.clauses.map((clause) => ({ ...clause, values: [...clause.values] })),
      variation,
    );
  }

  private addClause(
    contextKind: string,
    attribute: string,
    values: unknown[],
    negate: boolean,
  ): TestDataRuleBuilder<BuilderType> {
    // Values are meant to be JSON; they are copied when the flag is built.
    this.clauses.push({ contextKind, attribute, op: 'in', values: values as JsonValue[], negate });
    return this;
  }
}
