import type { JsonValue } from '@flagstaff/eval';
import type { Variation } from '../api/types.js';

/** A variation as people recognise it: its name, else its value. */
export function variationLabel(variations: readonly Variation[], index: number | null | undefined): string {
  if (index === null || index === undefined) return 'the SDK’s default value';
  const v = variations[index];
  if (!v) return `variation ${index} (missing)`;
  return v.name ? `${v.name} (${shortValue(v.value)})` : shortValue(v.value);
}

export function shortValue(value: JsonValue | undefined, max = 40): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** Keys shown in full only on request: enough to tell them apart, not to use them. */
export function maskSecret(key: string): string {
  return key.length <= 12 ? '••••' : `${key.slice(0, 8)}••••${key.slice(-4)}`;
}

export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const KEY_RULE =
  'must start with a letter or digit and contain only letters, digits, ".", "_" and "-"';
