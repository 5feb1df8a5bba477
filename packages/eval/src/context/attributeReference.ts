/**
 * An attribute reference (spec §2.4): either a slash path such as `/address/city` with `~1` and `~0`
 * escapes, or a literal attribute name (clauses without `contextKind`, legacy private attribute names).
 * References are parsed once and cached by the evaluator, so lookups only walk components.
 */
export class AttributeReference {
  /** The path components; empty when the reference is invalid. */
  readonly components: readonly string[];
  readonly valid: boolean;
  /** True for the special `kind` attribute, which yields the context's list of kinds. */
  readonly isKind: boolean;
  /** True for `anonymous`, which reads as false when absent. */
  readonly isAnonymous: boolean;
  /** The reference as written in redaction output (`_meta.redactedAttributes`). */
  readonly redactionName: string;

  private constructor(components: readonly string[], valid: boolean, redactionName: string) {
    this.components = valid ? components : [];
    this.valid = valid;
    this.isKind = valid && components.length === 1 && components[0] === 'kind';
    this.isAnonymous = valid && components.length === 1 && components[0] === 'anonymous';
    this.redactionName = redactionName;
  }

  /** Parses `ref` as a reference: a slash path when it starts with `/`, else one literal component. */
  static parse(ref: string): AttributeReference {
    if (typeof ref !== 'string' || ref === '' || ref === '/') return AttributeReference.invalid(String(ref));
    if (ref.charCodeAt(0) !== 0x2f /* / */) {
      return new AttributeReference([ref], ref !== '_meta', ref);
    }
    const raw = ref.slice(1).split('/');
    const components: string[] = [];
    for (const part of raw) {
      if (part === '') return AttributeReference.invalid(ref);
      const unescaped = unescapeComponent(part);
      if (unescaped === undefined) return AttributeReference.invalid(ref);
      components.push(unescaped);
    }
    return new AttributeReference(components, components[0] !== '_meta', ref);
  }

  /** A literal attribute name, never split on `/` (legacy clauses and `privateAttributeNames`). */
  static literal(name: string): AttributeReference {
    if (typeof name !== 'string' || name === '') return AttributeReference.invalid(String(name));
    const redactionName =
      name.charCodeAt(0) === 0x2f ? `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}` : name;
    // A literal is valid whenever non-empty (spec §2.4), even `_meta`: only paths may not start there.
    return new AttributeReference([name], true, redactionName);
  }

  private static invalid(text: string): AttributeReference {
    return new AttributeReference([], false, text);
  }

  /**
   * Reads the referenced value from an attribute object, walking nested JSON objects only (arrays are
   * never indexed). Inherited properties such as `toString` are not attributes.
   */
  get(target: object): unknown {
    if (!this.valid) return undefined;
    const { components } = this;
    let current: unknown = target;
    for (let i = 0; i < components.length; i++) {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
      const name = components[i]!;
      const next = (current as Record<string, unknown>)[name];
      if (next === undefined || !Object.hasOwn(current, name)) return undefined;
      current = next;
    }
    return current;
  }
}

/** Undoes `~1` -> `/` and `~0` -> `~`; any other `~` sequence makes the reference invalid. */
function unescapeComponent(part: string): string | undefined {
  if (part.indexOf('~') < 0) return part;
  let out = '';
  for (let i = 0; i < part.length; i++) {
    const ch = part[i];
    if (ch !== '~') {
      out += ch;
      continue;
    }
    const next = part[i + 1];
    if (next === '0') out += '~';
    else if (next === '1') out += '/';
    else return undefined;
    i++;
  }
  return out;
}
