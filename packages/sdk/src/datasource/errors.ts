import { HttpStatusError, isRecoverableStatus } from '../http/request.js';

/**
 * A 4xx the SDK will not retry (spec §4.3): the request itself is wrong (bad key, unknown path), so
 * repeating it only adds load. Statuses outside 4xx that are not a success (3xx, 5xx) are retried.
 */
export function isPermanentStatus(status: number): boolean {
  return status >= 400 && status < 500 && !isRecoverableStatus(status);
}

/** An error for an unexpected status of a flag-data request, worded for the person reading the log. */
export function statusError(status: number, request: 'streaming' | 'polling', url: string): HttpStatusError {
  let message = `Received HTTP ${status} for ${request} request ${url}`;
  if (status === 401 || status === 403) {
    message += ': the SDK key was rejected (it is invalid, revoked or lacks access)';
  }
  if (isPermanentStatus(status)) message += `; the SDK will not retry ${request}`;
  return new HttpStatusError(status, message);
}

// Errors Node throws before sending anything, for a URI or header it cannot use (an SDK key with a
// newline, a URI without http:). Retrying cannot fix them.
const CONFIGURATION_ERRORS = new Set([
  'ERR_INVALID_URL',
  'ERR_INVALID_PROTOCOL',
  'ERR_INVALID_CHAR',
  'ERR_INVALID_HTTP_TOKEN',
]);

/** Whether a data source should give up for good on this error rather than retry. */
export function isPermanentError(error: Error): boolean {
  if (error instanceof HttpStatusError) return isPermanentStatus(error.status);
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && CONFIGURATION_ERRORS.has(code);
}
