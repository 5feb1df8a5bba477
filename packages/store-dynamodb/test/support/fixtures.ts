import {
  FEATURES,
  type KeyedSerializedItem,
  type KindItems,
  type LDLogger,
  SEGMENTS,
  type SerializedItem,
} from '@flagstaff/node-server-sdk';

/** A minimal valid flag: on, two boolean variations, fallthrough to `value`. */
export function flagJson(key: string, version: number, value = true, extra: Record<string, unknown> = {}) {
  return {
    key,
    version,
    on: true,
    variations: [false, true],
    offVariation: 0,
    fallthrough: { variation: value ? 1 : 0 },
    targets: [],
    contextTargets: [],
    rules: [],
    prerequisites: [],
    salt: 'salt',
    trackEvents: false,
    trackEventsFallthrough: false,
    deleted: false,
    ...extra,
  };
}

export function segmentJson(key: string, version: number, included: string[] = []) {
  return { key, version, included, excluded: [], rules: [], salt: 'salt', deleted: false };
}

export function serialized(item: { version: number; deleted?: boolean }): SerializedItem {
  return { version: item.version, deleted: item.deleted === true, serializedItem: JSON.stringify(item) };
}

export function tombstone(key: string, version: number): SerializedItem {
  return { version, deleted: true, serializedItem: JSON.stringify({ key, version, deleted: true }) };
}

export function keyed(items: { key: string; version: number; deleted?: boolean }[]): KeyedSerializedItem[] {
  return items.map((item) => ({ key: item.key, item: serialized(item) }));
}

/** An init data set: segments first, then flags, as the caching wrapper orders them. */
export function dataSet(
  flags: { key: string; version: number }[],
  segments: { key: string; version: number }[] = [],
): KindItems[] {
  return [
    { kind: SEGMENTS, items: keyed(segments) },
    { kind: FEATURES, items: keyed(flags) },
  ];
}

export interface RecordingLogger extends LDLogger {
  lines: { level: string; message: string }[];
  errors(): string[];
}

/** Keeps what is logged, so tests can check the messages users would see. */
export function recordingLogger(): RecordingLogger {
  const lines: { level: string; message: string }[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      lines.push({ level, message: args.map(String).join(' ') });
  return {
    lines,
    errors: () => lines.filter((l) => l.level === 'error').map((l) => l.message),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
  };
}

export const silentLogger: LDLogger = { error() {}, warn() {}, info() {}, debug() {} };
