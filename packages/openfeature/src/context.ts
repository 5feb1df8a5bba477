// OpenFeature evaluation context -> LaunchDarkly context, following the conventions LaunchDarkly documents for
// its own OpenFeature providers, so that contexts written for those work here unchanged.
import type { LDContext, LDLogger } from '@flagstaff/node-server-sdk';
import type { EvaluationContext, EvaluationContextValue } from '@openfeature/server-sdk';

/** The result of translating one evaluation context. */
export interface TranslatedContext {
  /** The LaunchDarkly context; invalid (no key) when `keyMissing` is true, so the client rejects it. */
  context: LDContext;
  /**
   * True when a context (or a member of a multi-kind context) had neither `targetingKey` nor `key`: the
   * client's "invalid context" error is then reported as TARGETING_KEY_MISSING instead of INVALID_CONTEXT.
   */
  keyMissing: boolean;
}

type Attributes = Record<string, EvaluationContextValue | undefined>;

/** Built-in attributes whose type LaunchDarkly fixes: a value of another type is dropped with a warning. */
const TYPED_BUILT_INS: Record<string, 'string' | 'boolean'> = { name: 'string', anonymous: 'boolean' };

/**
 * Translates an OpenFeature evaluation context:
 * - `targetingKey` (or else `key`) becomes the context key;
 * - `kind` selects the context kind (default `user`); `kind: 'multi'` makes a multi-kind context from the
 *   top-level attributes that are objects, one per kind, each with its own `targetingKey`;
 * - `name` (string) and `anonymous` (boolean) keep their LaunchDarkly meaning; `privateAttributes` (array of
 *   attribute references) becomes `_meta.privateAttributes`;
 * - every other attribute is copied, with Date values turned into ISO-8601 strings (LaunchDarkly's date
 *   operators accept those, and JSON cannot carry a Date).
 * Problems are logged as warnings; nothing here throws.
 */
export function translateContext(input: EvaluationContext, logger: LDLogger): TranslatedContext {
  const state = { keyMissing: false };
  const kind = input.kind;
  if (kind === 'multi')
    return { context: translateMulti(input, logger, state), keyMissing: state.keyMissing };

  let finalKind = 'user';
  if (typeof kind === 'string') finalKind = kind;
  else if (kind !== undefined && kind !== null) {
    logger.warn(`The evaluation context's "kind" must be a string; treating the context as kind "user"`);
  }
  const context: LDContext = { kind: finalKind, ...translateSingle(input, finalKind, logger, state) };
  return { context, keyMissing: state.keyMissing };
}

function translateMulti(
  input: EvaluationContext,
  logger: LDLogger,
  state: { keyMissing: boolean },
): LDContext {
  const context: LDContext = { kind: 'multi' };
  for (const [kind, value] of Object.entries(input)) {
    if (kind === 'kind') continue;
    if (isPlainObject(value)) {
      context[kind] = translateSingle(value, kind, logger, state);
    } else {
      // Global or transaction context merged in by OpenFeature can put plain attributes here; they belong to
      // no kind, so they cannot be placed.
      logger.warn(
        `In a multi-kind evaluation context every top-level attribute except "kind" must be an object ` +
          `(one per context kind); "${kind}" is ignored`,
      );
    }
  }
  return context;
}

/** The attributes of one context kind (without `kind`, which the caller sets). */
function translateSingle(
  input: Attributes,
  kind: string,
  logger: LDLogger,
  state: { keyMissing: boolean },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const key = pickKey(input, kind, logger);
  // Left out when missing: the client then rejects the context, and evaluation returns the default.
  if (key === undefined) state.keyMissing = true;
  else out.key = key;

  let privateAttributes: string[] | undefined;
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined || name === 'targetingKey' || name === 'key' || name === 'kind') continue;
    if (name === 'privateAttributes') {
      privateAttributes = readPrivateAttributes(value, kind, logger);
      continue;
    }
    const expected = TYPED_BUILT_INS[name];
    if (expected !== undefined && typeof value !== expected) {
      logger.warn(`The "${name}" attribute of a "${kind}" context must be a ${expected}; it is ignored`);
      continue;
    }
    out[name] = toJsonValue(value);
  }
  if (privateAttributes !== undefined) {
    const meta = isPlainObject(out._meta) ? out._meta : {};
    out._meta = { ...meta, privateAttributes };
  }
  return out;
}

function pickKey(input: Attributes, kind: string, logger: LDLogger): string | undefined {
  const targetingKey = usableKey(input.targetingKey, 'targetingKey', kind, logger);
  const key = usableKey(input.key, 'key', kind, logger);
  if (targetingKey !== undefined && key !== undefined && targetingKey !== key) {
    logger.warn(
      `A "${kind}" evaluation context has both "targetingKey" and "key"; "targetingKey" is used and "key" ` +
        'is ignored',
    );
  }
  const chosen = targetingKey ?? key;
  if (chosen === undefined) {
    logger.warn(
      `A "${kind}" evaluation context has no targeting key: set "targetingKey" (or "key") to a non-empty ` +
        'string. The evaluation returns the default value.',
    );
  }
  return chosen;
}

function usableKey(value: unknown, name: string, kind: string, logger: LDLogger): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  logger.warn(`The "${name}" of a "${kind}" evaluation context must be a non-empty string; it is ignored`);
  return undefined;
}

function readPrivateAttributes(value: EvaluationContextValue, kind: string, logger: LDLogger): string[] {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return [...value];
  logger.warn(
    `The "privateAttributes" of a "${kind}" evaluation context must be an array of strings; ` +
      'only its string elements are used',
  );
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * A deep copy in JSON terms (also used for tracking event data): Dates become ISO strings, so the client never
 * sees a value that JSON cannot carry.
 */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) if (item !== undefined) out[name] = toJsonValue(item);
    return out;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, EvaluationContextValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
