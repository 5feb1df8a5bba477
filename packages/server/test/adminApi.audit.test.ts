import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminHarness, adminApp } from './support/adminApp.js';

let h: AdminHarness;

interface Entry {
  id: number;
  at: number;
  action: string;
  envKey?: string;
  projectKey?: string;
  resource: { kind: string; key: string };
}

beforeEach(async () => {
  h = await adminApp();
  await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
  await h.call('POST', '/projects', { body: { key: 'api', name: 'API', environments: [] } });
  await h.call('POST', '/projects/web/flags', { token: 'writer', body: { key: 'f', name: 'F' } });
  await h.call('POST', '/projects/web/flags', { token: 'writer', body: { key: 'g', name: 'G' } });
  await h.call('PATCH', '/projects/web/environments/production/flags/f', {
    token: 'writer',
    body: { comment: 'go', instructions: [{ kind: 'turnFlagOn' }] },
  });
  await h.call('PATCH', '/projects/web/environments/test/flags/f', {
    token: 'writer',
    body: { instructions: [{ kind: 'turnFlagOn' }] },
  });
  await h.call('PATCH', '/projects/web/flags/f', {
    token: 'writer',
    body: [{ op: 'replace', path: '/name', value: 'F2' }],
  });
});
afterEach(async () => h.close());

const query = async (q: string) => {
  const r = await h.call('GET', `/audit${q}`, { token: 'reader' });
  expect(r.status).toBe(200);
  return r.body as { items: Entry[]; next?: number };
};
const summary = (items: Entry[]) =>
  items.map((e) => `${e.action} ${e.resource.kind}:${e.resource.key} ${e.envKey ?? '-'}`);

describe('audit log', () => {
  it('records one entry per change, newest first', async () => {
    const { items } = await query('?project=web');
    expect(summary(items)).toEqual([
      'update flag:f -',
      'updateTargeting flag:f test',
      'updateTargeting flag:f production',
      'create flag:g -',
      'create flag:f -',
      'create environment:test test',
      'create environment:production production',
      'create project:web -',
    ]);
    const ids = items.map((e) => e.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
  });

  it('filters by environment and resource', async () => {
    expect(summary((await query('?project=web&env=production')).items)).toEqual([
      'updateTargeting flag:f production',
      'create environment:production production',
    ]);
    // A flag's history includes its definition changes, which belong to no environment.
    expect(summary((await query('?project=web&resource=flag:f')).items)).toEqual([
      'update flag:f -',
      'updateTargeting flag:f test',
      'updateTargeting flag:f production',
      'create flag:f -',
    ]);
    expect(summary((await query('?project=web&env=test&resource=flag:f')).items)).toEqual([
      'updateTargeting flag:f test',
    ]);
    expect((await query('?resource=project')).items.map((e) => e.resource.key)).toEqual(['api', 'web']);
    expect((await query('?project=web&resource=flag:nope')).items).toEqual([]);
  });

  it('keeps before and after, actor and comment', async () => {
    const [entry] = (await query('?project=web&env=production&resource=flag:f')).items;
    expect(entry).toMatchObject({
      actor: { kind: 'token', name: 'writer token' },
      comment: 'go',
      before: { key: 'f', version: 1, on: false },
      after: { key: 'f', version: 2, on: true },
    });
  });

  it('pages backwards with limit and before, and filters by time', async () => {
    const first = await query('?project=web&limit=3');
    expect(first.items).toHaveLength(3);
    expect(first.next).toBe(first.items[2]?.id);
    const second = await query(`?project=web&limit=3&before=${first.next}`);
    expect(second.items[0]?.id).toBeLessThan(first.items[2]!.id);
    const all = (await query('?project=web&limit=500')).items;
    expect(all.map((e) => e.id)).toEqual(
      [...first.items, ...second.items, ...(await query(`?project=web&before=${second.next}`)).items].map(
        (e) => e.id,
      ),
    );
    const last = await query(`?project=web&limit=${all.length}`);
    expect(last.next).toBeUndefined();

    const newest = all[0]!.at;
    expect((await query(`?project=web&since=${newest + 1}`)).items).toEqual([]);
    expect((await query(`?project=web&until=${all.at(-1)!.at}`)).items).toEqual([]);
    expect((await query(`?project=web&since=${all.at(-1)!.at}`)).items).toHaveLength(all.length);
  });

  it('refuses bad filters naming them', async () => {
    const env = await h.call('GET', '/audit?env=production');
    expect(env.status).toBe(400);
    expect(env.body.errors[0].path).toBe('query/env');
    const kind = await h.call('GET', '/audit?resource=widget:x');
    expect(kind.status).toBe(400);
    expect(kind.body.errors[0].path).toBe('query/resource');
    const bad = await h.call('GET', '/audit?since=yesterday&limit=5000');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'query/limit',
      'query/since',
    ]);
    expect((await h.call('GET', '/audit', { token: null })).status).toBe(401);
  });
});
