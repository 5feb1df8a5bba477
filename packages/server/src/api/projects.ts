import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../context.js';
import {
  createProject,
  getProject,
  listProjects,
  setProjectArchived,
  updateProject,
} from '../domain/projects.js';
import {
  Comment,
  Description,
  EnvironmentCreateSchema,
  Key,
  Name,
  Tags,
  Version,
} from '../domain/schemas.js';
import {
  type Api,
  access,
  CommentBody,
  changeRequest,
  Limit,
  Page,
  ProjectParams,
  responses,
  withVersion,
} from './common.js';
import { ProjectSchema } from './schemas.js';

const tags = ['projects'];

export function projectRoutes(api: Api, ctx: ServerContext): void {
  const role = access(ctx);

  api.get(
    '/projects',
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'List projects',
        querystring: Type.Object(
          {
            archived: Type.Optional(Type.Boolean({ description: 'true: only archived projects' })),
            tag: Type.Optional(Type.String()),
            q: Type.Optional(Type.String({ description: 'Substring of key or name' })),
            limit: Type.Optional(Limit(500, 50)),
            after: Type.Optional(Type.String({ description: 'Key to continue after (from `next`)' })),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: Page(ProjectSchema) }, [400]),
      },
    },
    async (request) => listProjects(ctx, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  api.post(
    '/projects',
    {
      ...role.admin,
      schema: {
        tags,
        summary: 'Create a project',
        description:
          'Creates the environments listed, or `production` (critical) and `test` when `environments` is absent.',
        body: Type.Object(
          {
            key: Key('Project key'),
            name: Name(),
            description: Type.Optional(Description),
            tags: Type.Optional(Tags),
            environments: Type.Optional(Type.Array(EnvironmentCreateSchema, { maxItems: 50 })),
            comment: Type.Optional(Comment),
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: ProjectSchema }, [400, 409]),
      },
    },
    async (request, reply) => {
      const { comment: _comment, ...input } = request.body;
      const project = await createProject(ctx, changeRequest(request, request.body), input);
      return reply.code(201).send(withVersion(reply, project));
    },
  );

  api.get(
    '/projects/:project',
    {
      ...role.reader,
      schema: {
        tags,
        summary: 'Get a project with its environments',
        params: ProjectParams,
        response: responses({ 200: ProjectSchema }, [400, 404]),
      },
    },
    async (request, reply) => withVersion(reply, await getProject(ctx, request.params.project)),
  );

  api.patch(
    '/projects/:project',
    {
      ...role.admin,
      schema: {
        tags,
        summary: 'Update a project',
        params: ProjectParams,
        body: Type.Object(
          {
            name: Type.Optional(Name()),
            description: Type.Optional(Description),
            tags: Type.Optional(Tags),
            version: Type.Optional(Version),
            comment: Type.Optional(Comment),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: ProjectSchema }, [400, 404, 409]),
      },
    },
    async (request, reply) => {
      const { comment: _c, version: _v, ...update } = request.body;
      const project = await updateProject(
        ctx,
        changeRequest(request, request.body),
        request.params.project,
        update,
      );
      return withVersion(reply, project);
    },
  );

  for (const [action, archived] of [
    ['archive', true],
    ['restore', false],
  ] as const) {
    api.post(
      `/projects/:project/${action}`,
      {
        ...role.admin,
        schema: {
          tags,
          summary: archived ? 'Archive a project (hidden and read-only)' : 'Restore an archived project',
          params: ProjectParams,
          body: CommentBody,
          response: responses({ 200: ProjectSchema }, [400, 404]),
        },
      },
      async (request) =>
        setProjectArchived(ctx, changeRequest(request, request.body), request.params.project, archived),
    );
  }
}
