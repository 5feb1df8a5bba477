import type { FastifyReply, FastifyRequest } from 'fastify';

// What browser SDKs send: JSON bodies on REPORT, and LaunchDarkly's own headers (user agent, wrapper,
// tags, event schema and payload id). Listed, not `*`, so that older browsers accept it as well.
const ALLOWED_HEADERS = [
  'Accept',
  'Cache-Control',
  'Content-Type',
  'Content-Length',
  'Accept-Encoding',
  'X-LaunchDarkly-User-Agent',
  'X-LaunchDarkly-Wrapper',
  'X-LaunchDarkly-Tags',
  'X-LaunchDarkly-Event-Schema',
  'X-LaunchDarkly-Payload-ID',
].join(', ');

/**
 * onRequest hook for the JavaScript-client routes only: browsers on any site may call them, since
 * the client-side ID is public and no cookies are involved. The caller's origin is echoed (with
 * `Vary: Origin`), which also works for a client that sends credentials.
 */
export async function corsHeaders(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const origin = request.headers.origin;
  reply.headers({
    'Access-Control-Allow-Origin': origin ?? '*',
    'Access-Control-Allow-Methods': 'GET, REPORT, OPTIONS',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '300',
  });
  if (origin) reply.header('Vary', 'Origin');
}

/** A CORS preflight: the headers come from the hook, the answer is empty. */
export function preflight(_request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(204).send();
}
