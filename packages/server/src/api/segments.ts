import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../context.js';
import type { PatchOperation } from '../domain/schemas.js';
import { SegmentCreateSchema } from '../domain/schemas.js';
import {
  createSegment,
  getSegment,
  listSegments,
  patchSegment,
  segmentDependents,
  setSegmentArchived,
} from '../domain/segments.js';
import {
  type Api,
  access,
  CommentBody,
  changeRequest,
  EnvParams,
  IfMatchHeaders,
  Limit,
  Page,
  responses,
  SegmentParams,
  withVersion,
} from './common.js';
import { PatchBody, SegmentSchema } from './schemas.js';

const tags = ['segments'];

export function segmentRoutes(api: Api, ctx: ServerContext): void {
  const role = access(ctx);
  const base = '/projects/:project/environments/:env/segments';

  api.get(
    base,
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'List the segments of an environment',
        params: EnvParams,
        querystring: Type.Object(
          {
            tag: Type.Optional(Type.String()),
            q: Type.Optional(Type.String({ description: 'Substring of key or name' })),
            archived: Type.Optional(Type.Boolean({ description: 'true: only archived segments' })),
            limit: Type.Optional(Limit(500, 50)),
            after: Type.Optional(Type.String({ description: 'Key to continue after (from `next`)' })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: Page(SegmentSchema) }, [400, 404]),
      },
    },
    async (request) => {
      const { project, env } = request.params;
      return listSegments(ctx.storage, project, env, { ...request.query, limit: request.query.limit ?? 50 });
    },
  );

  api.post(
    base,
    {
      ...role.writer,
      schema: {
        tags,
        summary: 'Create a segment',
        params: EnvParams,
        body: SegmentCreateSchema,
        response: responses({ 201: SegmentSchema }, [400, 404, 409]),
      },
    },
    async (request, reply) => {
      const { project, env } = request.params;
      const { comment: _c, ...input } = request.body;
      const segment = await createSegment(ctx, changeRequest(request, request.body), project, env, input);
      return reply.code(201).send(withVersion(reply, segment));
    },
  );

  api.get(
    `${base}/:key`,
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'Get a segment',
        params: SegmentParams,
        response: responses({ 200: SegmentSchema }, [400, 404]),
      },
    },
    async (request, reply) => {
      const { project, env, key } = request.params;
      return withVersion(reply, await getSegment(ctx.storage, project, env, key));
    },
  );

  api.patch(
    `${base}/:key`,
    {
      ...role.writer,
      schema: {
        tags,
        summary: 'Change a segment by JSON Patch',
        description:
          'RFC 6902 operations against `{name, description, tags, included, excluded, includedContexts, ' +
          'excludedContexts, rules}`, as a bare array or `{patch, comment, version}`.',
        consumes: ['application/json', 'application/json-patch+json'],
        params: SegmentParams,
        headers: IfMatchHeaders,
        body: PatchBody,
        response: responses({ 200: SegmentSchema }, [400, 404, 409]),
      },
    },
    async (request, reply) => {
      const body = request.body as
        | PatchOperation[]
        | { patch: PatchOperation[]; comment?: string; version?: number };
      const { project, env, key } = request.params;
      const meta = changeRequest(request, Array.isArray(body) ? undefined : body);
      const patch = Array.isArray(body)
        ? { operations: body, at: '' }
        : { operations: body.patch, at: '/patch' };
      return withVersion(reply, await patchSegment(ctx, meta, project, env, key, patch));
    },
  );

  api.get(
    `${base}/:key/dependents`,
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'Live flags and segments whose rules use this segment (they keep it from being archived)',
        params: SegmentParams,
        response: responses(
          {
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  kind: Type.Union([Type.Literal('flag'), Type.Literal('segment')]),
                  key: Type.String(),
                }),
              ),
            }),
          },
          [400, 404],
        ),
      },
    },
    async (request) => {
      const { project, env, key } = request.params;
      return { items: await segmentDependents(ctx.storage, project, env, key) };
    },
  );

  for (const [action, archived] of [
    ['archive', true],
    ['restore', false],
  ] as const) {
    api.post(
      `${base}/:key/${action}`,
      {
        ...role.writer,
        schema: {
          tags,
          summary: archived
            ? 'Archive a segment (SDKs receive it as deleted)'
            : 'Restore an archived segment',
          params: SegmentParams,
          body: CommentBody,
          response: responses({ 200: SegmentSchema }, [400, 404, 409]),
        },
      },
      async (request) => {
        const { project, env, key } = request.params;
        return setSegmentArchived(ctx, changeRequest(request, request.body), project, env, key, archived);
      },
    );
  }
}
