import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { findToken, roleAllows } from '../domain/tokens.js';
import type { Actor, ApiToken, Role } from '../domain/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireRole for admin API requests. */
    apiToken?: ApiToken;
  }
}

/** The token secret from `Authorization: Bearer <token>` (or the bare token, as LaunchDarkly accepts). */
export function tokenFrom(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7).trim() : header.trim();
}

/**
 * A preHandler that admits API tokens of at least `role`. SDK keys are not API tokens, so they never
 * pass: the admin API and the SDK endpoints authenticate against different credentials.
 */
export function requireRole(ctx: ServerContext, role: Role) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = await findToken(ctx.storage, tokenFrom(request));
    if (!token) {
      return reply.code(401).send({
        code: 'unauthorized',
        message: 'a valid API token is required (Authorization: Bearer <token>)',
      });
    }
    if (!roleAllows(token.role, role)) {
      return reply.code(403).send({
        code: 'forbidden',
        message: `this needs a ${role} token; the token "${token.name}" is a ${token.role}`,
      });
    }
    request.apiToken = token;
  };
}

export function actorOf(request: FastifyRequest): Actor {
  const token = request.apiToken;
  return token
    ? { kind: 'token', id: token.id, name: token.name }
    : { kind: 'system', id: 'system', name: 'system' };
}
