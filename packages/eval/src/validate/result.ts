/** One problem found in the input. `path` is a JSON Pointer (RFC 6901) into the input; `""` is the root. */
export interface ValidationError {
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: ValidationError[] };

/**
 * `schema` checks JSON shapes only, which is all an SDK or relay may demand of data from a
 * LaunchDarkly-compatible service. `strict` adds the semantic rules the flag service enforces before a
 * flag or segment is published, so malformed data never reaches an SDK.
 */
export type ValidationMode = 'schema' | 'strict';

export interface ValidationOptions {
  mode?: ValidationMode;
}
