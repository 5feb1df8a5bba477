import type { Operator } from '@flagstaff/eval';

/** How a clause's values are typed in and read for each operator (LaunchDarkly's semantics). */
export type ValueKind = 'any' | 'string' | 'number' | 'date' | 'semver' | 'regex' | 'segment';

export interface OperatorInfo {
  op: Operator;
  label: string;
  kind: ValueKind;
}

/** Every operator the evaluator knows, in the order people look for them. */
export const OPERATOR_INFO: readonly OperatorInfo[] = [
  { op: 'in', label: 'is one of', kind: 'any' },
  { op: 'startsWith', label: 'starts with', kind: 'string' },
  { op: 'endsWith', label: 'ends with', kind: 'string' },
  { op: 'contains', label: 'contains', kind: 'string' },
  { op: 'matches', label: 'matches regex', kind: 'regex' },
  { op: 'lessThan', label: '<', kind: 'number' },
  { op: 'lessThanOrEqual', label: '≤', kind: 'number' },
  { op: 'greaterThan', label: '>', kind: 'number' },
  { op: 'greaterThanOrEqual', label: '≥', kind: 'number' },
  { op: 'before', label: 'is before (date)', kind: 'date' },
  { op: 'after', label: 'is after (date)', kind: 'date' },
  { op: 'semVerEqual', label: 'semver =', kind: 'semver' },
  { op: 'semVerLessThan', label: 'semver <', kind: 'semver' },
  { op: 'semVerGreaterThan', label: 'semver >', kind: 'semver' },
  { op: 'segmentMatch', label: 'is in segment', kind: 'segment' },
];

export function operatorInfo(op: string): OperatorInfo | undefined {
  return OPERATOR_INFO.find((o) => o.op === op);
}

export const VALUE_HINT: Record<ValueKind, string> = {
  any: 'One value per line. Numbers and true/false are typed unless "as text" is chosen.',
  string: 'One text value per line.',
  number: 'One number per line.',
  date: 'One per line: epoch milliseconds or an RFC 3339 date-time (2025-01-31T00:00:00Z).',
  semver: 'One version per line, e.g. 2.1.0.',
  regex: 'One regular expression per line (matched anywhere in the value).',
  segment: 'One segment key per line.',
};
