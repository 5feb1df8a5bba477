const MAX_SHOWN = 100;

/** Names a received value for an error message, e.g. `the string "abc"`, without dumping large values. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `the string ${quote(value)}`;
    case 'number':
      return Number.isFinite(value) ? `the number ${value}` : String(value);
    case 'boolean':
      return `the boolean ${value}`;
    case 'bigint':
      return 'a bigint';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const tag = objectTag(value as object);
  return tag === 'Object' ? 'an object' : `a ${tag} object`;
}

/** A string as JSON would write it, shortened so that one bad value cannot flood an error list. */
export function quote(text: string): string {
  const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  return JSON.stringify(shown);
}

/**
 * The built-in tag (`Object`, `Date`, `Map`, ...). Used instead of prototype identity so that plain
 * objects from another realm (an iframe, a worker's structured clone) still count as JSON objects.
 */
export function objectTag(value: object): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
