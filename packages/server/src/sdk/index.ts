import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { clientRoutes } from './clientRoutes.js';
import { mobileRoutes } from './mobileRoutes.js';
import { serverRoutes } from './serverRoutes.js';
import { StreamHub } from './streamHub.js';

export type { EvaluatedFlag } from './clientEval.js';
export { StreamHub, type StreamHubOptions } from './streamHub.js';

export interface SdkEndpointOptions {
  /** Time between stream heartbeats; default 180 000 ms, the 3 minutes of LaunchDarkly's Relay. */
  heartbeatIntervalMs?: number;
  /** A hub made by the caller (to watch its connection count, say); it is closed with the server. */
  hub?: StreamHub;
}

/**
 * The endpoints SDKs talk to (spec §4, §5): server-side streaming and polling with the SDK key,
 * mobile evaluation and streams with the mobile key, and the JavaScript client's evaluation and
 * streams with the client-side ID in the path (the only ones with CORS).
 */
export function sdkEndpoints(ctx: ServerContext, options: SdkEndpointOptions = {}): FastifyPluginAsync {
  return async (app) => {
    // Fastify 5 knows only the standard methods; SDKs send the context in the body of a REPORT.
    if (!app.supportedMethods.includes('REPORT')) app.addHttpMethod('REPORT', { hasBody: true });
    app.decorateRequest('sdkAuth', null);

    const hub =
      options.hub ??
      new StreamHub(ctx.storage, {
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        now: ctx.now,
        logger: app.log,
      });
    // Before the server stops accepting: open streams never end by themselves, so closing the
    // server would otherwise wait for every SDK to hang up.
    app.addHook('preClose', async () => hub.close());

    await app.register(serverRoutes(ctx, hub));
    await app.register(mobileRoutes(ctx, hub));
    await app.register(clientRoutes(ctx, hub));
  };
}
