import type { Flag, FlagRule } from '@flagstaff/eval';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminHarness, adminApp } from './support/adminApp.js';

let h: AdminHarness;
const URL = '/projects/web/environments/production/flags/f';

beforeEach(async () => {
  h = await adminApp();
  await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
  await h.call('POST', '/projects/web/flags', {
    body: { key: 'f', name: 'F', variations: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] },
  });
  await h.call('POST', '/projects/web/flags', { body: { key: 'gate', name: 'Gate' } });
  h.notices.length = 0;
  h.committed.length = 0;
});
afterEach(async () => h.close());

const paths = (body: { errors: { path: string }[] }) => body.errors.map((e) => e.path).sort();
const instruct = (...instructions: object[]) =>
  h.call('PATCH', URL, { token: 'writer', body: { instructions } });
const patch = (operations: object[]) => h.call('PATCH', URL, { token: 'writer', body: operations });
const targeting = async () => (await h.call('GET', URL)).body;
const clause = { contextKind: 'user', attribute: 'email', op: 'endsWith', values: ['@example.com'] };

describe('semantic instructions', () => {
  it('turnFlagOn / turnFlagOff', async () => {
    const on = await instruct({ kind: 'turnFlagOn' });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ on: true, version: 2 });
    expect(on.headers.etag).toBe('"2"');
    const off = await instruct({ kind: 'turnFlagOff' });
    expect(off.body).toMatchObject({ on: false, version: 3 });
  });

  it('addRule appends, or inserts before another rule, with a generated or given id', async () => {
    const first = await instruct({ kind: 'addRule', clauses: [clause], variation: 1 });
    expect(first.status).toBe(200);
    const [generated] = first.body.rules as FlagRule[];
    expect(generated?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated).toMatchObject({ clauses: [clause], variation: 1 });
    const second = await instruct({
      kind: 'addRule',
      id: 'beta-users',
      beforeRuleId: generated?.id,
      clauses: [{ attribute: 'beta', op: 'in', values: [true] }],
      rollout: {
        variations: [
          { variation: 0, weight: 60000 },
          { variation: 2, weight: 40000 },
        ],
      },
      trackEvents: true,
    });
    expect(second.body.rules.map((r: FlagRule) => r.id)).toEqual(['beta-users', generated?.id]);
    expect(second.body.rules[0]).toMatchObject({
      trackEvents: true,
      rollout: { variations: [{ weight: 60000 }, {}] },
    });
    expect(second.body.version).toBe(3);
  });

  it('removeRule, replaceRules, reorderRules and updateRuleVariationOrRollout', async () => {
    await instruct(
      { kind: 'addRule', id: 'r1', clauses: [clause], variation: 0 },
      { kind: 'addRule', id: 'r2', clauses: [clause], variation: 1 },
      { kind: 'addRule', id: 'r3', clauses: [clause], variation: 2 },
    );
    const reordered = await instruct({ kind: 'reorderRules', ruleIds: ['r3', 'r1', 'r2'] });
    expect(reordered.body.rules.map((r: FlagRule) => r.id)).toEqual(['r3', 'r1', 'r2']);
    const removed = await instruct({ kind: 'removeRule', ruleId: 'r1' });
    expect(removed.body.rules.map((r: FlagRule) => r.id)).toEqual(['r3', 'r2']);
    const updated = await instruct({
      kind: 'updateRuleVariationOrRollout',
      ruleId: 'r2',
      rollout: { variations: [{ variation: 1, weight: 100000 }] },
    });
    expect(updated.body.rules[1]).toEqual({
      id: 'r2',
      clauses: [clause],
      rollout: { variations: [{ variation: 1, weight: 100000 }] },
    });
    const replaced = await instruct({ kind: 'replaceRules', rules: [{ clauses: [clause], variation: 2 }] });
    expect(replaced.body.rules).toHaveLength(1);
    expect(replaced.body.rules[0].id).toBeDefined();
    expect(replaced.body.version).toBe(6);
  });

  it('addTargets / removeTargets per variation and context kind, one variation per key', async () => {
    const users = await instruct(
      { kind: 'addTargets', variation: 1, values: ['u1', 'u2'] },
      { kind: 'addTargets', variation: 2, values: ['u2', 'u3'] },
    );
    expect(users.status).toBe(200);
    // u2 moved to variation 2; user targets need no context-target entries while only users are targeted.
    expect(users.body.targets).toEqual([
      { values: ['u1'], variation: 1 },
      { values: ['u2', 'u3'], variation: 2 },
    ]);
    expect(users.body.contextTargets).toEqual([]);

    const orgs = await instruct({ kind: 'addTargets', variation: 0, values: ['acme'], contextKind: 'org' });
    // Once another kind is targeted, SDKs see user targets only through placeholders (spec §3.3).
    expect(orgs.body.contextTargets).toEqual([
      { contextKind: 'user', values: [], variation: 1 },
      { contextKind: 'user', values: [], variation: 2 },
      { contextKind: 'org', values: ['acme'], variation: 0 },
    ]);

    const removed = await instruct(
      { kind: 'removeTargets', variation: 1, values: ['u1'] },
      { kind: 'removeTargets', variation: 0, values: ['acme'], contextKind: 'org' },
    );
    expect(removed.body.targets).toEqual([{ values: ['u2', 'u3'], variation: 2 }]);
    expect(removed.body.contextTargets).toEqual([]);
    expect(removed.body.version).toBe(4);
  });

  it('replaceTargets', async () => {
    const r = await instruct({
      kind: 'replaceTargets',
      targets: [
        { variation: 0, values: ['u1'] },
        { contextKind: 'device', variation: 2, values: ['d1', 'd2'] },
      ],
    });
    expect(r.body.targets).toEqual([{ values: ['u1'], variation: 0 }]);
    expect(r.body.contextTargets).toEqual([
      { contextKind: 'user', values: [], variation: 0 },
      { contextKind: 'device', values: ['d1', 'd2'], variation: 2 },
    ]);
  });

  it('updateFallthroughVariationOrRollout and updateOffVariation', async () => {
    const r = await instruct(
      {
        kind: 'updateFallthroughVariationOrRollout',
        rollout: {
          kind: 'experiment',
          variations: [
            { variation: 0, weight: 50000 },
            { variation: 1, weight: 50000 },
          ],
        },
      },
      { kind: 'updateOffVariation', variation: 2 },
    );
    expect(r.body).toMatchObject({
      fallthrough: { rollout: { kind: 'experiment' } },
      offVariation: 2,
      version: 2,
    });
    expect(r.body.fallthrough.variation).toBeUndefined();
    const cleared = await instruct(
      { kind: 'updateOffVariation', variation: null },
      { kind: 'updateFallthroughVariationOrRollout', variation: 1 },
    );
    expect(cleared.body).toMatchObject({ offVariation: null, fallthrough: { variation: 1 } });
    const composed = h.committed.at(-1)?.current as Flag;
    expect(composed.offVariation).toBeNull();
  });

  it('addPrerequisite, updatePrerequisite and removePrerequisite', async () => {
    const added = await instruct({ kind: 'addPrerequisite', key: 'gate', variation: 0 });
    expect(added.body.prerequisites).toEqual([{ key: 'gate', variation: 0 }]);
    const updated = await instruct({ kind: 'updatePrerequisite', key: 'gate', variation: 1 });
    expect(updated.body.prerequisites).toEqual([{ key: 'gate', variation: 1 }]);
    const twice = await instruct({ kind: 'addPrerequisite', key: 'gate', variation: 0 });
    expect(twice.status).toBe(400);
    expect(paths(twice.body)).toEqual(['/instructions/0/key']);
    const removed = await instruct({ kind: 'removePrerequisite', key: 'gate' });
    expect(removed.body.prerequisites).toEqual([]);
    const missing = await instruct({ kind: 'removePrerequisite', key: 'gate' });
    expect(paths(missing.body)).toEqual(['/instructions/0/key']);
  });

  it('applies a list as one change: the version grows by one, one notice, one audit entry', async () => {
    const r = await h.call('PATCH', URL, {
      token: 'writer',
      body: {
        comment: 'launch to staff',
        version: 1,
        instructions: [
          { kind: 'turnFlagOn' },
          { kind: 'addTargets', variation: 1, values: ['staff-1'] },
          { kind: 'addRule', clauses: [clause], variation: 2 },
        ],
      },
      headers: { 'content-type': 'application/json; domain-model=launchdarkly.semanticpatch' },
    });
    expect(r.status).toBe(200);
    expect(r.body.version).toBe(2);
    expect(h.notices).toEqual([{ projectKey: 'web', envKey: 'production', kind: 'flag', key: 'f' }]);
    expect(h.committed).toHaveLength(1);
    expect(h.committed[0]).toMatchObject({
      kind: 'flag',
      envKey: 'production',
      action: 'updateTargeting',
      comment: 'launch to staff',
      previous: { version: 1, on: false },
      current: { version: 2, on: true, variations: ['a', 'b', 'c'] },
    });
    const audit = await h.call('GET', '/audit?project=web&env=production&resource=flag:f');
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      action: 'updateTargeting',
      comment: 'launch to staff',
      actor: { name: 'writer token' },
      before: { version: 1, on: false },
      after: { version: 2, on: true },
    });
    // The other environment is untouched.
    expect((await h.call('GET', '/projects/web/environments/test/flags/f')).body.version).toBe(1);
  });

  it('changes nothing when the instructions change nothing', async () => {
    const r = await instruct({ kind: 'turnFlagOff' });
    expect(r.body.version).toBe(1);
    expect(h.notices).toEqual([]);
  });

  it('names the instruction and field of every problem and writes nothing', async () => {
    const r = await instruct(
      { kind: 'turnFlagOn' },
      { kind: 'addRule', clauses: [{ attribute: 'email', op: 'matches', values: ['['] }], variation: 5 },
      { kind: 'removeRule', ruleId: 'nope' },
      { kind: 'addTargets', variation: 3, values: ['u'] },
      { kind: 'updateFallthroughVariationOrRollout' },
      { kind: 'updateOffVariation', variation: 9 },
      { kind: 'addRule', beforeRuleId: 'missing', clauses: [clause], variation: 0 },
      { kind: 'reorderRules', ruleIds: ['x'] },
    );
    expect(r.status).toBe(400);
    expect(paths(r.body)).toEqual([
      '/instructions/1/clauses/0/values/0',
      '/instructions/1/variation',
      '/instructions/2/ruleId',
      '/instructions/3/variation',
      '/instructions/4',
      '/instructions/5/variation',
      '/instructions/6/beforeRuleId',
      '/instructions/7/ruleIds',
    ]);
    const messages = Object.fromEntries(
      r.body.errors.map((e: { path: string; message: string }) => [e.path, e.message]),
    );
    expect(messages['/instructions/1/clauses/0/values/0']).toContain('not a valid regular expression');
    expect(messages['/instructions/4']).toContain('exactly one of "variation" or "rollout"');
    expect(await targeting()).toMatchObject({ version: 1, on: false, rules: [] });
    expect(h.notices).toEqual([]);
  });

  it('refuses unknown instructions and malformed ones by schema', async () => {
    const r = await instruct(
      { kind: 'deleteFlag' },
      { kind: 'addTargets', variation: -1, values: [] },
      { kind: 'turnFlagOn', extra: true },
    );
    expect(r.status).toBe(400);
    expect(paths(r.body)).toEqual([
      '/instructions/0/kind',
      '/instructions/1/values',
      '/instructions/1/variation',
      '/instructions/2/extra',
    ]);
    const empty = await h.call('PATCH', URL, { token: 'writer', body: { instructions: [] } });
    expect(paths(empty.body)).toEqual(['/instructions']);
    const neither = await h.call('PATCH', URL, { token: 'writer', body: { comment: 'x' } });
    expect(neither.status).toBe(400);
    expect(neither.body.errors[0].message).toContain('"patch"');
  });
});

