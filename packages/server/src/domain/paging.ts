import type { Collection, Doc, StorageReader } from '../storage/types.js';

export interface Page<T> {
  items: T[];
  /** Pass as `after` to get the next page; absent when this page is the last. */
  next?: string;
}

const BATCH = 200;

/**
 * Documents under `prefix` ordered by id, filtered by `keep`, `limit` at a time. Paging is by the
 * last key seen rather than an offset, so writes between requests neither skip nor repeat items.
 */
export async function pageOf<T>(
  reader: StorageReader,
  collection: Collection,
  options: { prefix: string; after?: string; limit: number; keep: (value: T) => boolean },
): Promise<Page<Doc<T>>> {
  const items: Doc<T>[] = [];
  let cursor = options.after !== undefined ? options.prefix + options.after : undefined;
  for (;;) {
    const batch = await reader.list<T>(collection, { prefix: options.prefix, after: cursor, limit: BATCH });
    for (const doc of batch) {
      cursor = doc.id;
      if (!options.keep(doc.value)) continue;
      // One item beyond the page tells whether there is a next page, so the last page has no `next`.
      const last = items[items.length - 1];
      if (items.length === options.limit && last)
        return { items, next: last.id.slice(options.prefix.length) };
      items.push(doc);
    }
    if (batch.length < BATCH) return { items };
  }
}

/** Case-insensitive substring search over a few fields. */
export function matchesQuery(q: string | undefined, ...fields: (string | undefined)[]): boolean {
  if (!q) return true;
  const needle = q.toLowerCase();
  return fields.some((f) => f?.toLowerCase().includes(needle));
}
