/**
 * The exclusive upper bound of the ids that start with `prefix`, or undefined when there is none (a
 * prefix made only of U+10FFFF, where `id >= prefix` alone is exact).
 *
 * Both backends compare text in code point order (SQLite's BINARY collation and PostgreSQL's "C"
 * collation compare UTF-8 bytes, which sort like code points), so `id >= prefix AND id < bound`
 * is exactly "starts with prefix" and walks the primary key. LIKE would not do: ids may contain `%`
 * and `_`. Neither would appending U+FFFF: characters beyond the BMP (emoji) sort above it.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (char) => char.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      // Surrogate code points cannot be encoded in UTF-8, so the next character after U+D7FF is U+E000.
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}
