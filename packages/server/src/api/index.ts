import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { auditRoutes } from './audit.js';
import type { TypeBoxProvider } from './common.js';
import { environmentRoutes } from './environments.js';
import { flagRoutes } from './flags.js';
import { errorHandler, validatorCompiler } from './http.js';
import { projectRoutes } from './projects.js';
import { segmentRoutes } from './segments.js';
import { tokenRoutes } from './tokens.js';

export { registerOpenApi } from './openapi.js';

/**
 * The admin REST API, to register under `/api/v1`. Its validation, error answers and JSON Patch
 * content type stay inside this plugin, so the SDK endpoints keep Fastify's defaults.
 */
export function adminApi(ctx: ServerContext): FastifyPluginAsync {
  return async (instance) => {
    const api = instance.withTypeProvider<TypeBoxProvider>();
    api.setValidatorCompiler(validatorCompiler);
    // Response schemas document the API; answers are plain JSON, so no field is ever silently dropped.
    api.setSerializerCompiler(() => (data) => JSON.stringify(data));
    api.setErrorHandler(errorHandler);
    api.addContentTypeParser(
      'application/json-patch+json',
      { parseAs: 'string' },
      api.getDefaultJsonParser('error', 'error'),
    );
    projectRoutes(api, ctx);
    environmentRoutes(api, ctx);
    flagRoutes(api, ctx);
    segmentRoutes(api, ctx);
    auditRoutes(api, ctx);
    tokenRoutes(api, ctx);
  };
}
