import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { notFoundHandler } from './http.js';

/**
 * Registers the OpenAPI 3 document, served at `/api/openapi.json`, and the JSON 404 for unknown
 * `/api` routes. Call it before registering routes: @fastify/swagger collects routes as they are added.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Flagstaff admin API',
        version: '1',
        description:
          'Projects, environments, flags, segments, audit log and API tokens of a Flagstaff flag service. ' +
          'Errors are `{code, message, errors?: [{path, message}]}`; `path` is a JSON Pointer into the body ' +
          '(or `query/…`, `params/…`, `headers/…`). Updates take the version they are based on (`version` ' +
          'or `If-Match`) and answer 409 when it is stale.',
      },
      tags: [
        { name: 'projects', description: 'Projects and their default environments' },
        { name: 'environments', description: 'Environments, their SDK keys and key rotation' },
        { name: 'flags', description: 'Flag definitions and per-environment targeting' },
        { name: 'segments', description: 'Segments, per environment' },
        { name: 'audit', description: 'Who changed what, when and why' },
        { name: 'tokens', description: 'API tokens (admin)' },
      ],
      components: {
        securitySchemes: {
          apiToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An API token (`api-…`) with role reader, writer or admin. SDK keys are not accepted.',
          },
        },
      },
      security: [{ apiToken: [] }],
    },
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(
    async (api) => {
      api.setNotFoundHandler(notFoundHandler);
    },
    { prefix: '/api' },
  );
}
