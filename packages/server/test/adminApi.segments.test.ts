import type { Segment } from '@flagstaff/eval';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadEnvironmentData } from '../src/domain/environmentData.js';
import { type AdminHarness, adminApp } from './support/adminApp.js';

let h: AdminHarness;
const BASE = '/projects/web/environments/production/segments';

beforeEach(async () => {
  h = await adminApp();
  await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
  h.notices.length = 0;
  h.committed.length = 0;
});
afterEach(async () => h.close());

const create = (body: object) => h.call('POST', BASE, { token: 'writer', body });
const paths = (body: { errors: { path: string }[] }) => body.errors.map((e) => e.path).sort();
const emailRule = { clauses: [{ attribute: 'email', op: 'endsWith', values: ['@example.com'] }] };

describe('segments', () => {
  it('creates a segment at version 1 and tells SDKs of its environment', async () => {
    const r = await create({
      key: 'beta',
      name: 'Beta testers',
      tags: ['beta'],
      included: ['u1'],
      includedContexts: [{ contextKind: 'org', values: ['acme'] }],
      rules: [emailRule],
      comment: 'first cohort',
    });
    expect(r.status).toBe(201);
    expect(r.headers.etag).toBe('"1"');
    expect(r.body).toMatchObject({
      key: 'beta',
      envKey: 'production',
      version: 1,
      excluded: [],
      archived: false,
    });
    expect(r.body.rules[0].id).toBeDefined();
    expect(r.body.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(h.notices).toEqual([{ projectKey: 'web', envKey: 'production', kind: 'segment', key: 'beta' }]);
    expect(h.committed[0]).toMatchObject({
      kind: 'segment',
      action: 'create',
      comment: 'first cohort',
      current: { key: 'beta', version: 1, included: ['u1'] },
    });
    const data = await loadEnvironmentData(h.storage, 'web', 'production');
    expect(Object.keys(data.segments)).toEqual(['beta']);
    expect((await loadEnvironmentData(h.storage, 'web', 'test')).segments).toEqual({});
  });

  it('refuses bad input, duplicates and unknown environments', async () => {
    const bad = await create({ key: '', name: 'X', included: 'u1', rules: [{ weight: 5 }] });
    expect(bad.status).toBe(400);
    expect(paths(bad.body)).toEqual(['/included', '/key', '/rules/0/clauses']);
    await create({ key: 'beta', name: 'Beta' });
    expect((await create({ key: 'beta', name: 'Beta' })).status).toBe(409);
    const missing = await h.call('POST', '/projects/web/environments/nope/segments', {
      token: 'writer',
      body: { key: 'x', name: 'X' },
    });
    expect(missing.status).toBe(404);
  });

  it('reads and lists with filters and paging', async () => {
    for (const key of ['a', 'b', 'c'])
      await create({ key, name: `Segment ${key}`, tags: key === 'b' ? [] : ['t'] });
    await h.call('POST', `${BASE}/c/archive`, { token: 'writer' });
    const list = await h.call('GET', BASE, { token: 'reader' });
    expect(list.body.items.map((s: Segment) => s.key)).toEqual(['a', 'b']);
    expect((await h.call('GET', `${BASE}?archived=true`)).body.items.map((s: Segment) => s.key)).toEqual([
      'c',
    ]);
    expect((await h.call('GET', `${BASE}?tag=t`)).body.items.map((s: Segment) => s.key)).toEqual(['a']);
    const page = await h.call('GET', `${BASE}?limit=1`);
    expect(page.body).toMatchObject({ items: [{ key: 'a' }], next: 'a' });
    expect((await h.call('GET', `${BASE}?limit=1&after=a`)).body.items[0].key).toBe('b');
    expect((await h.call('GET', `${BASE}/a`)).body.name).toBe('Segment a');
    expect((await h.call('GET', `${BASE}/zzz`)).status).toBe(404);
  });

  it('changes by JSON Patch, one version per change, with optimistic concurrency', async () => {
    await create({ key: 'beta', name: 'Beta' });
    const r = await h.call('PATCH', `${BASE}/beta`, {
      token: 'writer',
      body: {
        patch: [
          { op: 'add', path: '/included/-', value: 'u9' },
          { op: 'add', path: '/rules/-', value: emailRule },
          { op: 'replace', path: '/name', value: 'Beta 2' },
        ],
        version: 1,
        comment: 'more testers',
      },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ version: 2, name: 'Beta 2', included: ['u9'] });
    expect(r.body.rules[0].id).toBeDefined();
    const stale = await h.call('PATCH', `${BASE}/beta`, {
      token: 'writer',
      body: [{ op: 'replace', path: '/name', value: 'x' }],
      headers: { 'if-match': '1' },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.currentVersion).toBe(2);
    const refused = await h.call('PATCH', `${BASE}/beta`, {
      token: 'writer',
      body: [{ op: 'replace', path: '/salt', value: 'x' }],
    });
    expect(refused.status).toBe(400);
    expect(paths(refused.body)).toEqual(['/0/path']);
    const shape = await h.call('PATCH', `${BASE}/beta`, {
      token: 'writer',
      body: [
        { op: 'add', path: '/version', value: 9 },
        { op: 'replace', path: '/excluded', value: [1] },
      ],
    });
    expect(paths(shape.body)).toEqual(['/excluded/0', '/version']);
    const audit = await h.call('GET', '/audit?project=web&env=production&resource=segment:beta');
    expect(audit.body.items[0]).toMatchObject({
      action: 'update',
      comment: 'more testers',
      before: { version: 1, name: 'Beta' },
      after: { version: 2, name: 'Beta 2' },
    });
    expect((await h.call('GET', `${BASE}/beta`)).body.version).toBe(2);
  });

  it('refuses segments that match against each other in a cycle', async () => {
    await create({ key: 'x', name: 'X' });
    await create({ key: 'y', name: 'Y', rules: [{ clauses: [{ op: 'segmentMatch', values: ['x'] }] }] });
    const r = await h.call('PATCH', `${BASE}/x`, {
      token: 'writer',
      body: [{ op: 'add', path: '/rules/-', value: { clauses: [{ op: 'segmentMatch', values: ['y'] }] } }],
    });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([
      {
        path: '/rules/0/clauses/0/values/0',
        message: 'rules/0/clauses/0/values/0: segments refer to each other in a cycle: x → y → x',
      },
    ]);
  });

  it('archives to a tombstone and restores, refusing while flags or segments use it', async () => {
    await create({ key: 'beta', name: 'Beta' });
    await h.call('POST', '/projects/web/flags', { token: 'writer', body: { key: 'f', name: 'F' } });
    await h.call('PATCH', '/projects/web/environments/production/flags/f', {
      token: 'writer',
      body: {
        instructions: [
          { kind: 'addRule', id: 'r', clauses: [{ op: 'segmentMatch', values: ['beta'] }], variation: 0 },
        ],
      },
    });
    await create({
      key: 'outer',
      name: 'Outer',
      rules: [{ clauses: [{ op: 'segmentMatch', values: ['beta'] }] }],
    });
    const inUse = await h.call('POST', `${BASE}/beta/archive`, { token: 'writer' });
    expect(inUse.status).toBe(409);
    expect(inUse.body).toMatchObject({ code: 'in_use', usedBy: ['flag f', 'segment outer'] });

    await h.call('PATCH', '/projects/web/environments/production/flags/f', {
      token: 'writer',
      body: { instructions: [{ kind: 'removeRule', ruleId: 'r' }] },
    });
    await h.call('POST', `${BASE}/outer/archive`, { token: 'writer' });
    h.committed.length = 0;
    const archived = await h.call('POST', `${BASE}/beta/archive`, { token: 'writer' });
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ archived: true, version: 2 });
    expect(h.committed[0]?.current).toEqual({ key: 'beta', version: 2, deleted: true });
    expect((await loadEnvironmentData(h.storage, 'web', 'production')).segments.beta).toBeUndefined();
    expect((await h.call('PATCH', `${BASE}/beta`, { token: 'writer', body: [] })).status).toBe(409);

    const restored = await h.call('POST', `${BASE}/beta/restore`, { token: 'writer' });
    expect(restored.body).toMatchObject({ archived: false, version: 3 });
    // "outer" refers to "beta"; it can come back now that "beta" is live again.
    expect((await h.call('POST', `${BASE}/outer/restore`, { token: 'writer' })).status).toBe(200);
  });

  it('refuses restoring a segment whose rules refer to an archived segment', async () => {
    await create({ key: 'inner', name: 'Inner' });
    await create({
      key: 'outer',
      name: 'Outer',
      rules: [{ clauses: [{ op: 'segmentMatch', values: ['inner'] }] }],
    });
    await h.call('POST', `${BASE}/outer/archive`, { token: 'writer' });
    await h.call('POST', `${BASE}/inner/archive`, { token: 'writer' });
    const r = await h.call('POST', `${BASE}/outer/restore`, { token: 'writer' });
    expect(r.status).toBe(400);
    expect(paths(r.body)).toEqual(['/rules/0/clauses/0/values/0']);
  });
});
