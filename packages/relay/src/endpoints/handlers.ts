import type { Context } from '@flagstaff/eval';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authOf } from './auth.js';
import { evaluateAll } from './clientEval.js';
import { BadContext, contextFrom, contextFromPath, secureModeHashMatches } from './contextInput.js';
import { notReady } from './polling.js';
import type { StreamKind, Streams } from './sse.js';

/** Where a route finds the context: base64url JSON in the path's wildcard, or a REPORT body. */
export type ContextSource = 'path' | 'body';

interface ClientQuery {
  withReasons?: string;
  h?: string;
}

/** The request's context, checked; when unusable the 400/415 reply is sent and undefined returned. */
function requestContext(
  request: FastifyRequest,
  reply: FastifyReply,
  source: ContextSource,
): Context | undefined {
  let context: Context | BadContext;
  if (source === 'path') {
    context = contextFromPath((request.params as { '*'?: string })['*'] ?? '');
  } else {
    // Fastify would happily parse text/plain; REPORT bodies must be JSON (spec §5).
    const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      reply.code(415).send({ code: 'unsupported_media_type', message: 'the context must be sent as JSON' });
      return undefined;
    }
    context = contextFrom(request.body);
  }
  if (context instanceof BadContext) {
    reply.code(400).send({ code: 'invalid_context', message: context.message });
    return undefined;
  }
  const auth = authOf(request);
  const hash = (request.query as ClientQuery).h;
  if (auth.audience === 'clientSideId' && hash !== undefined) {
    if (!secureModeHashMatches(auth.env.config.sdkKey, context, hash)) {
      reply.code(400).send({ code: 'invalid_secure_mode_hash', message: 'h does not match the context' });
      return undefined;
    }
  }
  return context;
}

/** Evaluated flags for one context (spec §5.1), limited to what the audience may see. */
export function evalxHandler(source: ContextSource) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { env, audience } = authOf(request);
    const context = requestContext(request, reply, source);
    if (!context) return reply;
    const unavailable = notReady(env, reply);
    if (unavailable) return unavailable;
    const withReasons = (request.query as ClientQuery).withReasons === 'true';
    return reply.send(evaluateAll(env.flags(), env.segments(), context, audience, withReasons));
  };
}

/**
 * An SSE stream. Ping streams name a context they never evaluate, but a bad one still fails fast with
 * 400 rather than leaving the client waiting for pings it can't use.
 */
export function streamHandler(streams: Streams, kind: StreamKind, source: ContextSource | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { env } = authOf(request);
    if (source !== undefined && !requestContext(request, reply, source)) return reply;
    streams.start(request, reply, env, kind);
    return reply;
  };
}
