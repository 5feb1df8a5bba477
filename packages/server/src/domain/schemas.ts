import type { JsonValue } from '@flagstaff/eval';
import { type Static, type TUnsafe, Type } from '@sinclair/typebox';

/*
 * JSON Schemas (TypeBox) of what callers send: request bodies, and the documents JSON Patch edits,
 * which are checked again after patching. The API layer validates requests with them and publishes
 * them in the OpenAPI document; the domain layer checks patched documents with the same schemas, so
 * both paths refuse exactly the same shapes. Semantic rules (variation indexes, operators, regular
 * expressions...) are left to `@flagstaff/eval`'s strict validation of the composed flag.
 */

const strict = { additionalProperties: false } as const;

/** Any JSON value. Checked as `unknown` (a parsed body holds only JSON), typed as JSON for the code. */
export const JsonValueSchema = (description = 'Any JSON value') =>
  Type.Unknown({ description }) as unknown as TUnsafe<JsonValue>;

/** Keys appear in URLs and document ids, so they are held to LaunchDarkly's key alphabet. */
export const KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
const KEY_MESSAGE = 'must start with a letter or digit and contain only letters, digits, ".", "_" and "-"';

export const Key = (description: string) =>
  Type.String({
    pattern: KEY_PATTERN,
    minLength: 1,
    maxLength: 256,
    description,
    'x-pattern-message': KEY_MESSAGE,
  });

export const Name = (description = 'Human-readable name') =>
  Type.String({ minLength: 1, maxLength: 256, description });
export const Description = Type.String({ maxLength: 4096, description: 'Free text' });
export const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  uniqueItems: true,
  maxItems: 64,
  description: 'Labels to filter by',
});
export const Comment = Type.String({ maxLength: 4096, description: 'Why the change was made (audit log)' });
export const Version = Type.Integer({
  minimum: 1,
  description: 'The version the change was based on; a different current version answers 409',
});
export const Color = Type.String({ pattern: '^[0-9a-fA-F]{6}$', description: 'RGB hex, e.g. "ff8800"' });

// LaunchDarkly's flag building blocks (spec §1.2).

export const ClauseSchema = Type.Object(
  {
    contextKind: Type.Optional(Type.String({ description: 'Context kind; absent means "user"' })),
    attribute: Type.Optional(Type.String({ description: 'Attribute name, or reference when a kind is set' })),
    op: Type.String({
      description:
        'in, startsWith, endsWith, contains, matches, lessThan, lessThanOrEqual, greaterThan, ' +
        'greaterThanOrEqual, before, after, semVerEqual, semVerLessThan, semVerGreaterThan, segmentMatch',
    }),
    values: Type.Array(JsonValueSchema('A clause value')),
    negate: Type.Optional(Type.Boolean()),
  },
  strict,
);

export const WeightedVariationSchema = Type.Object(
  {
    variation: Type.Integer({ minimum: 0 }),
    weight: Type.Integer({ minimum: 0, maximum: 100000, description: 'In 1/100000 (100000 = 100%)' }),
    untracked: Type.Optional(Type.Boolean()),
  },
  strict,
);

export const RolloutSchema = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('rollout'), Type.Literal('experiment')])),
    contextKind: Type.Optional(Type.String()),
    bucketBy: Type.Optional(Type.String()),
    variations: Type.Array(WeightedVariationSchema, { minItems: 1 }),
    seed: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  },
  strict,
);

export const VariationIndex = Type.Integer({ minimum: 0, description: 'Index into the flag variations' });

export const VariationOrRolloutSchema = Type.Object(
  { variation: Type.Optional(VariationIndex), rollout: Type.Optional(RolloutSchema) },
  { ...strict, description: 'Exactly one of variation or rollout' },
);

export const FlagRuleSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, description: 'Generated when absent' })),
    clauses: Type.Array(ClauseSchema),
    variation: Type.Optional(VariationIndex),
    rollout: Type.Optional(RolloutSchema),
    trackEvents: Type.Optional(Type.Boolean()),
  },
  strict,
);

export const TargetSchema = Type.Object(
  {
    contextKind: Type.Optional(Type.String()),
    values: Type.Array(Type.String()),
    variation: VariationIndex,
  },
  strict,
);

export const PrerequisiteSchema = Type.Object({ key: Type.String(), variation: VariationIndex }, strict);

/** A flag's targeting in one environment as JSON Patch edits it (LaunchDarkly's field names). */
export const TargetingDocSchema = Type.Object(
  {
    on: Type.Boolean(),
    prerequisites: Type.Array(PrerequisiteSchema),
    targets: Type.Array(TargetSchema, { description: 'User targets' }),
    contextTargets: Type.Array(TargetSchema, { description: 'Targets of other context kinds' }),
    rules: Type.Array(FlagRuleSchema),
    fallthrough: VariationOrRolloutSchema,
    offVariation: Type.Optional(Type.Union([VariationIndex, Type.Null()])),
    salt: Type.String(),
    trackEvents: Type.Boolean(),
    trackEventsFallthrough: Type.Boolean(),
    debugEventsUntilDate: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  },
  strict,
);
export type TargetingDoc = Static<typeof TargetingDocSchema>;

