import type { Flag } from '@flagstaff/eval';
import { validateFlag } from '@flagstaff/eval';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadEnvironmentData } from '../src/domain/environmentData.js';
import { type AdminHarness, adminApp } from './support/adminApp.js';

let h: AdminHarness;
beforeEach(async () => {
  h = await adminApp();
  await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
});
afterEach(async () => h.close());

const paths = (body: { errors: { path: string }[] }) => body.errors.map((e) => e.path).sort();
const createFlag = (body: Record<string, unknown>) =>
  h.call('POST', '/projects/web/flags', { token: 'writer', body });
const versions = async (key: string) => {
  const flag = (await h.call('GET', `/projects/web/flags/${key}`)).body;
  return Object.fromEntries(Object.entries(flag.environments).map(([env, t]) => [env, (t as Flag).version]));
};

describe('creating flags', () => {
  it('creates a boolean flag off everywhere, serving false when off and true when on', async () => {
    const r = await createFlag({
      key: 'new-checkout',
      name: 'New checkout',
      tags: ['checkout'],
      temporary: true,
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      key: 'new-checkout',
      kind: 'boolean',
      version: 1,
      temporary: true,
      variations: [{ value: true }, { value: false }],
      clientSideAvailability: { usingMobileKey: true, usingEnvironmentId: false },
    });
    const { production, test } = r.body.environments;
    for (const t of [production, test]) {
      expect(t).toMatchObject({
        version: 1,
        on: false,
        offVariation: 1,
        fallthrough: { variation: 0 },
        rules: [],
      });
      expect(t.salt).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(production.salt).not.toBe(test.salt);
    // SDKs of both environments hear of it, with the payload they will receive.
    expect(h.notices.filter((n) => n.kind === 'flag')).toEqual([
      { projectKey: 'web', envKey: 'production', kind: 'flag', key: 'new-checkout' },
      { projectKey: 'web', envKey: 'test', kind: 'flag', key: 'new-checkout' },
    ]);
    const flagChanges = h.committed.filter((c) => c.kind === 'flag');
    expect(flagChanges.map((c) => c.envKey)).toEqual(['production', 'test']);
    expect(flagChanges[0]?.current).toMatchObject({
      key: 'new-checkout',
      version: 1,
      on: false,
      variations: [true, false],
    });
  });

  it('starts other flags at their first variation when off, unless defaults say otherwise', async () => {
    const multi = await createFlag({
      key: 'color',
      name: 'Color',
      variations: [{ value: 'red', name: 'Red' }, { value: 'green' }, { value: { hex: '00f' } }],
    });
    expect(multi.body.kind).toBe('multivariate');
    expect(multi.body.environments.production).toMatchObject({
      offVariation: 0,
      fallthrough: { variation: 0 },
    });
    const withDefaults = await createFlag({
      key: 'size',
      name: 'Size',
      variations: [{ value: 1 }, { value: 2 }, { value: 3 }],
      defaults: { onVariation: 2, offVariation: 1 },
    });
    expect(withDefaults.body.environments.test).toMatchObject({
      offVariation: 1,
      fallthrough: { variation: 2 },
    });
    // A later environment starts from the same defaults.
    await h.call('POST', '/projects/web/environments', { body: { key: 'staging', name: 'Staging' } });
    const staging = await h.call('GET', '/projects/web/environments/staging/flags/size');
    expect(staging.body).toMatchObject({ version: 1, offVariation: 1, fallthrough: { variation: 2 } });
  });

  it('refuses malformed definitions naming each field', async () => {
    const r = await createFlag({
      key: 'bad key',
      name: 42,
      variations: [{ value: 1 }, { value: 1 }],
      clientSideAvailability: { usingMobileKey: true },
      unknown: true,
    });
    expect(r.status).toBe(400);
    expect(paths(r.body)).toEqual([
      '/clientSideAvailability/usingEnvironmentId',
      '/key',
      '/name',
      '/unknown',
    ]);

    const dup = await createFlag({
      key: 'f',
      name: 'F',
      variations: [{ value: 'a' }, { value: 'b' }, { value: 'a' }],
    });
    expect(dup.status).toBe(400);
    expect(dup.body.errors).toEqual([
      { path: '/variations/2/value', message: 'variations/2/value: has the same value as variation 0' },
    ]);

    const range = await createFlag({ key: 'f', name: 'F', defaults: { onVariation: 2, offVariation: 5 } });
    expect(range.status).toBe(400);
    expect(paths(range.body)).toEqual(['/defaults/offVariation', '/defaults/onVariation']);
    expect(range.body.errors[0].message).toContain('out of range');
    expect(await h.storage.get('flags', 'web/f')).toBeUndefined();
  });

  it('answers 409 for an existing key and 404 for an unknown project', async () => {
    await createFlag({ key: 'f', name: 'F' });
    const again = await createFlag({ key: 'f', name: 'F' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already_exists');
    expect(
      (await h.call('POST', '/projects/nope/flags', { token: 'writer', body: { key: 'f', name: 'F' } }))
        .status,
    ).toBe(404);
  });
});

describe('reading flags', () => {
  beforeEach(async () => {
    await createFlag({ key: 'a-flag', name: 'Alpha', tags: ['ui'] });
    await createFlag({ key: 'b-flag', name: 'Beta', tags: ['api'] });
    await createFlag({ key: 'c-flag', name: 'Gamma', tags: ['ui'] });
    await h.call('PATCH', '/projects/web/environments/production/flags/c-flag', {
      token: 'writer',
      body: { instructions: [{ kind: 'turnFlagOn' }] },
    });
  });

  it('lists flags with each environment’s state', async () => {
    const r = await h.call('GET', '/projects/web/flags', { token: 'reader' });
    expect(r.status).toBe(200);
    expect(r.body.items.map((f: Flag) => f.key)).toEqual(['a-flag', 'b-flag', 'c-flag']);
    expect(r.body.items[2].environments).toEqual({
      production: { on: true, version: 2 },
      test: { on: false, version: 1 },
    });
  });

  it('filters by environment, tag, text and archived state, and pages', async () => {
    const env = await h.call('GET', '/projects/web/flags?env=test');
    expect(Object.keys(env.body.items[0].environments)).toEqual(['test']);
    const tag = await h.call('GET', '/projects/web/flags?tag=ui');
    expect(tag.body.items.map((f: Flag) => f.key)).toEqual(['a-flag', 'c-flag']);
    const q = await h.call('GET', '/projects/web/flags?q=bet');
    expect(q.body.items.map((f: Flag) => f.key)).toEqual(['b-flag']);
    await h.call('POST', '/projects/web/flags/b-flag/archive', { token: 'writer' });
    const live = await h.call('GET', '/projects/web/flags');
    expect(live.body.items.map((f: Flag) => f.key)).toEqual(['a-flag', 'c-flag']);
    const archived = await h.call('GET', '/projects/web/flags?archived=true');
    expect(archived.body.items.map((f: Flag) => f.key)).toEqual(['b-flag']);
    const page = await h.call('GET', '/projects/web/flags?limit=1');
    expect(page.body).toMatchObject({ items: [{ key: 'a-flag' }], next: 'a-flag' });
    const page2 = await h.call('GET', `/projects/web/flags?limit=1&after=${page.body.next}`);
    expect(page2.body).toMatchObject({ items: [{ key: 'c-flag' }] });
    expect(page2.body.next).toBeUndefined();
    expect((await h.call('GET', '/projects/web/flags?env=nope')).status).toBe(404);
    expect((await h.call('GET', '/projects/nope/flags')).status).toBe(404);
  });

  it('reads one flag with definition and per-environment targeting and versions', async () => {
    const r = await h.call('GET', '/projects/web/flags/c-flag', { token: 'reader' });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe('"1"');
    expect(r.body).toMatchObject({ key: 'c-flag', name: 'Gamma', version: 1 });
    expect(r.body.environments.production).toMatchObject({ version: 2, on: true });
    expect(r.body.environments.test).toMatchObject({ version: 1, on: false });
    const one = await h.call('GET', '/projects/web/flags/c-flag?env=test');
    expect(Object.keys(one.body.environments)).toEqual(['test']);
    const targeting = await h.call('GET', '/projects/web/environments/production/flags/c-flag');
    expect(targeting.headers.etag).toBe('"2"');
    expect(targeting.body).toMatchObject({ version: 2, on: true, offVariation: 1 });
    expect((await h.call('GET', '/projects/web/flags/nope')).status).toBe(404);
    expect((await h.call('GET', '/projects/web/environments/nope/flags/c-flag')).status).toBe(404);
  });
});

describe('changing a flag definition (JSON Patch)', () => {
  beforeEach(async () => {
    await createFlag({ key: 'f', name: 'F', variations: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    h.notices.length = 0;
    h.committed.length = 0;
  });

  it('raises every environment’s version by exactly one and tells each environment', async () => {
    const r = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [
        { op: 'replace', path: '/name', value: 'Renamed' },
        { op: 'add', path: '/tags/-', value: 'new' },
      ],
      headers: { 'content-type': 'application/json-patch+json' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'Renamed', tags: ['new'], version: 2 });
    expect(await versions('f')).toEqual({ production: 2, test: 2 });
    expect(h.notices).toEqual([
      { projectKey: 'web', envKey: 'production', kind: 'flag', key: 'f' },
      { projectKey: 'web', envKey: 'test', kind: 'flag', key: 'f' },
    ]);
    expect(
      h.committed.map((c) => [c.envKey, (c.current as Flag).version, (c.previous as Flag).version]),
    ).toEqual([
      ['production', 2, 1],
      ['test', 2, 1],
    ]);
  });

  it('accepts LaunchDarkly’s {patch, comment} wrapper and records the comment', async () => {
    const r = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: {
        patch: [{ op: 'replace', path: '/description', value: 'why' }],
        comment: 'document it',
        version: 1,
      },
    });
    expect(r.status).toBe(200);
    const audit = await h.call('GET', '/audit?project=web&resource=flag:f&limit=1');
    expect(audit.body.items[0]).toMatchObject({
      action: 'update',
      comment: 'document it',
      before: { description: '' },
      after: { description: 'why' },
    });
  });

  it('answers 409 for a stale version (body or If-Match) and changes nothing', async () => {
    await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'replace', path: '/name', value: 'X' }],
    });
    const stale = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: { patch: [{ op: 'replace', path: '/name', value: 'Y' }], version: 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'version_conflict', currentVersion: 2 });
    const header = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'replace', path: '/name', value: 'Y' }],
      headers: { 'if-match': '"1"' },
    });
    expect(header.status).toBe(409);
    expect((await h.call('GET', '/projects/web/flags/f')).body.name).toBe('X');
  });

  it('refuses patches that break the document, naming the operation or field', async () => {
    const unresolvable = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'replace', path: '/nope/deeper', value: 1 }],
    });
    expect(unresolvable.status).toBe(400);
    expect(paths(unresolvable.body)).toEqual(['/0/path']);
    const wrapped = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: {
        patch: [
          { op: 'add', path: '/name', value: 'ok' },
          { op: 'remove', path: '/variations/9' },
        ],
      },
    });
    expect(paths(wrapped.body)).toEqual(['/patch/1/path']);
    const shape = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [
        { op: 'replace', path: '/name', value: '' },
        { op: 'add', path: '/archived', value: true },
        { op: 'replace', path: '/temporary', value: 'yes' },
      ],
    });
    expect(shape.status).toBe(400);
    expect(paths(shape.body)).toEqual(['/archived', '/name', '/temporary']);
    const test = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [
        { op: 'test', path: '/name', value: 'something else' },
        { op: 'replace', path: '/name', value: 'Z' },
      ],
    });
    expect(test.status).toBe(409);
    expect(test.body.code).toBe('patch_test_failed');
    const badOp = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'merge', path: '/name' }],
    });
    expect(badOp.status).toBe(400);
    expect(paths(badOp.body)).toEqual(['/0/op']);
    const noValue = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'add', path: '/name' }],
    });
    expect(paths(noValue.body)).toEqual(['/0/value']);
    expect(await versions('f')).toEqual({ production: 1, test: 1 });
    expect(h.notices).toEqual([]);
  });

  it('does not count a patch that changes nothing as a change', async () => {
    const r = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'replace', path: '/name', value: 'F' }],
    });
    expect(r.status).toBe(200);
    expect(r.body.version).toBe(1);
    expect(await versions('f')).toEqual({ production: 1, test: 1 });
    expect(h.notices).toEqual([]);
  });

  it('keeps targeting on the same variations when variations move, and refuses removing one in use', async () => {
    await h.call('PATCH', '/projects/web/environments/production/flags/f', {
      token: 'writer',
      body: {
        instructions: [
          { kind: 'updateFallthroughVariationOrRollout', variation: 2 },
          { kind: 'addTargets', variation: 1, values: ['u1'] },
        ],
      },
    });
    // Insert a variation at the front: every index in targeting shifts by one.
    const moved = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'add', path: '/variations/0', value: { value: 'z' } }],
    });
    expect(moved.status).toBe(200);
    const prod = moved.body.environments.production;
    expect(prod).toMatchObject({
      version: 3,
      fallthrough: { variation: 3 },
      targets: [{ values: ['u1'], variation: 2 }],
    });
    expect(prod.offVariation).toBe(1); // was 0 ("a"), still "a"
    expect(moved.body.environments.test).toMatchObject({
      version: 2,
      offVariation: 1,
      fallthrough: { variation: 1 },
    });

    const removed = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'remove', path: '/variations/3' }],
    });
    expect(removed.status).toBe(400);
    expect(removed.body.errors).toEqual([
      {
        path: '/environments/production/fallthrough/variation',
        message:
          'environments/production/fallthrough/variation: uses variation 3 ("c"), which the change removes',
      },
    ]);
    // Removing an unused variation is fine and renumbers nothing that is used after it.
    const unused = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'remove', path: '/variations/0' }],
    });
    expect(unused.status).toBe(200);
    expect(unused.body.environments.production).toMatchObject({
      fallthrough: { variation: 2 },
      offVariation: 0,
    });
  });

  it('refuses moving a variation another flag needs as a prerequisite', async () => {
    await createFlag({ key: 'child', name: 'Child' });
    await h.call('PATCH', '/projects/web/environments/test/flags/child', {
      token: 'writer',
      body: { instructions: [{ kind: 'addPrerequisite', key: 'f', variation: 1 }] },
    });
    // Swapping "b" and "c" leaves f's own targeting (on "a") alone but moves what child needs.
    const r = await h.call('PATCH', '/projects/web/flags/f', {
      token: 'writer',
      body: [{ op: 'move', from: '/variations/1', path: '/variations/2' }],
    });
    expect(r.status).toBe(400);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors[0].path).toBe('/variations');
    expect(r.body.errors[0].message).toContain('"child"');
  });
});

