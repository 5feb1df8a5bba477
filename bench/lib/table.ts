import { type Measurement, pairedRatio } from './timing.js';

export type Align = 'left' | 'right';

/** Formats a markdown table with padded columns, so it reads well both raw and rendered. */
export function markdownTable(headers: string[], rows: string[][], align?: Align[]): string {
  const widths = headers.map((h, c) => Math.max(3, h.length, ...rows.map((row) => (row[c] ?? '').length)));
  const pad = (text: string, c: number): string =>
    align?.[c] === 'right' ? text.padStart(widths[c]!) : text.padEnd(widths[c]!);
  const line = (cells: string[]): string => `| ${cells.map((cell, c) => pad(cell, c)).join(' | ')} |`;
  const rule = widths.map((w, c) => (align?.[c] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)));
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map((row) => line(row))].join('\n');
}

/** Median ns per call with its relative spread, e.g. `412.3 ±2.1%`. */
export function formatNs(m: Measurement): string {
  const digits = m.median < 10 ? 2 : m.median < 1000 ? 1 : 0;
  return `${m.median.toFixed(digits)} ±${(m.spread * 100).toFixed(1)}%`;
}

export interface ComparisonRow {
  name: string;
  ours: Measurement;
  official: Measurement;
}

/**
 * The comparison table every benchmark prints. The ratio is official/ours: above 1 ours is that many
 * times faster, below 1 it is slower. `labels` renames the two contestant columns.
 */
export function comparisonTable(
  rows: ComparisonRow[],
  labels = { ours: 'ours', official: 'official' },
): string {
  return markdownTable(
    [
      'name',
      `${labels.ours} ns/op`,
      `${labels.official} ns/op`,
      `ratio (${labels.official}/${labels.ours})`,
      'samples',
    ],
    rows.map(({ name, ours, official }) => [
      name,
      formatNs(ours),
      formatNs(official),
      `${pairedRatio(ours, official).toFixed(2)}×`,
      String(Math.min(ours.samples.length, official.samples.length)),
    ]),
    ['left', 'right', 'right', 'right', 'right'],
  );
}