export const VariationSchema = Type.Object(
  {
    value: JsonValueSchema(),
    name: Type.Optional(Type.String({ maxLength: 256 })),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  strict,
);

export const ClientSideAvailabilitySchema = Type.Object(
  { usingMobileKey: Type.Boolean(), usingEnvironmentId: Type.Boolean() },
  strict,
);

/** The part of a flag shared by all environments, as JSON Patch edits it. */
export const FlagDefinitionDocSchema = Type.Object(
  {
    name: Name(),
    description: Description,
    tags: Tags,
    temporary: Type.Boolean(),
    variations: Type.Array(VariationSchema, { minItems: 1, maxItems: 1000 }),
    clientSideAvailability: ClientSideAvailabilitySchema,
  },
  strict,
);
export type FlagDefinitionDoc = Static<typeof FlagDefinitionDocSchema>;

export const SegmentTargetSchema = Type.Object(
  { contextKind: Type.String(), values: Type.Array(Type.String()) },
  strict,
);

export const SegmentRuleSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, description: 'Generated when absent' })),
    clauses: Type.Array(ClauseSchema),
    weight: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 100000 }), Type.Null()])),
    bucketBy: Type.Optional(Type.String()),
    rolloutContextKind: Type.Optional(Type.String()),
  },
  strict,
);

const segmentFields = {
  included: Type.Array(Type.String(), { description: 'User keys always in the segment' }),
  excluded: Type.Array(Type.String(), { description: 'User keys always out of the segment' }),
  includedContexts: Type.Array(SegmentTargetSchema),
  excludedContexts: Type.Array(SegmentTargetSchema),
  rules: Type.Array(SegmentRuleSchema),
};

/** A segment as JSON Patch edits it. */
export const SegmentDocSchema = Type.Object(
  { name: Name(), description: Description, tags: Tags, ...segmentFields },
  strict,
);
export type SegmentEditable = Static<typeof SegmentDocSchema>;

export const SegmentCreateSchema = Type.Object(
  {
    key: Key('Segment key, unique in the environment'),
    name: Name(),
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    included: Type.Optional(segmentFields.included),
    excluded: Type.Optional(segmentFields.excluded),
    includedContexts: Type.Optional(segmentFields.includedContexts),
    excludedContexts: Type.Optional(segmentFields.excludedContexts),
    rules: Type.Optional(segmentFields.rules),
    comment: Type.Optional(Comment),
  },
  strict,
);
export type SegmentCreate = Static<typeof SegmentCreateSchema>;

export const FlagCreateSchema = Type.Object(
  {
    key: Key('Flag key, unique in the project'),
    name: Name(),
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    temporary: Type.Optional(Type.Boolean({ description: 'Meant to be removed after a rollout' })),
    variations: Type.Optional(
      Type.Array(VariationSchema, {
        minItems: 1,
        maxItems: 1000,
        description: 'Defaults to the boolean variations true and false',
      }),
    ),
    clientSideAvailability: Type.Optional(ClientSideAvailabilitySchema),
    defaults: Type.Optional(
      Type.Object(
        {
          onVariation: VariationIndex,
          offVariation: VariationIndex,
        },
        { ...strict, description: 'Fallthrough and off variation of every environment' },
      ),
    ),
    comment: Type.Optional(Comment),
  },
  strict,
);
export type FlagCreate = Static<typeof FlagCreateSchema>;

export const EnvironmentCreateSchema = Type.Object(
  {
    key: Key('Environment key, unique in the project'),
    name: Name(),
    color: Type.Optional(Color),
    critical: Type.Optional(
      Type.Boolean({ description: 'Production-like: the dashboard asks for confirmation' }),
    ),
  },
  strict,
);
export type EnvironmentCreate = Static<typeof EnvironmentCreateSchema>;

// JSON Patch (RFC 6902).

export const PatchOperationSchema = Type.Object(
  {
    op: Type.Union([
      Type.Literal('add'),
      Type.Literal('remove'),
      Type.Literal('replace'),
      Type.Literal('move'),
      Type.Literal('copy'),
      Type.Literal('test'),
    ]),
    path: Type.String({ description: 'JSON Pointer into the document' }),
    from: Type.Optional(Type.String()),
    value: Type.Optional(JsonValueSchema()),
  },
  strict,
);
export type PatchOperation = Static<typeof PatchOperationSchema>;

export const JsonPatchSchema = Type.Array(PatchOperationSchema, {
  maxItems: 1000,
  description: 'RFC 6902 JSON Patch',
});

/** LaunchDarkly's wrapper, which carries a comment and (here) the expected version with the patch. */
export const JsonPatchWrapperSchema = Type.Object(
  { patch: JsonPatchSchema, comment: Type.Optional(Comment), version: Type.Optional(Version) },
  strict,
);
