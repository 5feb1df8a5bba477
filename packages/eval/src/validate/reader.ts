import {
  type Checker,
  checkBoolean,
  checkInteger,
  checkNumber,
  checkString,
  isJsonObject,
} from './checker.js';
import { checkJsonValue } from './json.js';
import { childPath } from './pointer.js';

/**
 * `always`: required in both modes (an item's key and version). `required`: required in strict mode
 * only; schema mode accepts what LaunchDarkly's SDKs accept, which tolerate absent fields and only
 * fail when evaluation reaches them. `optional`: never required.
 */
export type Presence = 'always' | 'required' | 'optional';

/**
 * Reads the known properties of one input object while building its output copy. The copy starts with
 * every own property (unknown ones are kept for forward compatibility); a known optional property that
 * is null is treated as absent and dropped, as LaunchDarkly's SDKs do on ingest.
 */
export class ObjectReader {
  readonly out: Record<string, unknown>;

  constructor(
    readonly c: Checker,
    readonly path: string,
    private readonly src: Record<string, unknown>,
  ) {
    this.out = copyOwnProperties(src);
  }

  at(name: string): string {
    return childPath(this.path, name);
  }

  /** True when the property is present and not null. */
  has(name: string): boolean {
    return this.raw(name) != null;
  }

  string(name: string, presence: Presence = 'optional'): string | undefined {
    const value = this.take(name, presence, 'a string');
    return value === undefined ? undefined : checkString(this.c, this.at(name), value);
  }

  boolean(name: string, presence: Presence = 'optional'): boolean | undefined {
    const value = this.take(name, presence, 'a boolean');
    return value === undefined ? undefined : checkBoolean(this.c, this.at(name), value);
  }

  number(name: string, presence: Presence = 'optional'): number | undefined {
    const value = this.take(name, presence, 'a number');
    return value === undefined ? undefined : checkNumber(this.c, this.at(name), value);
  }

  integer(name: string, presence: Presence = 'optional', min?: number): number | undefined {
    const value = this.take(name, presence, min === 0 ? 'a non-negative integer' : 'an integer');
    return value === undefined ? undefined : checkInteger(this.c, this.at(name), value, min);
  }

  /**
   * Reads an array, passing each element to `item`, which reports its own errors and returns the
   * element's output value (undefined when the element is invalid). Returns the output array.
   */
  array(
    name: string,
    presence: Presence,
    item: (value: unknown, path: string) => unknown,
  ): unknown[] | undefined {
    const value = this.take(name, presence, 'an array');
    if (value === undefined) return undefined;
    const path = this.at(name);
    if (!Array.isArray(value)) return this.c.wrongType(path, 'an array', value);
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      const result = item(element, childPath(path, i));
      out.push(result === undefined ? element : result);
    }
    this.out[name] = out;
    return out;
  }

  stringArray(name: string, presence: Presence = 'optional'): string[] | undefined {
    return this.array(name, presence, (value, path) => checkString(this.c, path, value)) as
      | string[]
      | undefined;
  }

  /** An array of arbitrary JSON values, nulls included (variations, clause values). */
  jsonArray(name: string, presence: Presence = 'optional'): unknown[] | undefined {
    return this.array(name, presence, (value, path) =>
      checkJsonValue(this.c, path, value) ? value : undefined,
    );
  }

  object(
    name: string,
    presence: Presence,
    what: string,
    fill: (reader: ObjectReader) => void,
  ): Record<string, unknown> | undefined {
    const value = this.take(name, presence, `${what} (a JSON object)`);
    if (value === undefined) return undefined;
    const out = readObject(this.c, this.at(name), value, what, fill);
    if (out !== undefined) this.out[name] = out;
    return out;
  }

  private raw(name: string): unknown {
    return Object.hasOwn(this.src, name) ? this.src[name] : undefined;
  }

  /** The property's value, or undefined (reporting it when required) if it is absent or null. */
  private take(name: string, presence: Presence, expected: string): unknown {
    const value = this.raw(name);
    if (value != null) return value;
    delete this.out[name];
    if (presence === 'always' || (presence === 'required' && this.c.strict)) {
      const found = value === null ? 'got null' : 'it is missing';
      this.c.fail(this.at(name), `"${name}" is required: expected ${expected}, but ${found}`);
    }
    return undefined;
  }
}

/** Opens `value` as an object described by `what` (e.g. "a rule") and lets `fill` read its properties. */
export function readObject(
  c: Checker,
  path: string,
  value: unknown,
  what: string,
  fill: (reader: ObjectReader) => void,
): Record<string, unknown> | undefined {
  if (!isJsonObject(value)) return c.wrongType(path, `${what} (a JSON object)`, value);
  const reader = new ObjectReader(c, path, value);
  fill(reader);
  return reader.out;
}

/** Defines rather than assigns, so an own `__proto__` key from JSON.parse stays data, not a prototype. */
function copyOwnProperties(src: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(src)) {
    Object.defineProperty(out, key, {
      value: src[key],
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out;
}
