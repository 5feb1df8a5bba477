import type { ClientAudience as Audience } from '@flagstaff/eval';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EnvironmentRegistry, RelayEnvironment } from '../environment.js';

/** Which credential a request authenticated with (sdkKey, mobileKey, clientSideId): which flags it may see. */
export type { Audience };

interface Authenticated {
  env: RelayEnvironment;
  audience: Audience;
}

// A WeakMap rather than a request decoration: the server package decorates the same FastifyRequest
// type, and a second augmentation would couple the two packages' types for no gain.
const authenticated = new WeakMap<FastifyRequest, Authenticated>();

/**
 * The key in `Authorization`: the raw key as LaunchDarkly SDKs send it, `api_key <key>` as Relay also
 * accepts, or `Bearer <key>` as OpenFeature's OFREP providers send it.
 */
export function keyFromHeader(header: string | undefined): string {
  const value = header?.trim() ?? '';
  const scheme = /^(api_key|bearer)\s+/i.exec(value);
  return scheme ? value.slice(scheme[0].length).trim() : value;
}

/**
 * onRequest hook for routes keyed by `Authorization` (SDK or mobile key). Missing, unknown and
 * wrong-kind keys all get the same 401, so that callers cannot probe which keys exist.
 */
export function requireHeaderKey(
  registry: EnvironmentRegistry,
  audience: 'sdkKey' | 'mobileKey',
  unauthorized: (reply: FastifyReply) => FastifyReply = defaultUnauthorized,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const key = keyFromHeader(request.headers.authorization);
    const env =
      key === '' ? undefined : audience === 'sdkKey' ? registry.bySdkKey(key) : registry.byMobileKey(key);
    if (!env) return unauthorized(reply);
    authenticated.set(request, { env, audience });
  };
}

function defaultUnauthorized(reply: FastifyReply): FastifyReply {
  return reply.code(401).send({ code: 'unauthorized', message: 'unknown or missing key in Authorization' });
}

/** onRequest hook for JavaScript-client routes: the public client-side ID names the environment. */
export function requireClientSideId(registry: EnvironmentRegistry) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { envId } = request.params as { envId?: string };
    const env = envId ? registry.byClientSideId(envId) : undefined;
    if (!env) {
      return reply.code(404).send({ code: 'not_found', message: 'no environment has this client-side ID' });
    }
    authenticated.set(request, { env, audience: 'clientSideId' });
  };
}

/** What the route scope's hook established; handlers only run after it. */
export function authOf(request: FastifyRequest): Authenticated {
  const auth = authenticated.get(request);
  if (!auth) throw new Error('relay route registered without an authentication hook');
  return auth;
}
