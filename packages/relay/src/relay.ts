import { basicLogger, type LDLogger, SDK_VERSION } from '@flagstaff/node-server-sdk';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { maskKey, type RelayConfig } from './config.js';
import { relayEndpoints } from './endpoints/index.js';
import { EnvironmentData, Registry } from './environmentData.js';
import { eventForwarding } from './events/index.js';
import { createRelayStore, type RelayStore, Upstream, type UpstreamOptions } from './upstream.js';

/** Kept in step with packages/relay/package.json (read at build time would differ between src and dist). */
export const RELAY_VERSION = '0.1.0';

export interface RelayOptions {
  logger?: LDLogger;
  /**
   * Extra Fastify plugins registered after the relay's own routes. The SDK-facing endpoints and (with
   * USE_EVENTS) event forwarding are registered by default; `builtinPlugins: false` leaves them out.
   */
  plugins?: FastifyPluginAsync[];
  builtinPlugins?: boolean;
  /** Host to listen on; default all interfaces, as LaunchDarkly's Relay. */
  host?: string;
  /** Replaces a configured store (tests); `null` disables it. */
  createStore?: (env: RelayEnvironment) => RelayStore | undefined;
  /** Passed to every Upstream (tests shorten reconnect delays). */
  upstream?: Pick<UpstreamOptions, 'reconnectDelaySeconds' | 'streamInternals'>;
  now?: () => number;
}

type RelayEnvironment = EnvironmentData['config'];

export interface Relay {
  app: FastifyInstance;
  registry: Registry;
  upstreams: readonly Upstream[];
  /** `http://host:port` the relay listens on. */
  url: string;
  /** Closes the app (streams, event flush via the events plugin's close hook), upstreams and stores. */
  close(): Promise<void>;
}

/** The routes the relay itself owns: /status, /ready, /metrics (spec §8.3). */
export function statusRoutes(
  upstreams: readonly Upstream[],
  config: Pick<RelayConfig, 'disconnectedStatusTimeMs'>,
  now: () => number = Date.now,
): FastifyPluginAsync {
  return async (app) => {
    app.get('/status', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return statusBody(upstreams, config.disconnectedStatusTimeMs, now());
    });
    // Readiness for orchestrators: data (from upstream or the persistent store) for every environment.
    app.get('/ready', async (_request, reply) => {
      const waiting = upstreams.filter((u) => !u.data.status().initialized).map((u) => u.data.config.name);
      reply.header('cache-control', 'no-store');
      if (waiting.length > 0) return reply.code(503).send({ ready: false, waiting });
      return { ready: true };
    });
    app.get('/metrics', async (_request, reply) => {
      reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
      return metricsText(upstreams);
    });
  };
}

/** LaunchDarkly Relay's /status JSON (spec §8.3). */
export function statusBody(upstreams: readonly Upstream[], disconnectedAfterMs: number, now: number) {
  const environments: Record<string, unknown> = {};
  let healthy = true;
  for (const upstream of upstreams) {
    const { config } = upstream.data;
    const connection = upstream.connectionStatus();
    // As LaunchDarkly: never initialized from upstream, or not VALID for DISCONNECTED_STATUS_TIME.
    const connected =
      connection.everConnected &&
      (connection.state === 'VALID' || now - connection.stateSince < disconnectedAfterMs);
    if (!connected) healthy = false;
    const store = upstream.store;
    const storeStatus = upstream.dataStoreStatus();
    environments[config.name] = {
      sdkKey: maskKey(config.sdkKey),
      ...(config.clientSideId !== undefined ? { envId: config.clientSideId } : {}),
      ...(config.mobileKey !== undefined ? { mobileKey: maskKey(config.mobileKey) } : {}),
      status: connected ? 'connected' : 'disconnected',
      connectionStatus: {
        state: connection.state,
        stateSince: connection.stateSince,
        ...(connection.lastError !== undefined
          ? { lastError: { kind: connection.lastError.kind, time: connection.lastError.time } }
          : {}),
      },
      dataStoreStatus: {
        state: storeStatus.state,
        stateSince: storeStatus.stateSince,
        ...(store !== undefined ? { database: store.database, ...store.info } : {}),
      },
    };
  }
  return {
    environments,
    status: healthy ? 'healthy' : 'degraded',
    version: RELAY_VERSION,
    clientVersion: SDK_VERSION,
  };
}