describe('archiving flags', () => {
  beforeEach(async () => {
    await createFlag({ key: 'f', name: 'F' });
  });

  it('turns the flag into a tombstone for SDKs, with a higher version, and back', async () => {
    h.committed.length = 0;
    const r = await h.call('POST', '/projects/web/flags/f/archive', {
      token: 'writer',
      body: { comment: 'done' },
    });
    expect(r.status).toBe(200);
    expect(r.body.archived).toBe(true);
    expect(await versions('f')).toEqual({ production: 2, test: 2 });
    expect(h.committed.map((c) => c.current)).toEqual([
      { key: 'f', version: 2, deleted: true },
      { key: 'f', version: 2, deleted: true },
    ]);
    expect((await loadEnvironmentData(h.storage, 'web', 'production')).flags).toEqual({});

    const change = await h.call('PATCH', '/projects/web/environments/test/flags/f', {
      token: 'writer',
      body: { instructions: [{ kind: 'turnFlagOn' }] },
    });
    expect(change.status).toBe(409);
    expect(change.body.code).toBe('archived');
    // Archiving again changes nothing.
    expect(
      (await h.call('POST', '/projects/web/flags/f/archive', { token: 'writer' })).body.environments.test
        .version,
    ).toBe(2);

    const restored = await h.call('POST', '/projects/web/flags/f/restore', { token: 'writer' });
    expect(restored.body.archived).toBe(false);
    expect(await versions('f')).toEqual({ production: 3, test: 3 });
    expect((await loadEnvironmentData(h.storage, 'web', 'production')).flags.f).toMatchObject({ version: 3 });
    const audit = await h.call('GET', '/audit?project=web&resource=flag:f&limit=2');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['restore', 'archive']);
  });

  it('refuses to archive a flag other flags need as a prerequisite', async () => {
    await createFlag({ key: 'child', name: 'Child' });
    await h.call('PATCH', '/projects/web/environments/production/flags/child', {
      token: 'writer',
      body: { instructions: [{ kind: 'addPrerequisite', key: 'f', variation: 0 }] },
    });
    const r = await h.call('POST', '/projects/web/flags/f/archive', { token: 'writer' });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'in_use', usedBy: ['child (production)'] });
    // Once the dependent flag is archived itself, it no longer holds the prerequisite back.
    await h.call('POST', '/projects/web/flags/child/archive', { token: 'writer' });
    expect((await h.call('POST', '/projects/web/flags/f/archive', { token: 'writer' })).status).toBe(200);
  });
});

