import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import {
  createFlag,
  flagDependents,
  getFlag,
  listFlags,
  patchFlag,
  setFlagArchived,
} from '../domain/flags.js';
import type { Instruction } from '../domain/instructions.js';
import type { PatchSource } from '../domain/patch.js';
import { FlagCreateSchema, Key, type PatchOperation } from '../domain/schemas.js';
import { getTargeting, updateTargeting } from '../domain/targeting.js';
import {
  type Api,
  access,
  CommentBody,
  changeRequest,
  EnvFlagParams,
  FlagParams,
  IfMatchHeaders,
  Limit,
  Page,
  ProjectParams,
  responses,
  withVersion,
} from './common.js';
import { FlagSchema, FlagSummarySchema, PatchBody, TargetingPatchBody, TargetingSchema } from './schemas.js';

const tags = ['flags'];
const PATCH_TYPES = ['application/json', 'application/json-patch+json'];

type PatchBodyValue =
  | PatchOperation[]
  | { patch: PatchOperation[]; comment?: string; version?: number }
  | { instructions: Instruction[]; comment?: string; version?: number };

/** Splits a patch body into what to apply and the change's metadata. */
function readPatchBody(
  request: FastifyRequest,
  body: PatchBodyValue,
): {
  meta: ReturnType<typeof changeRequest>;
  change: { patch: PatchSource } | { instructions: Instruction[] };
} {
  if (Array.isArray(body)) {
    return { meta: changeRequest(request), change: { patch: { operations: body, at: '' } } };
  }
  const meta = changeRequest(request, body);
  if ('patch' in body) return { meta, change: { patch: { operations: body.patch, at: '/patch' } } };
  return { meta, change: { instructions: body.instructions } };
}

export function flagRoutes(api: Api, ctx: ServerContext): void {
  const role = access(ctx);

  api.get(
    '/projects/:project/flags',
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'List flags with their state in each environment',
        params: ProjectParams,
        querystring: Type.Object(
          {
            env: Type.Optional(Key('Only this environment’s state')),
            tag: Type.Optional(Type.String()),
            q: Type.Optional(Type.String({ description: 'Substring of key or name' })),
            archived: Type.Optional(Type.Boolean({ description: 'true: only archived flags' })),
            limit: Type.Optional(Limit(500, 50)),
            after: Type.Optional(Type.String({ description: 'Key to continue after (from `next`)' })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: Page(FlagSummarySchema) }, [400, 404]),
      },
    },
    async (request) =>
      listFlags(ctx.storage, request.params.project, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  api.post(
    '/projects/:project/flags',
    {
      ...role.writer,
      schema: {
        tags,
        summary: 'Create a flag',
        description:
          'Boolean (true/false) unless `variations` are given. Every environment gets the flag off, serving ' +
          '`defaults.offVariation` (booleans: false) when off and `defaults.onVariation` when on.',
        params: ProjectParams,
        body: FlagCreateSchema,
        response: responses({ 201: FlagSchema }, [400, 404, 409]),
      },
    },
    async (request, reply) => {
      const { comment: _c, ...input } = request.body;
      const flag = await createFlag(ctx, changeRequest(request, request.body), request.params.project, input);
      return reply.code(201).send(withVersion(reply, flag));
    },
  );

  api.get(
    '/projects/:project/flags/:key',
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'Get a flag: definition and targeting per environment, with versions',
        params: FlagParams,
        querystring: Type.Object(
          { env: Type.Optional(Key('Only this environment')) },
          { additionalProperties: false },
        ),
        response: responses({ 200: FlagSchema }, [400, 404]),
      },
    },
    async (request, reply) =>
      withVersion(
        reply,
        await getFlag(ctx.storage, request.params.project, request.params.key, request.query.env),
      ),
  );

  api.patch(
    '/projects/:project/flags/:key',
    {
      ...role.writer,
      schema: {
        tags,
        summary: 'Change a flag definition by JSON Patch',
        description:
          'RFC 6902 operations against `{name, description, tags, temporary, variations, clientSideAvailability}`, ' +
          'as a bare array or `{patch, comment, version}`. Targeting follows moved variations; a removed variation ' +
          'still in use is refused. Every environment’s version grows by one.',
        consumes: PATCH_TYPES,
        params: FlagParams,
        headers: IfMatchHeaders,
        body: PatchBody,
        response: responses({ 200: FlagSchema }, [400, 404, 409]),
      },
    },
    async (request, reply) => {
      const { meta, change } = readPatchBody(request, request.body as PatchBodyValue);
      if (!('patch' in change)) throw new Error('unreachable: the schema admits only patches here');
      const { project, key } = request.params;
      return withVersion(reply, await patchFlag(ctx, meta, project, key, change.patch));
    },
  );

  api.get(
    '/projects/:project/flags/:key/dependents',
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'Live flags that have this flag as a prerequisite (they keep it from being archived)',
        params: FlagParams,
        response: responses(
          {
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  flagKey: Type.String(),
                  envKey: Type.String(),
                  variation: Type.Integer({ description: 'The variation of this flag it needs' }),
                }),
              ),
            }),
          },
          [400, 404],
        ),
      },
    },
    async (request) => ({
      items: await flagDependents(ctx.storage, request.params.project, request.params.key),
    }),
  );

  for (const [action, archived] of [
    ['archive', true],
    ['restore', false],
  ] as const) {
    api.post(
      `/projects/:project/flags/:key/${action}`,
      {
        ...role.writer,
        schema: {
          tags,
          summary: archived ? 'Archive a flag (SDKs receive it as deleted)' : 'Restore an archived flag',
          params: FlagParams,
          body: CommentBody,
          response: responses({ 200: FlagSchema }, [400, 404, 409]),
        },
      },
      async (request) => {
        const { project, key } = request.params;
        return setFlagArchived(ctx, changeRequest(request, request.body), project, key, archived);
      },
    );
  }

  api.get(
    '/projects/:project/environments/:env/flags/:key',
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'Get a flag’s targeting in one environment (the document JSON Patch edits)',
        params: EnvFlagParams,
        response: responses({ 200: TargetingSchema }, [400, 404]),
      },
    },
    async (request, reply) => {
      const { project, env, key } = request.params;
      return withVersion(reply, await getTargeting(ctx.storage, project, env, key));
    },
  );

  api.patch(
    '/projects/:project/environments/:env/flags/:key',
    {
      ...role.writer,
      schema: {
        tags,
        summary: 'Change a flag’s targeting in one environment',
        description:
          'JSON Patch against the targeting document (bare array or `{patch, comment, version}`), or semantic ' +
          'instructions `{instructions, comment, version}`. The version grows by one per request.',
        consumes: PATCH_TYPES,
        params: EnvFlagParams,
        headers: IfMatchHeaders,
        body: TargetingPatchBody,
        response: responses({ 200: TargetingSchema }, [400, 404, 409]),
      },
    },
    async (request, reply) => {
      const { meta, change } = readPatchBody(request, request.body as PatchBodyValue);
      const { project, env, key } = request.params;
      return withVersion(reply, await updateTargeting(ctx, meta, project, env, key, change));
    },
  );
}
