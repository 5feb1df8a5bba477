import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { resolveCredential } from '../domain/environmentData.js';
import type { CredentialKind, Environment } from '../domain/types.js';

/** The key a request (or an open stream) authenticated with. */
export interface Credential {
  key: string;
  kind: CredentialKind;
}

/** What an SDK request is allowed to see: one environment, through one credential. */
export interface SdkAuth {
  env: Environment;
  credential: Credential;
  /** Set while the credential is a rotated-out key in its grace period: streams end at this time. */
  expiresAt: number | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the SDK endpoints' authentication hooks. */
    sdkAuth: SdkAuth | null;
  }
}

/** The key in `Authorization`: the raw key as SDKs send it, or `api_key <key>` as Relay also accepts. */
export function keyFromHeader(header: string | undefined): string {
  const value = header?.trim() ?? '';
  const scheme = /^api_key\s+/i.exec(value);
  return scheme ? value.slice(scheme[0].length).trim() : value;
}

/** When a still-valid key stops working: only a rotated-out SDK or mobile key has an end. */
export function credentialExpiry(env: Environment, credential: Credential): number | undefined {
  const retired =
    credential.kind === 'sdkKey'
      ? env.retiredKeys.sdkKey
      : credential.kind === 'mobileKey'
        ? env.retiredKeys.mobileKey
        : undefined;
  return retired?.key === credential.key ? retired.expiresAt : undefined;
}

export async function authenticate(
  ctx: ServerContext,
  key: string,
  kind: CredentialKind,
): Promise<SdkAuth | undefined> {
  const env = await resolveCredential(ctx.storage, key, kind, ctx.now());
  if (!env) return undefined;
  const credential = { key, kind };
  return { env, credential, expiresAt: credentialExpiry(env, credential) };
}

/**
 * An onRequest hook for routes authenticated by a key in `Authorization` (server-side SDK key or mobile
 * key). A missing key, an unknown key and a key of another kind all get 401: which keys exist, and of
 * what kind, is not something an unauthenticated caller should be able to probe.
 */
export function requireHeaderKey(ctx: ServerContext, kind: 'sdkKey' | 'mobileKey') {
  const what = kind === 'sdkKey' ? 'an SDK key' : 'a mobile key';
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = await authenticate(ctx, keyFromHeader(request.headers.authorization), kind);
    if (!auth) {
      return reply.code(401).send({
        code: 'unauthorized',
        message: `this endpoint needs ${what} of an environment in the Authorization header`,
      });
    }
    request.sdkAuth = auth;
  };
}

/**
 * An onRequest hook for JavaScript-client routes, which carry the client-side ID in the path (`:envId`).
 * An unknown ID is 404, as in LaunchDarkly's Relay: the ID is public, so it names an environment
 * rather than proving anything.
 */
export function requireClientSideId(ctx: ServerContext) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { envId } = request.params as { envId?: string };
    const auth = await authenticate(ctx, envId ?? '', 'clientSideId');
    if (!auth) {
      return reply.code(404).send({ code: 'not_found', message: 'no environment has this client-side ID' });
    }
    request.sdkAuth = auth;
  };
}

/** The authentication the route scope's hook established; handlers only run after it. */
export function authOf(request: FastifyRequest): SdkAuth {
  const auth = request.sdkAuth;
  if (!auth) throw new Error('SDK route registered without an authentication hook');
  return auth;
}
