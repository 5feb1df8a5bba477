import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { requireHeaderKey } from './auth.js';
import { evalxHandler, streamHandler } from './handlers.js';
import type { StreamHub } from './streamHub.js';

/**
 * Routes for mobile SDKs (spec §5), authenticated by the environment's mobile key in `Authorization`.
 * Native apps are not browsers, so no CORS here either.
 */
export function mobileRoutes(ctx: ServerContext, hub: StreamHub): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onRequest', requireHeaderKey(ctx, 'mobileKey'));

    app.get('/msdk/evalx/contexts/*', evalxHandler(ctx, 'mobileKey', 'path'));
    app.get('/msdk/evalx/users/*', evalxHandler(ctx, 'mobileKey', 'path'));
    app.route({
      method: 'REPORT',
      url: '/msdk/evalx/context',
      handler: evalxHandler(ctx, 'mobileKey', 'body'),
    });
    app.route({ method: 'REPORT', url: '/msdk/evalx/user', handler: evalxHandler(ctx, 'mobileKey', 'body') });

    // Relay-style streams: a `ping` on connect and on every change; the SDK then polls evalx.
    app.get('/meval/*', { exposeHeadRoute: false }, streamHandler(ctx, hub, 'ping', 'path'));
    app.route({ method: 'REPORT', url: '/meval', handler: streamHandler(ctx, hub, 'ping', 'body') });
    app.get('/mping', { exposeHeadRoute: false }, streamHandler(ctx, hub, 'ping', undefined));
  };
}