describe('what SDKs receive', () => {
  it('is always a valid flag, after any sequence of accepted and refused changes', async () => {
    await createFlag({ key: 'p', name: 'P' });
    await createFlag({ key: 'f', name: 'F', variations: [{ value: 1 }, { value: 2 }] });
    await h.call('POST', '/projects/web/environments/production/segments', {
      token: 'writer',
      body: { key: 'beta', name: 'Beta', included: ['u1'] },
    });
    const attempts = [
      [{ op: 'replace', path: '/fallthrough', value: { variation: 7 } }],
      { instructions: [{ kind: 'addPrerequisite', key: 'p', variation: 0 }] },
      {
        instructions: [
          { kind: 'addRule', clauses: [{ op: 'segmentMatch', values: ['beta'] }], variation: 1 },
        ],
      },
      {
        instructions: [
          { kind: 'addRule', clauses: [{ attribute: 'x', op: 'nope', values: [] }], variation: 1 },
        ],
      },
      [
        {
          op: 'add',
          path: '/rules/-',
          value: { clauses: [{ attribute: 'v', op: 'matches', values: ['('] }], variation: 0 },
        },
      ],
      { instructions: [{ kind: 'turnFlagOn' }] },
    ];
    for (const body of attempts) {
      await h.call('PATCH', '/projects/web/environments/production/flags/f', { token: 'writer', body });
    }
    const data = await loadEnvironmentData(h.storage, 'web', 'production');
    expect(Object.keys(data.flags).sort()).toEqual(['f', 'p']);
    for (const flag of Object.values(data.flags))
      expect(validateFlag(flag, { mode: 'strict' }).ok).toBe(true);
    expect(data.flags.f).toMatchObject({ version: 4, on: true, prerequisites: [{ key: 'p', variation: 0 }] });
  });
});