describe('targeting JSON Patch', () => {
  it('edits the targeting document with LaunchDarkly field names', async () => {
    const r = await patch([
      { op: 'replace', path: '/on', value: true },
      { op: 'add', path: '/rules/-', value: { clauses: [clause], variation: 2 } },
      { op: 'replace', path: '/offVariation', value: 1 },
      { op: 'add', path: '/prerequisites/-', value: { key: 'gate', variation: 0 } },
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ version: 2, on: true, offVariation: 1, prerequisites: [{ key: 'gate' }] });
    expect(r.body.rules[0].id).toBeDefined();
    const t = await targeting();
    expect(t).toEqual(r.body);
  });

  it('refuses the version, unknown fields and wrong types, naming each', async () => {
    const version = await patch([{ op: 'replace', path: '/version', value: 10 }]);
    expect(version.status).toBe(400);
    expect(paths(version.body)).toEqual(['/0/path']);
    const shape = await patch([
      { op: 'add', path: '/color', value: 'red' },
      { op: 'replace', path: '/on', value: 'yes' },
      { op: 'add', path: '/rules/-', value: { clauses: [{ op: 'in' }], variation: 0 } },
    ]);
    expect(shape.status).toBe(400);
    expect(paths(shape.body)).toEqual(['/color', '/on', '/rules/0/clauses/0/values']);
  });

  it('applies optimistic concurrency: a stale version gets 409 and the current version', async () => {
    const ok = await h.call('PATCH', URL, {
      token: 'writer',
      body: { patch: [{ op: 'replace', path: '/on', value: true }], version: 1 },
    });
    expect(ok.body.version).toBe(2);
    const stale = await h.call('PATCH', URL, {
      token: 'writer',
      body: [{ op: 'replace', path: '/on', value: false }],
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'version_conflict', currentVersion: 2 });
    const staleInstr = await h.call('PATCH', URL, {
      token: 'writer',
      body: { version: 1, instructions: [{ kind: 'turnFlagOff' }] },
    });
    expect(staleInstr.status).toBe(409);
    expect((await targeting()).on).toBe(true);
  });

  it('lets exactly one of two concurrent writers with the same version win', async () => {
    const [a, b] = await Promise.all([
      h.call('PATCH', URL, { token: 'writer', body: { version: 1, instructions: [{ kind: 'turnFlagOn' }] } }),
      h.call('PATCH', URL, {
        token: 'writer',
        body: { version: 1, instructions: [{ kind: 'updateOffVariation', variation: 2 }] },
      }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((await targeting()).version).toBe(2);
  });

  it('answers 404 for an unknown flag or environment, and 409 in an archived environment', async () => {
    expect(
      (
        await h.call('PATCH', '/projects/web/environments/production/flags/nope', {
          token: 'writer',
          body: [],
        })
      ).status,
    ).toBe(404);
    expect(
      (await h.call('PATCH', '/projects/web/environments/nope/flags/f', { token: 'writer', body: [] }))
        .status,
    ).toBe(404);
    await h.call('POST', '/projects/web/environments/production/archive');
    const archived = await instruct({ kind: 'turnFlagOn' });
    expect(archived.status).toBe(409);
    expect(archived.body.code).toBe('archived');
  });
});