/** Prometheus text format; served always (no extra port, no dependency), USE_PROMETHEUS or not. */
export function metricsText(upstreams: readonly Upstream[]): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, rows: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) lines.push(`${name}${labels} ${value}`);
  };
  const label = (u: Upstream) => `{env="${u.data.config.name.replace(/["\\\n]/g, '_')}"}`;
  metric(
    'flagstaff_relay_connected',
    'gauge',
    'Whether the upstream stream is connected (1) or not (0).',
    upstreams.map((u) => [label(u), u.data.status().connected ? 1 : 0]),
  );
  metric(
    'flagstaff_relay_initialized',
    'gauge',
    'Whether the environment has data to serve.',
    upstreams.map((u) => [label(u), u.data.status().initialized ? 1 : 0]),
  );
  metric(
    'flagstaff_relay_last_update_timestamp_seconds',
    'gauge',
    'When the environment data last changed (Unix seconds; 0 = never).',
    upstreams.map((u) => [label(u), (u.data.status().lastUpdate ?? 0) / 1000]),
  );
  metric(
    'flagstaff_relay_data_version_total',
    'counter',
    'Changes applied to the environment data.',
    upstreams.map((u) => [label(u), u.data.status().dataVersion]),
  );
  metric(
    'flagstaff_relay_flags',
    'gauge',
    'Flags held for the environment.',
    upstreams.map((u) => [label(u), Object.keys(u.data.flags()).length]),
  );
  metric(
    'flagstaff_relay_segments',
    'gauge',
    'Segments held for the environment.',
    upstreams.map((u) => [label(u), Object.keys(u.data.segments()).length]),
  );
  metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [
    ['', process.memoryUsage.rss()],
  ]);
  return `${lines.join('\n')}\n`;
}

/** Every path the events plugin accepts posts on (kept in step with events/index.ts). */
export const EVENT_PATHS = [
  '/bulk',
  '/diagnostic',
  '/mobile',
  '/mobile/events',
  '/mobile/events/bulk',
  '/mobile/events/diagnostic',
  '/events/bulk/:envId',
  '/events/diagnostic/:envId',
] as const;

/**
 * Without USE_EVENTS, LaunchDarkly's Relay answers event posts with 503 "Event proxy is not enabled"
 * (spec §8.6) rather than 404, so SDK logs say why their events go nowhere.
 */
const eventsDisabled: FastifyPluginAsync = async (app) => {
  // Answered before body parsing, so gzipped or oversized payloads get the same 503, not a 400 or 415.
  app.addHook('onRequest', async (_request, reply) =>
    reply.code(503).header('content-type', 'text/plain; charset=utf-8').send('Event proxy is not enabled'),
  );
  for (const path of EVENT_PATHS) app.post(path, async () => undefined);
};

/**
 * Starts the relay: per environment the in-memory data (loaded from the persistent store when one is
 * configured) and one upstream stream; the HTTP server on PORT; then waits up to INIT_TIMEOUT for every
 * environment's first put (spec §8.4). Without IGNORE_CONNECTION_ERRORS an environment that got no put
 * by then makes start fail (LaunchDarkly's Relay exits); with it, the relay serves what it has and keeps
 * retrying.
 */
export async function startRelay(config: RelayConfig, options: RelayOptions = {}): Promise<Relay> {
  const logger = options.logger ?? basicLogger({ level: 'info' });
  const now = options.now ?? Date.now;
  const environments = config.environments.map((e) => new EnvironmentData(e));
  const registry = new Registry(environments);
  const upstreams = environments.map((data) => {
    const store = options.createStore
      ? options.createStore(data.config)
      : config.store !== undefined
        ? createRelayStore(config.store, data.config, logger)
        : undefined;
    return new Upstream(data, {
      streamUri: config.streamUri,
      baseUri: config.baseUri,
      logger,
      now,
      ...(store !== undefined ? { store } : {}),
      ...options.upstream,
    });
  });

  const app = Fastify({ logger: false });
  await app.register(statusRoutes(upstreams, config, now));
  if (options.builtinPlugins !== false) {
    await app.register(relayEndpoints(registry, { heartbeatIntervalMs: config.heartbeatIntervalMs }));
    if (config.events.enabled)
      await app.register(eventForwarding(registry, { eventsUri: config.events.eventsHost }));
    else await app.register(eventsDisabled);
  }
  for (const plugin of options.plugins ?? []) await app.register(plugin);

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(upstreams.map((u) => u.stop()));
    // Closing the app runs the plugins' hooks: downstream streams end, buffered events are flushed.
    await app.close();
    await Promise.all(upstreams.map((u) => u.store?.close().catch(() => {})));
  };

  try {
    // Stores are read before listening, so the first /ready already reflects what they hold.
    await Promise.all(upstreams.map((u) => u.start()));
    const url = await app.listen({ port: config.port, host: options.host ?? '0.0.0.0' });
    logger.info(`Relay listening on ${url} for ${environments.length} environment(s)`);
    const results = await Promise.all(upstreams.map((u) => u.waitForFirstPut(config.initTimeoutMs)));
    const missing = upstreams.filter((_u, i) => !results[i]).map((u) => u.data.config.name);
    if (missing.length > 0) {
      const message = `No data from upstream after INIT_TIMEOUT (${config.initTimeoutMs} ms) for: ${missing.join(', ')}`;
      if (!config.ignoreConnectionErrors)
        throw new Error(`${message} (set IGNORE_CONNECTION_ERRORS=true to keep running)`);
      logger.warn(`${message}; serving what the persistent store holds and retrying`);
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    return { app, registry, upstreams, url: `http://127.0.0.1:${port}`, close };
  } catch (err) {
    await close();
    throw err;
  }
}
