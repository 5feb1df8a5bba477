import { describe, expect, it } from 'vitest';
import type { Flag, TargetingDoc } from '../src/api/types.js';
import {
  ambiguityProblem,
  buildDefinition,
  definitionDoc,
  removalRefusal,
  toDefinitionDraft,
  valueKind,
} from '../src/targeting/definitionDraft.js';

const targeting = (patch: Partial<TargetingDoc> = {}): TargetingDoc => ({
  version: 1,
  on: false,
  prerequisites: [],
  targets: [],
  contextTargets: [],
  rules: [],
  fallthrough: { variation: 0 },
  offVariation: 0,
  salt: 's',
  trackEvents: false,
  trackEventsFallthrough: false,
  debugEventsUntilDate: null,
  ...patch,
});

const flag = (variations: Flag['variations'], environments: Record<string, TargetingDoc> = {}): Flag => ({
  projectKey: 'p',
  key: 'f',
  kind: 'multivariate',
  name: 'F',
  description: '',
  tags: ['a'],
  temporary: false,
  variations,
  clientSideAvailability: { usingMobileKey: true, usingEnvironmentId: false },
  archived: false,
  version: 1,
  createdAt: 0,
  updatedAt: 0,
  environments,
});

describe('definition drafts', () => {
  it('round-trips an untouched flag exactly, for every kind of value', () => {
    for (const variations of [
      [{ value: true }, { value: false }],
      [{ value: 'a', name: 'A' }, { value: 'b' }],
      [{ value: 1 }, { value: 2.5 }],
      [{ value: { x: [1] } }, { value: null }, { value: 'mixed' }],
    ]) {
      const f = flag(variations);
      const built = buildDefinition(toDefinitionDraft(f));
      expect(built.problems).toEqual([]);
      expect(built.doc).toEqual(definitionDoc(f));
    }
    expect(valueKind([{ value: 1 }, { value: 'x' }])).toBe('json');
  });

  it('reports bad and duplicate values at their field, JSON parse errors included', () => {
    const draft = toDefinitionDraft(flag([{ value: 1 }, { value: 2 }, { value: 3 }]));
    draft.variations[0]!.value = 'one';
    draft.variations[2]!.value = '2.0';
    draft.name = ' ';
    expect(buildDefinition(draft).problems).toEqual([
      { path: '/name', message: 'give the flag a name' },
      { path: '/variations/0/value', message: '“one” is not a number' },
      { path: '/variations/2/value', message: 'has the same value as variation 2' },
    ]);
    const json = toDefinitionDraft(flag([{ value: { a: 1 } }, { value: [] }]));
    json.variations[0]!.value = '{"a": ';
    expect(buildDefinition(json).problems[0]).toMatchObject({
      path: '/variations/0/value',
      message: expect.stringMatching(/^not valid JSON: /),
    });
    // Equal JSON is the same variation, whichever field it was typed in.
    json.variations[0]!.value = '[]';
    expect(buildDefinition(json).problems).toEqual([
      { path: '/variations/1/value', message: 'has the same value as variation 1' },
    ]);
  });

  it('refuses to remove a served variation, naming each environment and place', () => {
    const f = flag([{ value: 'a' }, { value: 'b' }, { value: 'c' }], {
      production: targeting({
        rules: [{ clauses: [], rollout: { variations: [{ variation: 1, weight: 100000 }] } }],
      }),
      test: targeting({ targets: [{ values: ['k'], variation: 1 }] }),
    });
    const name = (k: string) => k.toUpperCase();
    expect(removalRefusal(f, 1, name)).toBe(
      'Variation 2 cannot be removed: it is served in PRODUCTION (rule 1); TEST (individual targets). Change the targeting there first.',
    );
    expect(removalRefusal(f, 2, name)).toBeUndefined();
  });

  it('asks for two steps when the service would match an edit and a removal up differently', () => {
    const f = flag([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    const draft = toDefinitionDraft(f);
    draft.variations = draft.variations.filter((v) => v.saved !== 1);
    draft.variations[1]!.value = 'd';
    const built = buildDefinition(draft);
    expect(ambiguityProblem(draft, f.variations, built.doc)).toHaveLength(1);

    // Either alone is unambiguous, as are moves and additions.
    const edit = toDefinitionDraft(f);
    edit.variations[2]!.value = 'd';
    expect(ambiguityProblem(edit, f.variations, buildDefinition(edit).doc)).toEqual([]);
    const remove = toDefinitionDraft(f);
    remove.variations.splice(1, 1);
    expect(ambiguityProblem(remove, f.variations, buildDefinition(remove).doc)).toEqual([]);
  });
});
