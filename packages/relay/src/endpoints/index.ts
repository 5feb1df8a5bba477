import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { EnvironmentRegistry } from '../environment.js';
import { authOf, requireClientSideId, requireHeaderKey } from './auth.js';
import { corsHeaders, preflight } from './cors.js';
import { evalxHandler, streamHandler } from './handlers.js';
import { ofrepRoutes } from './ofrep.js';
import { etagOf, notReady, sendWithEtag } from './polling.js';
import { Streams } from './sse.js';

export type { Audience } from './auth.js';
export { availableTo, type EvaluatedFlag, evaluateAll } from './clientEval.js';
export { contextFromOfrep, type OfrepFailure, type OfrepSuccess } from './ofrep.js';

export interface RelayEndpointOptions {
  /** Time between stream heartbeat comments; default 3 minutes, LaunchDarkly Relay's HEARTBEAT_INTERVAL. */
  heartbeatIntervalMs?: number;
}

/**
 * The SDK-facing endpoints of the relay (spec §4, §5, §8.2) plus OFREP, all answered from the
 * in-memory environments: server-side streams and polling with the SDK key, mobile evaluation and
 * streams with the mobile key, JavaScript-client ones with the client-side ID (the only ones with CORS).
 */
export function relayEndpoints(
  registry: EnvironmentRegistry,
  options: RelayEndpointOptions = {},
): FastifyPluginAsync {
  return async (app) => {
    // Fastify 5 knows only the standard methods; SDKs send the context in the body of a REPORT.
    if (!app.supportedMethods.includes('REPORT')) app.addHttpMethod('REPORT', { hasBody: true });
    const streams = new Streams(options.heartbeatIntervalMs ?? 180_000);
    // Open streams never end by themselves, so closing the server would otherwise wait for every SDK.
    app.addHook('preClose', async () => streams.closeAll());

    await app.register(serverRoutes(registry, streams));
    await app.register(mobileRoutes(registry, streams));
    await app.register(clientRoutes(registry, streams));
    await app.register(ofrepRoutes(registry));
  };
}

function serverRoutes(registry: EnvironmentRegistry, streams: Streams): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onRequest', requireHeaderKey(registry, 'sdkKey'));
    app.get('/all', { exposeHeadRoute: false }, streamHandler(streams, 'all', undefined));
    app.get('/flags', { exposeHeadRoute: false }, streamHandler(streams, 'flags', undefined));

    // Polling: LaunchDarkly's Relay lacks /sdk/latest-all (§8.2); serving it lets polling SDKs use us.
    const collection =
      (which: 'all' | 'flags' | 'segments') => async (request: FastifyRequest, reply: FastifyReply) => {
        const { env } = authOf(request);
        const unavailable = notReady(env, reply);
        if (unavailable) return unavailable;
        return sendWithEtag(request, reply, etagOf(env, which), () =>
          which === 'all'
            ? { flags: env.flags(), segments: env.segments() }
            : which === 'flags'
              ? env.flags()
              : env.segments(),
        );
      };
    const item =
      (which: 'flags' | 'segments') =>
      async (request: FastifyRequest<{ Params: { key: string } }>, reply: FastifyReply) => {
        const { env } = authOf(request);
        const unavailable = notReady(env, reply);
        if (unavailable) return unavailable;
        const items = which === 'flags' ? env.flags() : env.segments();
        const { key } = request.params;
        const found = Object.hasOwn(items, key) ? items[key] : undefined;
        if (!found) {
          return reply.code(404).send({ code: 'not_found', message: `no ${which.slice(0, -1)} "${key}"` });
        }
        return sendWithEtag(request, reply, etagOf(env, `${which}/${key}`), () => found);
      };
    app.get('/sdk/latest-all', collection('all'));
    app.get('/sdk/latest-flags', collection('flags'));
    app.get('/sdk/latest-flags/:key', item('flags'));
    app.get('/sdk/latest-segments', collection('segments'));
    app.get('/sdk/latest-segments/:key', item('segments'));
    // PHP-style paths of LaunchDarkly's Relay.
    app.get('/sdk/flags', collection('flags'));
    app.get('/sdk/flags/:key', item('flags'));
    app.get('/sdk/segments/:key', item('segments'));

    // Relay-only SDK-key evaluation: every flag, no client-side filter.
    app.get('/sdk/evalx/contexts/*', evalxHandler('path'));
    app.get('/sdk/evalx/users/*', evalxHandler('path'));
    app.route({ method: 'REPORT', url: '/sdk/evalx/context', handler: evalxHandler('body') });
    app.route({ method: 'REPORT', url: '/sdk/evalx/user', handler: evalxHandler('body') });
  };
}

function mobileRoutes(registry: EnvironmentRegistry, streams: Streams): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onRequest', requireHeaderKey(registry, 'mobileKey'));
    app.get('/msdk/evalx/contexts/*', evalxHandler('path'));
    app.get('/msdk/evalx/users/*', evalxHandler('path'));
    app.route({ method: 'REPORT', url: '/msdk/evalx/context', handler: evalxHandler('body') });
    app.route({ method: 'REPORT', url: '/msdk/evalx/user', handler: evalxHandler('body') });
    app.get('/meval/*', { exposeHeadRoute: false }, streamHandler(streams, 'ping', 'path'));
    app.route({ method: 'REPORT', url: '/meval', handler: streamHandler(streams, 'ping', 'body') });
    app.get('/mping', { exposeHeadRoute: false }, streamHandler(streams, 'ping', undefined));
  };
}

function clientRoutes(registry: EnvironmentRegistry, streams: Streams): FastifyPluginAsync {
  return async (app) => {
    // CORS first, so that even the 404 for an unknown ID is readable by the page that asked.
    app.addHook('onRequest', corsHeaders);
    const authenticate = requireClientSideId(registry);
    const route = (method: 'GET' | 'REPORT', url: string, handler: RouteHandlerMethod, stream = false) => {
      app.route({ method, url, onRequest: authenticate, handler, exposeHeadRoute: !stream });
      app.options(url, preflight);
    };
    route('GET', '/sdk/evalx/:envId/contexts/*', evalxHandler('path'));
    route('GET', '/sdk/evalx/:envId/users/*', evalxHandler('path'));
    route('REPORT', '/sdk/evalx/:envId/context', evalxHandler('body'));
    // The path Relay's documentation names; its router and the SDKs use the one above.
    route('REPORT', '/sdk/evalx/:envId/contexts', evalxHandler('body'));
    route('REPORT', '/sdk/evalx/:envId/user', evalxHandler('body'));
    route('GET', '/eval/:envId/*', streamHandler(streams, 'ping', 'path'), true);
    route('REPORT', '/eval/:envId', streamHandler(streams, 'ping', 'body'), true);
    route('GET', '/ping/:envId', streamHandler(streams, 'ping', undefined), true);
  };
}
