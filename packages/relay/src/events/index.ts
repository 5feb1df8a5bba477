import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { EnvironmentRegistry, RelayEnvironment } from '../environment.js';
import { EventForwarder, type EventForwardingStats, type EventLogger } from './forwarder.js';

export type { EnvironmentEventStats, EventForwardingStats, EventLogger } from './forwarder.js';

export interface EventForwardingOptions {
  /** Base URI of the upstream events service; posts go to `{eventsUri}/bulk` and `/diagnostic`. */
  eventsUri: string;
  /** How often buffered events are forwarded (default 5000 ms). */
  flushIntervalMs?: number;
  /** Events buffered per environment between flushes (default 10000); beyond, new events are dropped. */
  capacity?: number;
  /** Wait before the single retry of a failed post (default 1000 ms). */
  retryDelayMs?: number;
  /** Largest accepted request body in bytes, after gzip decompression (default 5 MiB); beyond, 413. */
  bodyLimit?: number;
  /** Upper bound for the shutdown drain (default 10000 ms), so a dead upstream cannot block exit. */
  drainTimeoutMs?: number;
  /** Timeout of each upstream post (default 10000 ms). */
  requestTimeoutMs?: number;
  /** Default `FlagstaffRelay/0.1.0`. */
  userAgent?: string;
  /** Defaults to the Fastify instance's logger. */
  logger?: EventLogger;
}

/**
 * The plugin, plus what /metrics and tests need: `stats()` returns counters keyed by environment name
 * (see `EnvironmentEventStats`), `flush()` forwards everything buffered now. A method on the plugin
 * rather than an instance decoration because the plugin is encapsulated (it replaces the body parsers
 * of its own routes) and decorations would not reach the parent instance.
 */
export type EventForwardingPlugin = FastifyPluginAsync & {
  stats(): EventForwardingStats;
  flush(): Promise<void>;
};

const RELAY_USER_AGENT = 'FlagstaffRelay/0.1.0';

// What browsers may send cross-origin to the client-side routes; these are the headers the JS SDKs use.
const CORS_ALLOWED_HEADERS = [
  'Cache-Control',
  'Content-Type',
  'Content-Length',
  'Accept-Encoding',
  'Content-Encoding',
  'X-LaunchDarkly-User-Agent',
  'X-LaunchDarkly-Event-Schema',
  'X-LaunchDarkly-Payload-ID',
  'X-LaunchDarkly-Wrapper',
  'X-LaunchDarkly-Tags',
].join(',');

type Credential = 'sdk' | 'mobile' | 'clientSide';
type Kind = 'analytics' | 'diagnostic';

/**
 * Event intake and forwarding (spec §6.1, §8.6). SDKs get 202 as soon as their payload is parsed and
 * buffered; forwarding to `eventsUri` happens on the flush timer with the environment's SDK key.
 */
