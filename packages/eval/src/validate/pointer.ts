/** Appends one reference token to a JSON Pointer, escaping `~` and `/` as RFC 6901 requires. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}/${key}`;
  return `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}
