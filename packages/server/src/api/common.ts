import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ServerContext } from '../context.js';
import { Key } from '../domain/schemas.js';
import type { ChangeRequest } from '../domain/write.js';
import { actorOf, requireRole } from './auth.js';
import { expectedVersion } from './http.js';

/**
 * Handler types inferred from the route schemas. @fastify/type-provider-typebox 6 infers with
 * TypeBox 1.x, while these schemas are @sinclair/typebox 0.34 (as are the validator and the domain's
 * types), so inference uses the same TypeBox that checks the requests.
 */
export interface TypeBoxProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxProvider
>;

/** Authentication runs first (onRequest), so a caller without a token learns nothing about the input. */
export const access = (ctx: ServerContext) => ({
  reader: { onRequest: requireRole(ctx, 'reader') },
  writer: { onRequest: requireRole(ctx, 'writer') },
  admin: { onRequest: requireRole(ctx, 'admin') },
});

export const ProjectParams = Type.Object({ project: Key('Project key') });
export const EnvParams = Type.Object({ project: Key('Project key'), env: Key('Environment key') });
export const FlagParams = Type.Object({ project: Key('Project key'), key: Key('Flag key') });
export const EnvFlagParams = Type.Object({
  project: Key('Project key'),
  env: Key('Environment key'),
  key: Key('Flag key'),
});
export const SegmentParams = Type.Object({
  project: Key('Project key'),
  env: Key('Environment key'),
  key: Key('Segment key'),
});

export const Limit = (max: number, fallback: number) =>
  Type.Integer({
    minimum: 1,
    maximum: max,
    default: fallback,
    description: `Page size (default ${fallback})`,
  });

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({ description: 'Expected version, e.g. "3"; a different current version answers 409' }),
  ),
});

/** Body of archive and restore requests (optional). */
export const CommentBody = Type.Object(
  { comment: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);

const ErrorBody = Type.Object(
  {
    code: Type.String({
      description: 'Stable name: invalid_request, unauthorized, not_found, version_conflict...',
    }),
    message: Type.String(),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.String({ description: 'JSON Pointer' }), message: Type.String() })),
    ),
    currentVersion: Type.Optional(Type.Integer()),
  },
  { description: 'An error' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: each bad field is named in `errors`',
  401: 'Missing or unknown API token',
  403: 'The token role does not allow this',
  404: 'Not found',
  409: 'Conflict: stale version, already exists, archived, or in use',
};

/** Response schemas for the OpenAPI document (answers are serialised as plain JSON). */
export function responses(ok: Record<number, TSchema>, errors: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = { ...ok };
  for (const status of [401, 403, ...errors]) {
    out[status] = Type.Object(ErrorBody.properties, { description: ERROR_DESCRIPTIONS[status] });
  }
  return out;
}

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    next: Type.Optional(Type.String({ description: 'Pass as `after` for the next page' })),
  });

/** Who asks, why, and what version they based the change on. */
export function changeRequest(
  request: FastifyRequest,
  body?: { comment?: string; version?: number } | null,
): ChangeRequest {
  const out: ChangeRequest = { actor: actorOf(request) };
  if (body?.comment !== undefined) out.comment = body.comment;
  const version = expectedVersion(request, body?.version);
  if (version !== undefined) out.expectedVersion = version;
  return out;
}

/** Single resources carry their version as an ETag, to send back as `If-Match`. */
export function withVersion<T extends { version: number }>(reply: FastifyReply, value: T): T {
  reply.header('etag', `"${value.version}"`);
  return value;
}
