import { Type } from '@sinclair/typebox';
import { InstructionsBodySchema } from '../domain/instructions.js';
import {
  ClientSideAvailabilitySchema,
  JsonPatchSchema,
  JsonPatchWrapperSchema,
  SegmentDocSchema,
  TargetingDocSchema,
  VariationSchema,
} from '../domain/schemas.js';

/* Response shapes, for the OpenAPI document. */

const Timestamps = {
  createdAt: Type.Integer({ description: 'Epoch milliseconds' }),
  updatedAt: Type.Integer({ description: 'Epoch milliseconds' }),
};

const RetiredKey = Type.Object({ key: Type.String(), expiresAt: Type.Integer({ description: 'Epoch ms' }) });

export const EnvironmentSchema = Type.Object(
  {
    projectKey: Type.String(),
    key: Type.String(),
    name: Type.String(),
    color: Type.Optional(Type.String()),
    critical: Type.Boolean(),
    sdkKey: Type.String({ description: 'Server-side SDK key (secret)' }),
    mobileKey: Type.String({ description: 'Mobile key' }),
    clientSideId: Type.String({ description: 'Client-side ID (public)' }),
    retiredKeys: Type.Object(
      { sdkKey: Type.Optional(RetiredKey), mobileKey: Type.Optional(RetiredKey) },
      { description: 'Rotated-out keys still valid during their grace period' },
    ),
    archived: Type.Boolean(),
    version: Type.Integer(),
    ...Timestamps,
  },
  { title: 'Environment' },
);

export const ProjectSchema = Type.Object(
  {
    key: Type.String(),
    name: Type.String(),
    description: Type.Optional(Type.String()),
    tags: Type.Array(Type.String()),
    archived: Type.Boolean(),
    version: Type.Integer(),
    environments: Type.Optional(Type.Array(EnvironmentSchema)),
    ...Timestamps,
  },
  { title: 'Project' },
);

export const TargetingSchema = Type.Object(
  {
    version: Type.Integer({ description: 'The flag version SDKs see in this environment' }),
    ...TargetingDocSchema.properties,
  },
  { title: 'Targeting' },
);

const flagFields = {
  projectKey: Type.String(),
  key: Type.String(),
  kind: Type.Union([Type.Literal('boolean'), Type.Literal('multivariate')]),
  name: Type.String(),
  description: Type.String(),
  tags: Type.Array(Type.String()),
  temporary: Type.Boolean(),
  variations: Type.Array(VariationSchema),
  clientSideAvailability: ClientSideAvailabilitySchema,
  defaults: Type.Optional(Type.Object({ onVariation: Type.Integer(), offVariation: Type.Integer() })),
  archived: Type.Boolean(),
  version: Type.Integer({ description: 'Version of the definition (not of any environment)' }),
  ...Timestamps,
};

export const FlagSchema = Type.Object(
  { ...flagFields, environments: Type.Record(Type.String(), TargetingSchema) },
  { title: 'Flag' },
);

export const FlagSummarySchema = Type.Object(
  {
    ...flagFields,
    environments: Type.Record(Type.String(), Type.Object({ on: Type.Boolean(), version: Type.Integer() })),
  },
  { title: 'FlagSummary' },
);

export const SegmentSchema = Type.Object(
  {
    projectKey: Type.String(),
    envKey: Type.String(),
    key: Type.String(),
    version: Type.Integer(),
    salt: Type.String(),
    archived: Type.Boolean(),
    ...SegmentDocSchema.properties,
    ...Timestamps,
  },
  { title: 'Segment' },
);

const Actor = Type.Object({
  kind: Type.Union([Type.Literal('token'), Type.Literal('system')]),
  id: Type.String(),
  name: Type.String(),
});

export const AuditEntrySchema = Type.Object(
  {
    id: Type.Integer(),
    at: Type.Integer({ description: 'Epoch milliseconds' }),
    actor: Actor,
    projectKey: Type.Optional(Type.String()),
    envKey: Type.Optional(Type.String()),
    resource: Type.Object({ kind: Type.String(), key: Type.String() }),
    action: Type.String(),
    comment: Type.Optional(Type.String()),
    before: Type.Optional(Type.Unknown()),
    after: Type.Optional(Type.Unknown()),
  },
  { title: 'AuditEntry' },
);

export const Role = Type.Union([Type.Literal('reader'), Type.Literal('writer'), Type.Literal('admin')], {
  description: 'reader: read; writer: also change flags and segments; admin: everything',
});

export const TokenSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: Role,
    hint: Type.String({ description: 'The first characters of the secret' }),
    createdAt: Type.Integer(),
    revoked: Type.Boolean(),
  },
  { title: 'Token' },
);

/** A definition or segment update: an RFC 6902 array, or LaunchDarkly's `{patch, comment}` wrapper. */
export const PatchBody = Type.Union([JsonPatchSchema, JsonPatchWrapperSchema]);

/** A targeting update: JSON Patch (bare or wrapped) or semantic instructions. */
export const TargetingPatchBody = Type.Union([
  JsonPatchSchema,
  JsonPatchWrapperSchema,
  InstructionsBodySchema,
]);
