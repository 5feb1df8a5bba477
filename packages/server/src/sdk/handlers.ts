import type { OutgoingHttpHeaders } from 'node:http';
import type { Context } from '@flagstaff/eval';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { loadEnvironmentData } from '../domain/environmentData.js';
import { authOf, type SdkAuth } from './auth.js';
import { type Audience, evaluateAll } from './clientEval.js';
import { BadContext, contextFrom, contextFromPath, secureModeHashMatches } from './contextInput.js';
import type { StreamKind } from './sse.js';
import type { StreamHub } from './streamHub.js';

/** Where a route finds the context: base64url JSON in the path's wildcard, or a REPORT body. */
export type ContextSource = 'path' | 'body';

interface ClientQuery {
  withReasons?: string;
  h?: string;
}

/**
 * The context a request carries, checked (and, for JavaScript clients sending `h`, the secure-mode
 * hash verified). When it is unusable the reply is sent here (400 or 415) and undefined returned.
 */
function requestContext(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  source: ContextSource,
  auth: SdkAuth,
): Context | undefined {
  let context: Context | BadContext;
  if (source === 'path') {
    context = contextFromPath((request.params as { '*'?: string })['*'] ?? '');
  } else {
    // Fastify already refuses media types it has no parser for; text/plain it would parse, so the
    // rule "REPORT bodies are JSON" (spec §5) is checked here.
    const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      reply.code(415).send({
        code: 'unsupported_media_type',
        message: 'the context must be sent as JSON (Content-Type: application/json)',
      });
      return undefined;
    }
    context = contextFrom(request.body);
  }
  if (context instanceof BadContext) {
    reply.code(400).send({ code: 'invalid_context', message: context.message });
    return undefined;
  }
  const hash = (request.query as ClientQuery).h;
  if (
    auth.credential.kind === 'clientSideId' &&
    hash !== undefined &&
    !secureModeHashMatches(auth.env, context, hash, ctx.now())
  ) {
    reply.code(400).send({
      code: 'invalid_secure_mode_hash',
      message: 'h must be the HMAC-SHA256 of the context’s canonical key under the environment’s SDK key',
    });
    return undefined;
  }
  return context;
}

/** Evaluated flags for one context (spec §5.1), limited to what the audience may see. */
export function evalxHandler(ctx: ServerContext, audience: Audience, source: ContextSource) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = authOf(request);
    const context = requestContext(ctx, request, reply, source, auth);
    if (!context) return reply;
    const withReasons = (request.query as ClientQuery).withReasons === 'true';
    const data = await loadEnvironmentData(ctx.storage, auth.env.projectKey, auth.env.key);
    return reply.send(evaluateAll(data.flags, data.segments, context, audience, withReasons));
  };
}

/**
 * An SSE stream. Client-side and mobile streams name a context (checked, though Relay-style ping
 * streams don't evaluate it) so that a bad one fails fast with 400 instead of pings to nowhere.
 */
export function streamHandler(
  ctx: ServerContext,
  hub: StreamHub,
  kind: StreamKind,
  source: ContextSource | undefined,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = authOf(request);
    if (source !== undefined && !requestContext(ctx, request, reply, source, auth)) return reply;
    // From here on the response is written straight to the socket: Fastify's serialisers and any
    // compression hooks stay out of the way, and nothing buffers the events.
    reply.hijack();
    const res = reply.raw;
    const headers: OutgoingHttpHeaders = {
      ...(reply.getHeaders() as OutgoingHttpHeaders), // CORS headers from the route's hooks
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    };
    res.writeHead(200, headers);
    res.flushHeaders();
    request.raw.socket.setNoDelay(true);
    hub.open(res, kind, auth);
  };
}
