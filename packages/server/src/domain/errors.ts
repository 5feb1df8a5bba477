/** One problem with a request, `path` being a JSON Pointer into the part of the request it concerns. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * A failure the caller can act on, carried from the domain layer to the HTTP layer: `status` is the
 * HTTP status, `code` a stable machine-readable name, and `extra` any further fields of the answer.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The human name of a pointer in messages: `rules/0/op`, or `fallback` for the whole document. */
export function fieldLabel(path: string, fallback = 'body'): string {
  if (path === '') return fallback;
  return path.startsWith('/') ? path.slice(1) : path;
}

/** Prefixes each message with the field it is about, so every entry can be read on its own. */
export function labelled(errors: readonly FieldError[]): FieldError[] {
  return errors.map((e) => ({ path: e.path, message: `${fieldLabel(e.path)}: ${e.message}` }));
}

const MAX_ERRORS = 100;

/** A 400 naming every bad field. `errors` hold unlabelled messages; labels are added here. */
export function invalid(errors: readonly FieldError[]): ApiError {
  const shown = labelled(dedupe(errors).slice(0, MAX_ERRORS));
  const first = shown[0]?.message ?? 'the request is not valid';
  const message = shown.length > 1 ? `${shown.length} problems, first: ${first}` : first;
  return new ApiError(400, 'invalid_request', message, { errors: shown });
}

/** A single-field 400. */
export function invalidField(path: string, message: string): ApiError {
  return invalid([{ path, message }]);
}

export function notFound(message: string): ApiError {
  return new ApiError(404, 'not_found', message);
}

export function alreadyExists(message: string): ApiError {
  return new ApiError(409, 'already_exists', message);
}

/** The caller's expected version is not the current one: it must re-read and retry. */
export function staleVersion(what: string, expected: number, current: number): ApiError {
  return new ApiError(
    409,
    'version_conflict',
    `${what} is at version ${current}, not ${expected}: re-read it and apply the change again`,
    { currentVersion: current },
  );
}

export function archivedConflict(message: string): ApiError {
  return new ApiError(409, 'archived', message);
}

export function inUse(message: string, usedBy: string[]): ApiError {
  return new ApiError(409, 'in_use', message, { usedBy });
}

function dedupe(errors: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** JSON text as an error message shows it, shortened so one long value cannot flood a message. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}
