import type { FastifyReply, FastifyRequest } from 'fastify';

// What browser SDKs send: JSON bodies on REPORT and LaunchDarkly's own headers. Listed rather than
// `*`, which older browsers do not accept.
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
 * onRequest hook for the JavaScript-client routes only: the client-side ID is public and no cookies are
 * involved, so any origin may call them. The origin is echoed (with `Vary`) so credentialed requests
 * work too.
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

export function preflight(_request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(204).send();
}
