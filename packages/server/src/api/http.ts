import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { ApiError, type FieldError, fieldLabel } from '../domain/errors.js';
import { checkSchema } from '../domain/schemaCheck.js';
import { ConflictError } from '../storage/types.js';

/*
 * Request validation and error answers for the admin API. Every refusal is JSON
 * `{code, message, errors?: [{path, message}]}`; validation errors name each field by JSON Pointer
 * (body fields as `/name`, other parts as `query/limit`, `params/env`, `headers/if-match`).
 */

const PART: Record<string, string> = { querystring: 'query', params: 'params', headers: 'headers' };

/** A request part that does not fit its schema. */
export class RequestValidationError extends Error {
  readonly statusCode = 400;
  readonly code = 'FST_ERR_VALIDATION';

  constructor(readonly errors: FieldError[]) {
    super(errors[0]?.message ?? 'the request is not valid');
    this.name = 'RequestValidationError';
  }
}

/**
 * Validates with TypeBox rather than Fastify's default Ajv setup, which reports only the first error,
 * silently drops unknown properties and coerces body types: here every bad field is reported, unknown
 * properties are refused, and only query strings, path parameters and headers (text by nature) are
 * converted to the types their schemas ask for.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const part = httpPart === undefined ? undefined : PART[httpPart];
  return (input: unknown) => {
    try {
      const value =
        part === undefined
          ? input === null || input === undefined
            ? {}
            : input
          : Value.Convert(schema, input);
      const errors = checkSchema(schema, value);
      if (errors.length === 0) return { value };
      const located = errors.map((e) => {
        const path = part === undefined ? e.path : `${part}${e.path}`;
        return { path, message: `${fieldLabel(path, part ?? 'body')}: ${e.message}` };
      });
      return { error: new RequestValidationError(located) };
    } catch (err) {
      const message = err instanceof Error ? err.message : 'the request could not be read';
      return { error: new RequestValidationError([{ path: part ?? '', message }]) };
    }
  };
};

/** Answers errors as JSON; a 5xx is logged and told apart from the caller's mistakes. */
export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof RequestValidationError) {
    const message =
      error.errors.length > 1 ? `${error.errors.length} problems, first: ${error.message}` : error.message;
    return reply.code(400).send({ code: 'invalid_request', message, errors: error.errors });
  }
  if (error instanceof ApiError) {
    return reply.code(error.status).send({ code: error.code, message: error.message, ...error.extra });
  }
  if (error instanceof ConflictError) {
    return reply.code(409).send({ code: 'conflict', message: `${error.message}; re-read it and retry` });
  }
  const status = (error as FastifyError).statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = clientErrorCode(error as FastifyError, status);
    // Unreadable bodies (bad JSON, wrong content type) concern the body as a whole.
    const errors = code === 'invalid_request' ? [{ path: '', message: `body: ${error.message}` }] : undefined;
    return reply.code(status).send({ code, message: error.message, ...(errors ? { errors } : {}) });
  }
  request.log.error({ err: error }, 'admin API request failed');
  return reply.code(500).send({ code: 'internal', message: 'the server failed to handle the request' });
}

function clientErrorCode(error: FastifyError, status: number): string {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    default:
      if (status === 404) return 'not_found';
      if (status === 413) return 'payload_too_large';
      if (status === 415) return 'unsupported_media_type';
      return 'invalid_request';
  }
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply
    .code(404)
    .send({ code: 'not_found', message: `there is no route ${request.method} ${request.url.split('?')[0]}` });
}

/** The version a change is based on: body `version`, else `If-Match` (`"3"`, `3` or `W/"3"`). */
export function expectedVersion(request: FastifyRequest, bodyVersion?: number): number | undefined {
  if (bodyVersion !== undefined) return bodyVersion;
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(Array.isArray(header) ? (header[0] ?? '') : header);
  const version = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new ApiError(400, 'invalid_request', 'headers/if-match: expected a version number such as "3"', {
      errors: [
        { path: 'headers/if-match', message: 'headers/if-match: expected a version number such as "3"' },
      ],
    });
  }
  return version;
}
