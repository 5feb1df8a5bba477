import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelayEnvironment } from '../environment.js';

// dataVersion restarts at 0 with the process; without this a client holding a tag from before a
// restart could get 304 for data that is no longer what it has.
const BOOT = randomBytes(6).toString('base64url');

/** An ETag that changes whenever the environment's data does (spec §8.2's `relay-<hash>` shape). */
export function etagOf(env: RelayEnvironment, variant = ''): string {
  return `"relay-${BOOT}-${env.status().dataVersion}${variant}"`;
}

/** Whether `If-None-Match` names this tag (weak or strong, in a list, or `*`). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

/** Sends `body` (built lazily, so a 304 costs nothing) with its ETag. */
export function sendWithEtag(
  request: FastifyRequest,
  reply: FastifyReply,
  etag: string,
  body: () => unknown,
): FastifyReply {
  reply.header('ETag', etag);
  if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(body()));
}

/** Relay answers 503 on polling and evaluation before its first data (spec §8.2). */
export function notReady(env: RelayEnvironment, reply: FastifyReply): FastifyReply | undefined {
  if (env.status().initialized) return undefined;
  return reply
    .code(503)
    .send({ code: 'not_initialized', message: 'the relay has not received this environment’s data yet' });
}
