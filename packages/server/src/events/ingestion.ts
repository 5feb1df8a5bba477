import { gunzip } from 'node:zlib';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { resolveCredential } from '../domain/environmentData.js';
import { environmentId } from '../domain/ids.js';
import type { CredentialKind, Environment } from '../domain/types.js';
import { aggregateEvents } from './aggregate.js';
import { contextTrackerFor } from './contexts.js';

export interface EventIngestionOptions {
  /** Largest accepted body in bytes, before and after gzip decompression. Default 5 MiB. */
  bodyLimit?: number;
  /** Contexts remembered per environment (the contexts API lists at most this many). Default 1000. */
  maxContextsPerEnvironment?: number;
  /** How often seen contexts are written to storage. Default 10 s. */
  contextsFlushIntervalMs?: number;
}

const DEFAULT_BODY_LIMIT = 5 * 1024 * 1024;
/** Payload ids remembered for de-duplicating SDK retries (one per flush per SDK instance). */
const PAYLOAD_IDS_KEPT = 10_000;

/** What the JS SDK sends; used when a preflight does not list the headers it wants. */
const ALLOWED_HEADERS =
  'Content-Type, Content-Encoding, X-LaunchDarkly-Event-Schema, X-LaunchDarkly-Payload-ID, ' +
  'X-LaunchDarkly-User-Agent, X-LaunchDarkly-Wrapper';

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const CREDENTIAL_NAMES: Record<CredentialKind, string> = {
  sdkKey: 'an SDK key in the Authorization header',
  mobileKey: 'a mobile key in the Authorization header',
  clientSideId: 'a client-side ID in the path',
};

/** Server SDKs send the bare key; mobile SDKs send `api_key <key>`; some tools send `Bearer <key>`. */
function keyFromAuthorization(request: FastifyRequest): string {
  const header = (request.headers.authorization ?? '').trim();
  const match = /^(api_key|bearer)\s+(.*)$/i.exec(header);
  return (match ? match[2]! : header).trim();
}

/**
 * Analytics event endpoints for server, mobile and JavaScript client SDKs (spec §6.1). Payloads are
 * aggregated in memory and written as one counter upsert per request; seen contexts are buffered and
 * written every few seconds (see ContextTracker).
 *
 * The counter write is awaited before answering 202: it is a single statement, and if it fails the
 * SDK gets a 503 and retries the payload once (spec §6.1) instead of the events being lost silently.
 */
