import type { KindItems, SerializedItem } from '../../api/persistentStore.js';
import type {
  DataKind,
  LDFeatureStoreDataStorage,
  LDFeatureStoreItem,
  LDFeatureStoreKindData,
} from '../../api/store.js';
import { FEATURES, SEGMENTS } from '../dataKinds.js';

/** The tombstone every store writes for a deleted item (spec §7: `key` included, unlike JS Redis). */
export function tombstoneJson(key: string, version: number): string {
  return JSON.stringify({ key, version, deleted: true });
}

export function serializeItem(key: string, item: LDFeatureStoreItem): SerializedItem {
  const deleted = item.deleted === true;
  return {
    version: item.version,
    deleted,
    serializedItem: deleted ? tombstoneJson(key, item.version) : JSON.stringify(item),
  };
}

/**
 * Parses a stored item. The JSON is trusted over the store's own `version`/`deleted` fields (Redis
 * has none); a store that knows an item is deleted without parsing it is believed too.
 * Throws on JSON that is not an object with a numeric version.
 */
export function deserializeItem(key: string, item: SerializedItem): LDFeatureStoreItem {
  const parsed: unknown = JSON.parse(item.serializedItem);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`stored item "${key}" is not a JSON object`);
  }
  const record = parsed as Record<string, unknown>;
  const version = typeof record.version === 'number' ? record.version : item.version;
  if (typeof version !== 'number' || Number.isNaN(version)) {
    throw new Error(`stored item "${key}" has no version`);
  }
  if (item.deleted || record.deleted === true) return { key, version, deleted: true };
  // Some writers leave the version out of the JSON (LaunchDarkly's v7 file source for `flagValues`)
  // and keep it only in the store's own field: the item evaluates with that version.
  return (record.version === version ? record : { ...record, version }) as LDFeatureStoreItem;
}

/**
 * The order items are written in (spec §4.5): segments, then flags with every prerequisite before the
 * flags that need it, then any other kind. The caller's order is kept otherwise; flags are re-sorted
 * here because object key order cannot carry it for integer-like keys.
 */
export function toKindItems(allData: LDFeatureStoreDataStorage): KindItems[] {
  const namespaces = Object.keys(allData);
  const ordered = [
    ...namespaces.filter((n) => n === SEGMENTS.namespace),
    ...namespaces.filter((n) => n === FEATURES.namespace),
    ...namespaces.filter((n) => n !== SEGMENTS.namespace && n !== FEATURES.namespace),
  ];
  return ordered.map((namespace) => {
    const items = allData[namespace] ?? {};
    const keys = namespace === FEATURES.namespace ? prerequisitesFirst(items) : Object.keys(items);
    const kind: DataKind =
      namespace === FEATURES.namespace
        ? FEATURES
        : namespace === SEGMENTS.namespace
          ? SEGMENTS
          : { namespace };
    return {
      kind,
      items: keys.map((key) => ({ key, item: serializeItem(key, items[key]!) })),
    };
  });
}

function prerequisitesFirst(flags: LDFeatureStoreKindData): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (key: string) => {
    if (done.has(key) || visiting.has(key) || !Object.hasOwn(flags, key)) return;
    visiting.add(key);
    const prerequisites = flags[key]!.prerequisites;
    if (Array.isArray(prerequisites)) {
      for (const p of prerequisites) {
        if (typeof p === 'object' && p !== null && typeof (p as { key?: unknown }).key === 'string') {
          visit((p as { key: string }).key);
        }
      }
    }
    visiting.delete(key);
    done.add(key);
    out.push(key);
  };
  for (const key of Object.keys(flags)) visit(key);
  return out;
}
