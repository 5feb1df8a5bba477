import type { FastifyPluginAsync, RouteHandlerMethod } from 'fastify';
import type { ServerContext } from '../context.js';
import { requireClientSideId } from './auth.js';
import { corsHeaders, preflight } from './cors.js';
import { evalxHandler, streamHandler } from './handlers.js';
import type { StreamHub } from './streamHub.js';

/**
 * Routes for the JavaScript (browser) client (spec §5): the client-side ID is in the path, there is
 * no auth header, and every response, errors and preflights included, carries CORS headers. These are
 * the only SDK routes with CORS.
 */
export function clientRoutes(ctx: ServerContext, hub: StreamHub): FastifyPluginAsync {
  return async (app) => {
    // CORS first, so that even a 404 for an unknown ID is readable by the page that asked.
    app.addHook('onRequest', corsHeaders);
    const authenticate = requireClientSideId(ctx);

    // Each path is registered once, with its preflight.
    const route = (method: 'GET' | 'REPORT', url: string, handler: RouteHandlerMethod, stream = false) => {
      app.route({ method, url, onRequest: authenticate, handler, exposeHeadRoute: !stream });
      app.options(url, preflight);
    };

    route('GET', '/sdk/evalx/:envId/contexts/*', evalxHandler(ctx, 'clientSideId', 'path'));
    route('GET', '/sdk/evalx/:envId/users/*', evalxHandler(ctx, 'clientSideId', 'path'));
    route('REPORT', '/sdk/evalx/:envId/context', evalxHandler(ctx, 'clientSideId', 'body'));
    // Relay's documentation names this path; its router (and the SDKs) use the one above.
    route('REPORT', '/sdk/evalx/:envId/contexts', evalxHandler(ctx, 'clientSideId', 'body'));
    route('REPORT', '/sdk/evalx/:envId/user', evalxHandler(ctx, 'clientSideId', 'body'));

    route('GET', '/eval/:envId/*', streamHandler(ctx, hub, 'ping', 'path'), true);
    route('REPORT', '/eval/:envId', streamHandler(ctx, hub, 'ping', 'body'), true);
    route('GET', '/ping/:envId', streamHandler(ctx, hub, 'ping', undefined), true);

    // Goals drive LaunchDarkly's click and page-view experiments, which Flagstaff does not have: an
    // empty list keeps the browser SDK content instead of logging a failed request on every page.
    route('GET', '/sdk/goals/:envId', async (_request, reply) => reply.send([]));
  };
}