export function eventForwarding(
  registry: EnvironmentRegistry,
  options: EventForwardingOptions,
): EventForwardingPlugin {
  const flushIntervalMs = options.flushIntervalMs ?? 5_000;
  const bodyLimit = options.bodyLimit ?? 5 * 1024 * 1024;
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  let forwarder: EventForwarder | undefined;

  const plugin = async (app: FastifyInstance): Promise<void> => {
    const logger: EventLogger = options.logger ?? app.log;
    const current = new EventForwarder({
      eventsUri: options.eventsUri,
      capacity: options.capacity ?? 10_000,
      retryDelayMs: options.retryDelayMs ?? 1_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      userAgent: options.userAgent ?? RELAY_USER_AGENT,
      logger,
    });
    forwarder = current;
    let warnedOldSchema = false;

    // SDKs label their bodies inconsistently (or not at all), so every body is read as bytes and parsed
    // here; that also lets invalid JSON get a plain 400 rather than the default parser's error shape.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) =>
      done(null, body),
    );

    // SDKs may gzip their posts (`enableEventCompression`). Decompressing before the parser makes the
    // body limit apply to the decompressed size, so a small gzip bomb still ends in 413.
    app.addHook('preParsing', async (request, _reply, payload) => {
      const encoding = request.headers['content-encoding']?.toLowerCase();
      if (encoding !== 'gzip') return payload;
      const gunzip = createGunzip();
      gunzip.on('error', (error: Error & { statusCode?: number }) => {
        error.statusCode = 400;
      });
      // Fastify compares Content-Length with `receivedEncodedLength` when a stream provides it; without
      // it, the decompressed length would be compared and every gzip body rejected as inconsistent.
      const decoded = gunzip as typeof gunzip & { receivedEncodedLength: number };
      decoded.receivedEncodedLength = 0;
      payload.on('data', (chunk: Buffer) => {
        decoded.receivedEncodedLength += chunk.length;
      });
      pipeline(payload, gunzip, () => {});
      return decoded;
    });

    const timer = setInterval(() => {
      void current.flush();
    }, flushIntervalMs);
    // The relay's server keeps the process alive; this timer must not on its own.
    timer.unref();

    app.addHook('onClose', async () => {
      clearInterval(timer);
      // Events already answered with 202 must reach upstream, so shutdown waits for them (bounded).
      const drained = await current.drain(drainTimeoutMs);
      if (!drained) logger.warn(`Event forwarding did not finish within ${drainTimeoutMs} ms of shutdown`);
    });

    const environmentFor = (
      credential: Credential,
      request: FastifyRequest,
      reply: FastifyReply,
    ): RelayEnvironment | undefined => {
      if (credential === 'clientSide') {
        const env = registry.byClientSideId((request.params as { envId: string }).envId);
        if (!env) void reply.code(404).send();
        return env;
      }
      const key = credentialOf(request.headers.authorization);
      const env = key
        ? credential === 'sdk'
          ? registry.bySdkKey(key)
          : registry.byMobileKey(key)
        : undefined;
      if (!env) void reply.code(401).send();
      return env;
    };

    const intake =
      (kind: Kind, credential: Credential) => async (request: FastifyRequest, reply: FastifyReply) => {
        if (credential === 'clientSide') setCors(request, reply);
        const env = environmentFor(credential, request, reply);
        if (!env) return reply;
        const body = parseBody(request.body);
        const tags = headerValue(request.headers['x-launchdarkly-tags']);
        if (kind === 'diagnostic') {
          if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
            return reply.code(400).send();
          }
          current.addDiagnostic(env, body, tags);
          return reply.code(202).send();
        }
        if (!Array.isArray(body)) return reply.code(400).send();
        const schema = Number(headerValue(request.headers['x-launchdarkly-event-schema']) ?? '1');
        if (!(schema >= 3) || request.headers['x-launchdarkly-unsummarized'] !== undefined) {
          // Older or unsummarized payloads would need summarizing against flag data (§8.6), which this
          // relay does not do; forwarding them as schema 4 would corrupt upstream summaries. The sender
          // cannot do better with an error, so it still gets 202 and the events count as dropped.
          current.discard(env, body.length);
          if (!warnedOldSchema) {
            warnedOldSchema = true;
            logger.warn(
              'Dropping events with event schema < 3 or unsummarized events: not supported by this relay',
            );
          }
          return reply.code(202).send();
        }
        current.addAnalytics(env, body, tags);
        return reply.code(202).send();
      };

    const sdkRoutes: [string, Kind][] = [
      ['/bulk', 'analytics'],
      ['/diagnostic', 'diagnostic'],
    ];
    const mobileRoutes: [string, Kind][] = [
      ['/mobile', 'analytics'],
      ['/mobile/events', 'analytics'],
      ['/mobile/events/bulk', 'analytics'],
      ['/mobile/events/diagnostic', 'diagnostic'],
    ];
    const clientSideRoutes: [string, Kind][] = [
      ['/events/bulk/:envId', 'analytics'],
      ['/events/diagnostic/:envId', 'diagnostic'],
    ];
    for (const [url, kind] of sdkRoutes) app.post(url, intake(kind, 'sdk'));
    for (const [url, kind] of mobileRoutes) app.post(url, intake(kind, 'mobile'));
    for (const [url, kind] of clientSideRoutes) {
      app.post(url, intake(kind, 'clientSide'));
      // Browsers preflight these posts (JSON content type, custom headers); only these routes are
      // meant for browsers, so only they answer CORS.
      app.options(url, async (request, reply) => {
        setCors(request, reply);
        return reply.code(200).send();
      });
    }
  };

  return Object.assign(plugin, {
    stats: (): EventForwardingStats => forwarder?.stats() ?? {},
    flush: (): Promise<void> => forwarder?.flush() ?? Promise.resolve(),
  });
}

/** Accepts both `Authorization: <key>` and `Authorization: api_key <key>` (mobile SDKs send the latter). */
function credentialOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const key = header.replace(/^api_key\s+/i, '').trim();
  return key || undefined;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The parsed JSON body, or undefined when it is missing, empty or not JSON. */
function parseBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function setCors(request: FastifyRequest, reply: FastifyReply): void {
  // Echoing the origin (rather than `*`) keeps requests made with credentials working.
  const origin = headerValue(request.headers.origin);
  void reply.header('Access-Control-Allow-Origin', origin ?? '*');
  if (origin) void reply.header('Vary', 'Origin');
  void reply.header('Access-Control-Allow-Credentials', 'true');
  void reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
  void reply.header('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS);
  void reply.header('Access-Control-Max-Age', '300');
}
