import Fastify, { type FastifyInstance } from 'fastify';
import { adminApi, registerOpenApi } from './api/index.js';
import type { CommittedChange, ServerContext } from './context.js';
import { adminStream, type DashboardOptions, serveDashboard } from './dashboard/index.js';
import { eventIngestion, insightsApi } from './events/index.js';
import { StreamHub, sdkEndpoints } from './sdk/index.js';
import type { Storage } from './storage/types.js';
import { WebhookDispatcher, webhookRoutes } from './webhooks/index.js';

export interface ServerOptions {
  storage: Storage;
  /** Fastify's logger: true for JSON logs, false for none (tests). */
  logger?: boolean;
  /** SSE heartbeat interval; LaunchDarkly's relay uses 3 minutes. */
  heartbeatIntervalMs?: number;
  now?: () => number;
  /**
   * The web dashboard at `/`: served from `@flagstaff/dashboard`'s `dist` (or
   * `FLAGSTAFF_DASHBOARD_DIR`) when it has been built, from `dir` when given, not at all when false.
   */
  dashboard?: DashboardOptions | false;
  /** Heartbeat interval of the dashboard's change stream (`/api/v1/projects/:p/stream`); default 25 s. */
  adminStreamHeartbeatMs?: number;
}

export interface FlagService {
  app: FastifyInstance;
  ctx: ServerContext;
  hub: StreamHub;
  /** The directory the dashboard is served from, if it is served. */
  dashboardDir: string | undefined;
  /** Stops accepting, ends streams, lets webhook retries go; the storage stays open (the caller owns it). */
  close(): Promise<void>;
}

/**
 * Assembles the flag service: admin API and OpenAPI under `/api`, SDK endpoints (streaming, polling,
 * client-side evaluation), event ingestion, insights and webhooks, all over one storage.
 */
export async function buildFlagService(options: ServerOptions): Promise<FlagService> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 5 * 1024 * 1024 });
  let dispatcher: WebhookDispatcher | undefined;
  const ctx: ServerContext = {
    storage: options.storage,
    now: options.now ?? Date.now,
    onCommitted: (change: CommittedChange) => dispatcher?.handle(change),
  };
  dispatcher = new WebhookDispatcher(ctx, { logger: app.log });
  const hub = new StreamHub(ctx.storage, {
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    now: ctx.now,
    logger: app.log,
  });

  await registerOpenApi(app);
  await app.register(adminApi(ctx), { prefix: '/api/v1' });
  await app.register(insightsApi(ctx), { prefix: '/api/v1' });
  await app.register(webhookRoutes(ctx), { prefix: '/api/v1' });
  await app.register(adminStream(ctx, { heartbeatIntervalMs: options.adminStreamHeartbeatMs }), {
    prefix: '/api/v1',
  });
  await app.register(sdkEndpoints(ctx, { hub }));
  await app.register(eventIngestion(ctx));
  app.get('/health', async () => ({ status: 'ok', storage: ctx.storage.backend }));
  const dashboardDir = options.dashboard === false ? undefined : await serveDashboard(app, options.dashboard);
  // Notices committed while a PostgreSQL listener was reconnecting are lost: a full resync brings every
  // stream back up to date. Unregistered on close because the storage outlives the service.
  const stopResync = ctx.storage.onListenerRestored(() => hub.resyncAll());
  app.addHook('onClose', async () => {
    stopResync();
    await dispatcher?.close();
  });

  return {
    app,
    ctx,
    hub,
    dashboardDir,
    close: () => app.close(),
  };
}