export function eventIngestion(ctx: ServerContext, options: EventIngestionOptions = {}): FastifyPluginAsync {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const tracker = contextTrackerFor(ctx);
  tracker.configure({
    maxPerEnvironment: options.maxContextsPerEnvironment,
    flushIntervalMs: options.contextsFlushIntervalMs,
  });
  const environments = new WeakMap<FastifyRequest, Environment>();
  const recentPayloads = new Map<string, true>();

  const authenticate =
    (kind: CredentialKind): Handler =>
    async (request, reply) => {
      const key =
        kind === 'clientSideId'
          ? ((request.params as { envId?: string }).envId ?? '')
          : keyFromAuthorization(request);
      const env = await resolveCredential(ctx.storage, key, kind, ctx.now());
      if (!env) {
        return reply
          .code(401)
          .send({ code: 'unauthorized', message: `this needs ${CREDENTIAL_NAMES[kind]}` });
      }
      environments.set(request, env);
    };

  const analytics: Handler = async (request, reply) => {
    const env = environments.get(request)!;
    const events = request.body;
    if (!Array.isArray(events)) {
      throw new HttpError(400, 'invalid_body', 'the body must be a JSON array of event objects');
    }
    for (let i = 0; i < events.length; i++) {
      const event: unknown = events[i];
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        throw new HttpError(400, 'invalid_body', `event ${i} is not an object`);
      }
    }
    const envId = environmentId(env.projectKey, env.key);
    // An SDK resends a payload (same id) when it did not see our answer; count it once.
    const payloadHeader = request.headers['x-launchdarkly-payload-id'];
    const payloadId =
      typeof payloadHeader === 'string' && payloadHeader ? `${envId}\u0000${payloadHeader}` : '';
    if (payloadId && recentPayloads.has(payloadId)) return reply.code(202).send();

    const { counters, contexts, stats } = aggregateEvents(events, envId, ctx.now());
    if (stats.unknown > 0 || stats.invalid > 0) {
      request.log.debug({ env: envId, stats }, 'events: ignored unknown or invalid events');
    }
    if (counters.length > 0) {
      try {
        await ctx.storage.addCounts(counters);
      } catch (err) {
        request.log.error({ err, env: envId }, 'events: storing counters failed');
        throw new HttpError(503, 'unavailable', 'events could not be stored; retry later');
      }
    }
    tracker.record(envId, contexts);
    if (payloadId) {
      recentPayloads.set(payloadId, true);
      if (recentPayloads.size > PAYLOAD_IDS_KEPT) recentPayloads.delete(recentPayloads.keys().next().value!);
    }
    return reply.code(202).send();
  };

  // Diagnostics only tell how SDKs are configured; nothing in Flagstaff reads them yet, so they are
  // checked for shape and acknowledged.
  const diagnostic: Handler = async (request, reply) => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new HttpError(400, 'invalid_body', 'the body must be a JSON object (a diagnostic event)');
    }
    return reply.code(202).send();
  };

  return async (app: FastifyInstance) => {
    // Encapsulated: these parsers apply to the event routes only. SDKs send application/json, but the
    // body is parsed whatever the type says, so a missing or odd Content-Type does not lose events.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
      decodeBody(request, body as Buffer, bodyLimit).then(
        (value) => done(null, value),
        (err: Error) => done(err, undefined),
      );
    });

    app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status === 413) {
        return reply
          .code(413)
          .send({ code: 'payload_too_large', message: `the body is larger than ${bodyLimit} bytes` });
      }
      if (status >= 500) request.log.error({ err: error }, 'events: request failed');
      return reply.code(status).send({
        code: error instanceof HttpError ? error.code : status >= 500 ? 'internal' : 'bad_request',
        message: status >= 500 && !(error instanceof HttpError) ? 'internal error' : error.message,
      });
    });

    app.addHook('onClose', async () => {
      await tracker.close();
    });

    const route = (url: string, kind: CredentialKind, handler: Handler) =>
      app.post(url, { bodyLimit, onRequest: authenticate(kind) }, handler);

    route('/bulk', 'sdkKey', analytics);
    route('/diagnostic', 'sdkKey', diagnostic);

    for (const url of ['/mobile', '/mobile/events', '/mobile/events/bulk'])
      route(url, 'mobileKey', analytics);
    route('/mobile/events/diagnostic', 'mobileKey', diagnostic);

    // Browsers post these cross-origin from any site embedding the JS SDK; the client-side ID is public
    // anyway, so any origin may send. Only these routes get CORS.
    await app.register(async (browser) => {
      browser.addHook('onRequest', async (_request, reply) => {
        reply.header('access-control-allow-origin', '*');
        // The JS SDK reads Date to detect a fast local clock (spec §6.5); it is not a safelisted header.
        reply.header('access-control-expose-headers', 'Date');
      });
      const preflight: Handler = async (request, reply) => {
        const asked = request.headers['access-control-request-headers'];
        return reply
          .code(204)
          .header('access-control-allow-methods', 'POST, OPTIONS')
          .header(
            'access-control-allow-headers',
            typeof asked === 'string' && asked ? asked : ALLOWED_HEADERS,
          )
          .header('access-control-max-age', '86400')
          .send();
      };
      for (const [url, handler] of [
        ['/events/bulk/:envId', analytics],
        ['/events/diagnostic/:envId', diagnostic],
      ] as const) {
        browser.post(url, { bodyLimit, onRequest: authenticate('clientSideId') }, handler);
        browser.options(url, preflight);
      }
    });
  };
}

/** Gunzips when asked (bounded, against zip bombs) and parses JSON; an empty body stays undefined. */
async function decodeBody(request: FastifyRequest, body: Buffer, limit: number): Promise<unknown> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let raw = body;
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    raw = await new Promise<Buffer>((resolve, reject) => {
      gunzip(body, { maxOutputLength: limit }, (err, out) => {
        if (!err) resolve(out);
        else if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          reject(new HttpError(413, 'payload_too_large', 'too large'));
        } else reject(new HttpError(400, 'invalid_body', 'the body is not valid gzip data'));
      });
    });
  } else if (encoding !== 'identity') {
    throw new HttpError(
      415,
      'unsupported_encoding',
      `Content-Encoding "${encoding}" is not supported (use gzip)`,
    );
  }
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `the body is not valid JSON: ${(err as Error).message}`);
  }
}
