import { AttributeReference } from '../context/attributeReference.js';
import type { Context } from '../context/context.js';

export interface RedactionOptions {
  /** Redact every attribute that is not protected (SDK option). */
  allAttributesPrivate?: boolean;
  /** Attribute references (`/address/city`, or a plain name) redacted in every context (SDK option). */
  privateAttributes?: readonly string[];
}

type JsonObjectOut = Record<string, unknown>;

/** Top-level attributes that identify a context and therefore can never be redacted (spec §2.5). */
const PROTECTED = new Set(['key', 'kind', 'anonymous', '_meta']);
const LEGACY_STRINGIFIED = new Set(['name', 'ip', 'firstName', 'lastName', 'email', 'avatar', 'country']);

/**
 * Produces the context JSON placed in analytics events (spec §2.5, §6.3): private attributes are
 * removed from a deep copy and listed in `_meta.redactedAttributes`. The SDK options are parsed once
 * here, so an event processor should keep one instance rather than call `redactContext` per event.
 */
export class ContextRedactor {
  private readonly allAttributesPrivate: boolean;
  private readonly globalReferences: readonly AttributeReference[];

  constructor(options: RedactionOptions = {}) {
    this.allAttributesPrivate = options.allAttributesPrivate === true;
    this.globalReferences = (options.privateAttributes ?? [])
      .filter((ref) => typeof ref === 'string')
      .map((ref) => AttributeReference.parse(ref))
      .filter(isRedactable);
  }

  /**
   * @param redactAnonymous also redact every attribute of members with `anonymous: true`, as server
   *   SDKs do in feature, custom and migration events (not in index, identify or debug events).
   */
  redact(context: Context, redactAnonymous = false): JsonObjectOut {
    const kinds = context.kinds;
    if (kinds.length === 1) {
      const kind = kinds[0]!;
      return this.redactMember(context, kind, { kind }, redactAnonymous);
    }
    const out: JsonObjectOut = { kind: 'multi' };
    for (const kind of kinds) setCopy(out, kind, this.redactMember(context, kind, {}, redactAnonymous));
    return out;
  }

  private redactMember(
    context: Context,
    kind: string,
    out: JsonObjectOut,
    redactAnonymous: boolean,
  ): JsonObjectOut {
    // Defensive: an event must still be produced rather than throw in the event pipeline.
    const attrs = context.attributes(kind) ?? {};
    const redactAll = this.allAttributesPrivate || (redactAnonymous && attrs.anonymous === true);
    const references = redactAll ? [] : this.referencesFor(context, kind);
    const redacted: string[] = [];
    const ancestors: object[] = [attrs];

    out.key = attrs.key;
    for (const name of Object.keys(attrs)) {
      // `kind` is written from the context's kinds (members of a multi-kind context carry none), and
      // `_meta` is rebuilt below because its `privateAttributes` must never leave the SDK.
      if (name === 'kind' || name === '_meta' || name === 'key') continue;
      const value = attrs[name];
      if (!isJsonish(value)) continue;
      if (PROTECTED.has(name)) {
        setCopy(out, name, cloneJson(value, ancestors));
        continue;
      }
      if (redactAll) {
        redacted.push(AttributeReference.literal(name).redactionName);
        continue;
      }
      const copy = copyAttribute(name, value, references, 0, redacted, ancestors);
      if (copy === undefined) continue;
      // Legacy users historically had string-typed built-ins, and LaunchDarkly still sends them so.
      setCopy(out, name, context.legacy && LEGACY_STRINGIFIED.has(name) ? String(copy) : copy);
    }

    if (redacted.length > 0) out._meta = { redactedAttributes: redacted.sort() };
    return out;
  }

  private referencesFor(context: Context, kind: string): readonly AttributeReference[] {
    const own = context.privateAttributes(kind);
    if (own.length === 0) return this.globalReferences;
    // SDK-wide references come first: when two references name the same attribute (`email` and
    // `/email`), the first one decides the spelling listed in `redactedAttributes`.
    return [...this.globalReferences, ...own.filter(isRedactable)];
  }
}

/** Convenience wrapper around {@link ContextRedactor} for one-off calls. */
export function redactContext(
  context: Context,
  options: RedactionOptions,
  redactAnonymous = false,
): Record<string, unknown> {
  return new ContextRedactor(options).redact(context, redactAnonymous);
}

function isRedactable(ref: AttributeReference): boolean {
  return ref.valid && !(ref.components.length === 1 && PROTECTED.has(ref.components[0]!));
}

/**
 * Copies the attribute `name` (found at path depth `depth`) unless a reference addresses it exactly;
 * references that go deeper are applied inside it when it is an object (arrays are never entered,
 * spec §2.4). Returns undefined when the attribute is redacted or cannot be represented in JSON.
 */
function copyAttribute(
  name: string,
  value: unknown,
  references: readonly AttributeReference[],
  depth: number,
  redacted: string[],
  ancestors: object[],
): unknown {
  let deeper: AttributeReference[] | undefined;
  for (const ref of references) {
    const components = ref.components;
    if (components[depth] !== name) continue;
    if (components.length === depth + 1) {
      redacted.push(ref.redactionName);
      return undefined;
    }
    if (deeper === undefined) deeper = [ref];
    else deeper.push(ref);
  }
  if (deeper === undefined || !isPlainObject(value)) return cloneJson(value, ancestors);
  if (ancestors.includes(value)) return undefined;
  ancestors.push(value);
  const out: JsonObjectOut = {};
  for (const child of Object.keys(value)) {
    const childValue = value[child];
    if (!isJsonish(childValue)) continue;
    const copy = copyAttribute(child, childValue, deeper, depth + 1, redacted, ancestors);
    if (copy !== undefined) setCopy(out, child, copy);
  }
  ancestors.pop();
  return out;
}

/**
 * Deep-copies a JSON-like value so that later changes by the caller cannot alter a queued event.
 * Values JSON cannot represent come back as undefined (dropped); a reference cycle, which would make
 * serialization throw, is cut at the repeated object.
 */
function cloneJson(value: unknown, ancestors: object[]): unknown {
  if (value === null || typeof value !== 'object') return isJsonish(value) ? value : undefined;
  if (ancestors.includes(value)) return undefined;
  ancestors.push(value);
  let out: unknown;
  if (Array.isArray(value)) {
    // JSON.stringify writes unrepresentable array elements as null; doing it here keeps indexes stable.
    out = value.map((item) => cloneJson(item, ancestors) ?? null);
  } else {
    const copy: JsonObjectOut = {};
    const source = value as JsonObjectOut;
    for (const name of Object.keys(source)) setCopy(copy, name, cloneJson(source[name], ancestors));
    out = copy;
  }
  ancestors.pop();
  return out;
}

function setCopy(target: JsonObjectOut, name: string, value: unknown): void {
  if (value === undefined) return;
  // A `__proto__` attribute must become an own property, not replace the copy's prototype.
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[name] = value;
  }
}

function isPlainObject(value: unknown): value is JsonObjectOut {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isJsonish(value: unknown): boolean {
  const type = typeof value;
  return type !== 'undefined' && type !== 'function' && type !== 'symbol' && type !== 'bigint';
}
