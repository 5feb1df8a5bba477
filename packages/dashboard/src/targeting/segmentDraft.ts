import type { SegmentRule, SegmentTarget } from '@flagstaff/eval';
import type { Segment, SegmentDoc } from '../api/types.js';
import {
  buildClause,
  type ClauseDraft,
  newClause,
  type Problem,
  percentToWeight,
  weightToPercent,
} from './draft.js';

/* The segment editor's model: text as typed, turned into the segment document with every problem. */

export interface SegmentTargetDraft {
  contextKind: string;
  values: string;
}

export interface SegmentRuleDraft {
  id?: string;
  clauses: ClauseDraft[];
  /** Empty: everyone matching; else the percentage of them included. */
  percent: string;
  bucketBy: string;
  rolloutContextKind: string;
}

export interface SegmentDraft {
  name: string;
  description: string;
  tags: string;
  included: string;
  excluded: string;
  includedContexts: SegmentTargetDraft[];
  excludedContexts: SegmentTargetDraft[];
  rules: SegmentRuleDraft[];
}

const clauseToDraft = (c: NonNullable<SegmentRule['clauses']>[number]): ClauseDraft => ({
  contextKind: c.contextKind ?? 'user',
  attribute: c.attribute ?? '',
  op: c.op,
  negate: c.negate ?? false,
  values: c.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n'),
  inMode:
    c.op === 'in' &&
    c.values.every((v) => typeof v === 'string') &&
    c.values.some((v) => /^(true|false|-?\d)/.test(String(v)))
      ? 'text'
      : 'typed',
});

export function segmentToDraft(segment: Segment): SegmentDraft {
  const targets = (list: SegmentTarget[]) =>
    list.map((t) => ({ contextKind: t.contextKind, values: t.values.join('\n') }));
  return {
    name: segment.name,
    description: segment.description,
    tags: segment.tags.join(', '),
    included: segment.included.join('\n'),
    excluded: segment.excluded.join('\n'),
    includedContexts: targets(segment.includedContexts),
    excludedContexts: targets(segment.excludedContexts),
    rules: segment.rules.map((r) => ({
      ...(r.id !== undefined ? { id: r.id } : {}),
      clauses: (r.clauses ?? []).map(clauseToDraft),
      percent: r.weight === undefined || r.weight === null ? '' : weightToPercent(r.weight),
      bucketBy: r.bucketBy ?? '',
      rolloutContextKind: r.rolloutContextKind ?? '',
    })),
  };
}

export const newSegmentRule = (): SegmentRuleDraft => ({
  clauses: [newClause()],
  percent: '',
  bucketBy: '',
  rolloutContextKind: '',
});

const lines = (text: string) => [
  ...new Set(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  ),
];

export function buildSegment(draft: SegmentDraft): { doc: SegmentDoc; problems: Problem[] } {
  const problems: Problem[] = [];
  if (!draft.name.trim()) problems.push({ path: '/name', message: 'give the segment a name' });
  const tags = lines(draft.tags.replaceAll(',', '\n'));
  if (tags.some((t) => t.length > 64))
    problems.push({ path: '/tags', message: 'tags are at most 64 characters' });
  const included = lines(draft.included);
  const excluded = lines(draft.excluded);
  for (const key of included) {
    if (excluded.includes(key))
      problems.push({
        path: '/excluded',
        message: `"${key}" is both included and excluded (exclusion wins)`,
      });
  }
  const contexts = (list: SegmentTargetDraft[], at: string): SegmentTarget[] =>
    list.map((t, i) => {
      if (!t.contextKind.trim())
        problems.push({ path: `${at}/${i}/contextKind`, message: 'name the context kind' });
      const values = lines(t.values);
      if (values.length === 0)
        problems.push({ path: `${at}/${i}/values`, message: 'give at least one key, or remove this entry' });
      return { contextKind: t.contextKind.trim(), values };
    });
  const rules: SegmentRule[] = draft.rules.map((r, i) => {
    const path = `/rules/${i}`;
    if (r.clauses.length === 0)
      problems.push({ path: `${path}/clauses`, message: 'a rule needs at least one condition' });
    const rule: SegmentRule = {
      clauses: r.clauses.map((c, j) => buildClause(c, `${path}/clauses/${j}`, problems)),
    };
    if (r.id !== undefined) rule.id = r.id;
    if (r.percent.trim() !== '') {
      const weight = percentToWeight(r.percent);
      if (weight === undefined)
        problems.push({
          path: `${path}/weight`,
          message: `"${r.percent}" is not a percentage between 0 and 100 with at most three decimals`,
        });
      else rule.weight = weight;
      if (r.bucketBy.trim()) rule.bucketBy = r.bucketBy.trim();
      if (r.rolloutContextKind.trim()) rule.rolloutContextKind = r.rolloutContextKind.trim();
    }
    return rule;
  });
  return {
    doc: {
      name: draft.name.trim(),
      description: draft.description.trim(),
      tags,
      included,
      excluded,
      includedContexts: contexts(draft.includedContexts, '/includedContexts'),
      excludedContexts: contexts(draft.excludedContexts, '/excludedContexts'),
      rules,
    },
    problems,
  };
}

export const SEGMENT_FIELDS = [
  'name',
  'description',
  'tags',
  'included',
  'excluded',
  'includedContexts',
  'excludedContexts',
  'rules',
] as const;

export function segmentDoc(segment: Segment): SegmentDoc {
  const { name, description, tags, included, excluded, includedContexts, excludedContexts, rules } = segment;
  return { name, description, tags, included, excluded, includedContexts, excludedContexts, rules };
}
