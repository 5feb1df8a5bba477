import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { loadEnvironmentData, loadFlag, loadSegment } from '../domain/environmentData.js';
import { authOf, requireHeaderKey } from './auth.js';
import { evalxHandler, streamHandler } from './handlers.js';
import { sendPollBody } from './polling.js';
import type { StreamHub } from './streamHub.js';

/**
 * Routes for server-side SDKs and Relay-style callers, authenticated by the environment's SDK key in
 * `Authorization`. No CORS: these keys are secrets and must never be used from a browser.
 */
export function serverRoutes(ctx: ServerContext, hub: StreamHub): FastifyPluginAsync {
  return async (app) => {
    // onRequest: a caller without a valid key is turned away before any body is read.
    app.addHook('onRequest', requireHeaderKey(ctx, 'sdkKey'));

    // Streaming (spec §4.3): the full stream and the legacy flags-only one.
    app.get('/all', { exposeHeadRoute: false }, streamHandler(ctx, hub, 'all', undefined));
    app.get('/flags', { exposeHeadRoute: false }, streamHandler(ctx, hub, 'flags', undefined));

    // Polling (spec §4.4), with the older per-item and PHP-style paths (Relay's /sdk/flags...).
    const all = async (request: FastifyRequest, reply: FastifyReply) => {
      const { env } = authOf(request);
      const data = await loadEnvironmentData(ctx.storage, env.projectKey, env.key);
      return sendPollBody(request, reply, JSON.stringify(data));
    };
    const flags = async (request: FastifyRequest, reply: FastifyReply) => {
      const { env } = authOf(request);
      const data = await loadEnvironmentData(ctx.storage, env.projectKey, env.key);
      return sendPollBody(request, reply, JSON.stringify(data.flags));
    };
    const segments = async (request: FastifyRequest, reply: FastifyReply) => {
      const { env } = authOf(request);
      const data = await loadEnvironmentData(ctx.storage, env.projectKey, env.key);
      return sendPollBody(request, reply, JSON.stringify(data.segments));
    };
    const flag = async (request: FastifyRequest<{ Params: { key: string } }>, reply: FastifyReply) => {
      const { env } = authOf(request);
      const item = await loadFlag(ctx.storage, env.projectKey, env.key, request.params.key);
      if (!item || item.deleted) return notFound(reply, 'flag', request.params.key);
      return sendPollBody(request, reply, JSON.stringify(item));
    };
    const segment = async (request: FastifyRequest<{ Params: { key: string } }>, reply: FastifyReply) => {
      const { env } = authOf(request);
      const item = await loadSegment(ctx.storage, env.projectKey, env.key, request.params.key);
      if (!item || item.deleted) return notFound(reply, 'segment', request.params.key);
      return sendPollBody(request, reply, JSON.stringify(item));
    };
    app.get('/sdk/latest-all', all);
    app.get('/sdk/latest-flags', flags);
    app.get('/sdk/latest-flags/:key', flag);
    app.get('/sdk/latest-segments', segments);
    app.get('/sdk/latest-segments/:key', segment);
    app.get('/sdk/flags', flags);
    app.get('/sdk/flags/:key', flag);
    app.get('/sdk/segments/:key', segment);

    // Relay's SDK-key evaluation endpoints (spec §5): every flag, no client-side filter.
    app.get('/sdk/evalx/contexts/*', evalxHandler(ctx, 'sdkKey', 'path'));
    app.get('/sdk/evalx/users/*', evalxHandler(ctx, 'sdkKey', 'path'));
    app.route({ method: 'REPORT', url: '/sdk/evalx/context', handler: evalxHandler(ctx, 'sdkKey', 'body') });
    app.route({ method: 'REPORT', url: '/sdk/evalx/user', handler: evalxHandler(ctx, 'sdkKey', 'body') });
  };
}

function notFound(reply: FastifyReply, kind: 'flag' | 'segment', key: string): FastifyReply {
  return reply.code(404).send({ code: 'not_found', message: `no ${kind} "${key}" in this environment` });
}
