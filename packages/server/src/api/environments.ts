import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../context.js';
import {
  assertRotatable,
  createEnvironment,
  getEnvironment,
  listEnvironments,
  MAX_GRACE_SECONDS,
  rotateKey,
  setEnvironmentArchived,
  updateEnvironment,
} from '../domain/environments.js';
import { Color, Comment, EnvironmentCreateSchema, Key, Name, Version } from '../domain/schemas.js';
import {
  type Api,
  access,
  CommentBody,
  changeRequest,
  EnvParams,
  ProjectParams,
  responses,
  withVersion,
} from './common.js';
import { EnvironmentSchema } from './schemas.js';

const tags = ['environments'];

export function environmentRoutes(api: Api, ctx: ServerContext): void {
  const role = access(ctx);

  api.get(
    '/projects/:project/environments',
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'List the environments of a project',
        params: ProjectParams,
        querystring: Type.Object(
          {
            archived: Type.Optional(
              Type.Boolean({ description: 'Only archived (true) or live (false) ones' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: Type.Object({ items: Type.Array(EnvironmentSchema) }) }, [400, 404]),
      },
    },
    async (request) => ({ items: await listEnvironments(ctx, request.params.project, request.query) }),
  );

  api.post(
    '/projects/:project/environments',
    {
      ...role.admin,
      schema: {
        tags,
        summary: 'Create an environment',
        description: 'Generates its SDK key, mobile key and client-side ID; every flag starts off in it.',
        params: ProjectParams,
        body: Type.Object(
          { ...EnvironmentCreateSchema.properties, comment: Type.Optional(Comment) },
          { additionalProperties: false },
        ),
        response: responses({ 201: EnvironmentSchema }, [400, 404, 409]),
      },
    },
    async (request, reply) => {
      const { comment: _c, ...input } = request.body;
      const env = await createEnvironment(
        ctx,
        changeRequest(request, request.body),
        request.params.project,
        input,
      );
      return reply.code(201).send(withVersion(reply, env));
    },
  );

  api.get(
    '/projects/:project/environments/:env',
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'Get an environment with its keys',
        params: EnvParams,
        response: responses({ 200: EnvironmentSchema }, [400, 404]),
      },
    },
    async (request, reply) =>
      withVersion(reply, await getEnvironment(ctx, request.params.project, request.params.env)),
  );

  api.patch(
    '/projects/:project/environments/:env',
    {
      ...role.admin,
      schema: {
        tags,
        summary: 'Update an environment',
        params: EnvParams,
        body: Type.Object(
          {
            name: Type.Optional(Name()),
            color: Type.Optional(Type.Union([Color, Type.Null()])),
            critical: Type.Optional(Type.Boolean()),
            version: Type.Optional(Version),
            comment: Type.Optional(Comment),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: EnvironmentSchema }, [400, 404, 409]),
      },
    },
    async (request, reply) => {
      const { comment: _c, version: _v, ...update } = request.body;
      const { project, env } = request.params;
      return withVersion(
        reply,
        await updateEnvironment(ctx, changeRequest(request, request.body), project, env, update),
      );
    },
  );

  for (const [action, archived] of [
    ['archive', true],
    ['restore', false],
  ] as const) {
    api.post(
      `/projects/:project/environments/:env/${action}`,
      {
        ...role.admin,
        schema: {
          tags,
          summary: archived
            ? 'Archive an environment (its keys stop working)'
            : 'Restore an archived environment',
          params: EnvParams,
          body: CommentBody,
          response: responses({ 200: EnvironmentSchema }, [400, 404]),
        },
      },
      async (request) => {
        const { project, env } = request.params;
        return setEnvironmentArchived(ctx, changeRequest(request, request.body), project, env, archived);
      },
    );
  }

  api.post(
    '/projects/:project/environments/:env/keys/:kind/rotate',
    {
      ...role.admin,
      schema: {
        tags,
        summary: 'Rotate the SDK key or mobile key',
        description:
          'With `gracePeriodSeconds` the old key keeps working until the period ends; without, it stops at once. ' +
          'A key still in the grace period of an earlier rotation stops at once.',
        params: Type.Object({
          project: Key('Project key'),
          env: Key('Environment key'),
          kind: Type.Union([Type.Literal('sdkKey'), Type.Literal('mobileKey'), Type.Literal('clientSideId')]),
        }),
        body: Type.Object(
          {
            gracePeriodSeconds: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: MAX_GRACE_SECONDS,
                description: 'How long the old key works',
              }),
            ),
            comment: Type.Optional(Comment),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: EnvironmentSchema }, [400, 404]),
      },
    },
    async (request, reply) => {
      const { project, env, kind } = request.params;
      assertRotatable(kind);
      const grace = request.body.gracePeriodSeconds ?? 0;
      return withVersion(
        reply,
        await rotateKey(ctx, changeRequest(request, request.body), project, env, kind, grace),
      );
    },
  );
}
