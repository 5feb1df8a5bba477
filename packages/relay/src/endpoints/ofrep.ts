import { createHash } from 'node:crypto';
import { Context, ContextError, evaluate, type Flag, type JsonValue, type Reason } from '@flagstaff/eval';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { EnvironmentRegistry, RelayEnvironment } from '../environment.js';
import { authOf, requireHeaderKey } from './auth.js';
import { evaluationData } from './clientEval.js';
import { etagMatches } from './polling.js';

/*
 * OpenFeature Remote Evaluation Protocol (OFREP v1): any OpenFeature SDK with an OFREP provider can
 * evaluate the relay's flags over plain HTTP. Authenticated by the SDK key, so every flag is visible.
 */

type ErrorCode = 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL' | 'FLAG_NOT_FOUND';

export interface OfrepSuccess {
  key: string;
  value: JsonValue;
  reason: 'TARGETING_MATCH' | 'DEFAULT' | 'DISABLED' | 'ERROR';
  variant?: string;
  metadata: Record<string, string | number | boolean>;
}

export interface OfrepFailure {
  key: string;
  errorCode: ErrorCode;
  errorDetails: string;
}

class OfrepError {
  constructor(
    readonly code: ErrorCode,
    readonly details: string,
  ) {}
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One OpenFeature single-kind context (`targetingKey` + attributes) as a LaunchDarkly one. */
function singleKind(input: Record<string, unknown>, kind: string): Record<string, unknown> | OfrepError {
  const { targetingKey, key, kind: _kind, ...attributes } = input;
  // OpenFeature names the key `targetingKey`; a caller used to LaunchDarkly may send `key` instead.
  const contextKey = targetingKey ?? key;
  if (contextKey === undefined || contextKey === null || contextKey === '') {
    return new OfrepError('TARGETING_KEY_MISSING', `the ${kind} context has no targetingKey`);
  }
  if (typeof contextKey !== 'string') {
    return new OfrepError('INVALID_CONTEXT', `the ${kind} context's targetingKey must be a string`);
  }
  return { ...attributes, kind, key: contextKey };
}

/**
 * The evaluation context of an OFREP request as a LaunchDarkly context: `kind` defaults to `user`;
 * `kind: 'multi'` takes every object-valued attribute as the context of that kind.
 */
export function contextFromOfrep(body: unknown): Context | OfrepError {
  if (body !== undefined && body !== null && !isObject(body)) {
    return new OfrepError('PARSE_ERROR', 'the request body must be a JSON object');
  }
  const input = (body as { context?: unknown } | undefined | null)?.context;
  if (input === undefined || input === null) {
    return new OfrepError('TARGETING_KEY_MISSING', 'the request has no evaluation context');
  }
  if (!isObject(input)) return new OfrepError('INVALID_CONTEXT', 'context must be an object');
  const kind = input.kind ?? 'user';
  if (typeof kind !== 'string') return new OfrepError('INVALID_CONTEXT', 'kind must be a string');
  let ld: Record<string, unknown> | OfrepError;
  if (kind === 'multi') {
    ld = { kind: 'multi' };
    for (const [name, value] of Object.entries(input)) {
      if (name === 'kind' || name === 'targetingKey' || !isObject(value)) continue;
      const part = singleKind(value, name);
      if (part instanceof OfrepError) return part;
      const { kind: _partKind, ...rest } = part;
      ld[name] = rest;
    }
  } else {
    ld = singleKind(input, kind);
  }
  if (ld instanceof OfrepError) return ld;
  const context = Context.from(ld);
  if (context instanceof ContextError) return new OfrepError('INVALID_CONTEXT', context.message);
  return context;
}

/** LaunchDarkly's reason kinds folded into OFREP's vocabulary. */
function ofrepReason(reason: Reason): OfrepSuccess['reason'] {
  switch (reason.kind) {
    case 'TARGET_MATCH':
    case 'RULE_MATCH':
      return 'TARGETING_MATCH';
    case 'OFF':
      return 'DISABLED';
    case 'ERROR':
      return 'ERROR';
    default:
      // Fallthrough and a failed prerequisite both serve what the flag gives when nothing targets.
      return 'DEFAULT';
  }
}

function evaluateOne(env: RelayEnvironment, flag: Flag, context: Context): OfrepSuccess | OfrepFailure {
  const { detail } = evaluate(flag, context, evaluationData(env.flags(), env.segments()));
  if (detail.reason.kind === 'ERROR') {
    return {
      key: flag.key,
      errorCode: 'GENERAL',
      errorDetails: `evaluation failed: ${detail.reason.errorKind}`,
    };
  }
  const metadata: OfrepSuccess['metadata'] = { flagVersion: flag.version, ldReason: detail.reason.kind };
  if (detail.reason.kind === 'RULE_MATCH' && detail.reason.ruleId) metadata.ruleId = detail.reason.ruleId;
  const result: OfrepSuccess = {
    key: flag.key,
    value: detail.value,
    reason: ofrepReason(detail.reason),
    metadata,
  };
  // The variation index names the variant: flags have no variation names in LaunchDarkly's model.
  if (detail.variationIndex !== null) result.variant = String(detail.variationIndex);
  return result;
}

function failure(
  reply: FastifyReply,
  status: number,
  key: string | undefined,
  error: OfrepError,
): FastifyReply {
  return reply
    .code(status)
    .send({ ...(key === undefined ? {} : { key }), errorCode: error.code, errorDetails: error.details });
}

function notInitialized(env: RelayEnvironment): OfrepError | undefined {
  return env.status().initialized
    ? undefined
    : new OfrepError('GENERAL', 'the relay has not received this environment’s data yet');
}

export function ofrepRoutes(registry: EnvironmentRegistry): FastifyPluginAsync {
  return async (app) => {
    app.addHook(
      'onRequest',
      requireHeaderKey(registry, 'sdkKey', (reply) =>
        reply
          .code(401)
          .send({ errorCode: 'GENERAL', errorDetails: 'unknown or missing SDK key in Authorization' }),
      ),
    );
    // Malformed JSON is an OFREP PARSE_ERROR, not Fastify's generic error body.
    app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status >= 500) request.log.error(error);
      const key = (request.params as { key?: string }).key;
      const code: ErrorCode = status === 400 || status === 415 ? 'PARSE_ERROR' : 'GENERAL';
      return failure(reply, status === 415 ? 400 : status, key, new OfrepError(code, error.message));
    });

    app.post(
      '/ofrep/v1/evaluate/flags/:key',
      async (request: FastifyRequest<{ Params: { key: string } }>, reply) => {
        const { env } = authOf(request);
        const { key } = request.params;
        const context = contextFromOfrep(request.body);
        if (context instanceof OfrepError) return failure(reply, 400, key, context);
        const unavailable = notInitialized(env);
        if (unavailable) return failure(reply, 503, key, unavailable);
        const flags = env.flags();
        const flag = Object.hasOwn(flags, key) ? flags[key] : undefined;
        if (!flag) return failure(reply, 404, key, new OfrepError('FLAG_NOT_FOUND', `no flag "${key}"`));
        const result = evaluateOne(env, flag, context);
        return 'errorCode' in result ? reply.code(400).send(result) : reply.send(result);
      },
    );

    app.post('/ofrep/v1/evaluate/flags', async (request, reply) => {
      const { env } = authOf(request);
      const context = contextFromOfrep(request.body);
      if (context instanceof OfrepError) return failure(reply, 400, undefined, context);
      const unavailable = notInitialized(env);
      if (unavailable) return failure(reply, 503, undefined, unavailable);
      const flags = Object.values(env.flags()).map((flag) => evaluateOne(env, flag, context));
      const body = JSON.stringify({ flags });
      // The results depend on the context as well as the data, so the tag hashes what is sent.
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
      reply.header('ETag', etag);
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(body);
    });
  };
}
