import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveCredential } from '../src/domain/environmentData.js';
import type { Environment } from '../src/domain/types.js';
import { type AdminHarness, adminApp } from './support/adminApp.js';

let h: AdminHarness;
beforeEach(async () => {
  h = await adminApp();
});
afterEach(async () => h.close());

const paths = (body: { errors: { path: string }[] }) => body.errors.map((e) => e.path).sort();

describe('projects', () => {
  it('creates production (critical) and test environments by default, each with fresh keys', async () => {
    const r = await h.call('POST', '/projects', {
      body: { key: 'web', name: 'Web shop', description: 'Storefront', tags: ['team-a'] },
    });
    expect(r.status).toBe(201);
    expect(r.headers.etag).toBe('"1"');
    expect(r.body).toMatchObject({ key: 'web', name: 'Web shop', description: 'Storefront', version: 1 });
    const envs: Environment[] = r.body.environments;
    expect(envs.map((e) => [e.key, e.critical])).toEqual([
      ['production', true],
      ['test', false],
    ]);
    for (const env of envs) {
      expect(env.sdkKey).toMatch(/^sdk-[0-9a-f-]{36}$/);
      expect(env.mobileKey).toMatch(/^mob-[0-9a-f-]{36}$/);
      expect(env.clientSideId).toMatch(/^[0-9a-f]{24}$/);
      expect((await resolveCredential(h.storage, env.sdkKey, 'sdkKey'))?.key).toBe(env.key);
      expect((await resolveCredential(h.storage, env.mobileKey, 'mobileKey'))?.key).toBe(env.key);
      expect((await resolveCredential(h.storage, env.clientSideId, 'clientSideId'))?.key).toBe(env.key);
      // A key only works as its own kind.
      expect(await resolveCredential(h.storage, env.sdkKey, 'mobileKey')).toBeUndefined();
    }
    expect(new Set(envs.map((e) => e.sdkKey)).size).toBe(2);
  });

  it('creates exactly the environments asked for, none included', async () => {
    const none = await h.call('POST', '/projects', { body: { key: 'empty', name: 'E', environments: [] } });
    expect(none.body.environments).toEqual([]);
    const some = await h.call('POST', '/projects', {
      body: { key: 'api', name: 'API', environments: [{ key: 'staging', name: 'Staging', color: '00ff00' }] },
    });
    expect(some.body.environments).toMatchObject([{ key: 'staging', critical: false, color: '00ff00' }]);
  });

  it('refuses bad input naming every field, duplicates, and an existing key', async () => {
    const bad = await h.call('POST', '/projects', {
      body: { key: '-x', name: '', tags: 'a', environments: [{ key: 'a b', name: 'A', color: 'red' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_request');
    expect(paths(bad.body)).toEqual([
      '/environments/0/color',
      '/environments/0/key',
      '/key',
      '/name',
      '/tags',
    ]);
    for (const e of bad.body.errors) expect(e.message.startsWith(`${e.path.slice(1)}: `)).toBe(true);

    const dup = await h.call('POST', '/projects', {
      body: {
        key: 'p',
        name: 'P',
        environments: [
          { key: 'a', name: 'A' },
          { key: 'a', name: 'B' },
        ],
      },
    });
    expect(dup.status).toBe(400);
    expect(paths(dup.body)).toEqual(['/environments/1/key']);

    expect((await h.call('POST', '/projects', { body: { key: 'p', name: 'P' } })).status).toBe(201);
    const again = await h.call('POST', '/projects', { body: { key: 'p', name: 'P' } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already_exists');
  });

  it('lists with filters and pages by key', async () => {
    for (const [key, tags] of [
      ['alpha', ['x']],
      ['beta', []],
      ['gamma', ['x']],
      ['delta', ['x']],
    ] as const) {
      await h.call('POST', '/projects', { body: { key, name: key.toUpperCase(), tags, environments: [] } });
    }
    await h.call('POST', '/projects/beta/archive');
    const live = await h.call('GET', '/projects', { token: 'reader' });
    expect(live.body.items.map((p: { key: string }) => p.key)).toEqual(['alpha', 'delta', 'gamma']);
    expect(live.body.next).toBeUndefined();
    const archived = await h.call('GET', '/projects?archived=true');
    expect(archived.body.items.map((p: { key: string }) => p.key)).toEqual(['beta']);
    const q = await h.call('GET', '/projects?q=ELT');
    expect(q.body.items.map((p: { key: string }) => p.key)).toEqual(['delta']);

    const first = await h.call('GET', '/projects?tag=x&limit=2');
    expect(first.body.items.map((p: { key: string }) => p.key)).toEqual(['alpha', 'delta']);
    expect(first.body.next).toBe('delta');
    const second = await h.call('GET', `/projects?tag=x&limit=2&after=${first.body.next}`);
    expect(second.body.items.map((p: { key: string }) => p.key)).toEqual(['gamma']);
    expect(second.body.next).toBeUndefined();
  });

  it('reads one project with its environments, or answers 404', async () => {
    await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
    const r = await h.call('GET', '/projects/web', { token: 'reader' });
    expect(r.status).toBe(200);
    expect(r.body.environments).toHaveLength(2);
    const missing = await h.call('GET', '/projects/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'not_found' });
    expect(missing.body.message).toContain('nope');
  });

  it('updates with optimistic concurrency: body version or If-Match, 409 with the current version', async () => {
    await h.call('POST', '/projects', { body: { key: 'web', name: 'Web', environments: [] } });
    const first = await h.call('PATCH', '/projects/web', {
      body: { name: 'Web 2', version: 1, comment: 'rename' },
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ name: 'Web 2', version: 2 });
    const stale = await h.call('PATCH', '/projects/web', { body: { name: 'Web 3', version: 1 } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'version_conflict', currentVersion: 2 });
    const header = await h.call('PATCH', '/projects/web', {
      body: { tags: ['a'] },
      headers: { 'if-match': '"2"' },
    });
    expect(header.status).toBe(200);
    expect(header.body.version).toBe(3);
    const staleHeader = await h.call('PATCH', '/projects/web', {
      body: { tags: [] },
      headers: { 'if-match': '2' },
    });
    expect(staleHeader.status).toBe(409);
    const badHeader = await h.call('PATCH', '/projects/web', {
      body: { tags: [] },
      headers: { 'if-match': 'abc' },
    });
    expect(badHeader.status).toBe(400);
    expect(badHeader.body.errors[0].path).toBe('headers/if-match');
    expect((await h.call('GET', '/projects/web')).body).toMatchObject({ name: 'Web 2', tags: ['a'] });
  });

  it('archives a project read-only and restores it', async () => {
    await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
    const archived = await h.call('POST', '/projects/web/archive', { body: { comment: 'retired' } });
    expect(archived.status).toBe(200);
    expect(archived.body.archived).toBe(true);
    const write = await h.call('POST', '/projects/web/flags', {
      token: 'writer',
      body: { key: 'f', name: 'F' },
    });
    expect(write.status).toBe(409);
    expect(write.body.code).toBe('archived');
    expect((await h.call('PATCH', '/projects/web', { body: { name: 'X' } })).status).toBe(409);
    // Reading still works, and SDKs keep being served until an environment is archived.
    expect((await h.call('GET', '/projects/web')).status).toBe(200);
    const sdkKey = archived.body.environments[0].sdkKey;
    expect(await resolveCredential(h.storage, sdkKey, 'sdkKey')).toBeDefined();

    expect((await h.call('POST', '/projects/web/restore')).body.archived).toBe(false);
    expect(
      (await h.call('POST', '/projects/web/flags', { token: 'writer', body: { key: 'f', name: 'F' } }))
        .status,
    ).toBe(201);
  });

  it('audits project changes with before and after, and notifies', async () => {
    await h.call('POST', '/projects', { body: { key: 'web', name: 'Web', environments: [] } });
    await h.call('PATCH', '/projects/web', { body: { name: 'Shop', comment: 'rebrand' } });
    const audit = await h.call('GET', '/audit?project=web&resource=project:web');
    const [update, create] = audit.body.items;
    expect(update).toMatchObject({
      action: 'update',
      comment: 'rebrand',
      actor: { kind: 'token', name: 'admin token' },
      before: { name: 'Web' },
      after: { name: 'Shop' },
    });
    expect(create).toMatchObject({ action: 'create', after: { key: 'web' } });
    expect(h.notices).toContainEqual({ projectKey: 'web', kind: 'project', key: 'web' });
    expect(h.committed.map((c) => [c.kind, c.action])).toEqual([
      ['project', 'create'],
      ['project', 'update'],
    ]);
  });
});

describe('environments', () => {
  beforeEach(async () => {
    await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
  });

  it('creates an environment with targeting, off, for every existing flag', async () => {
    await h.call('POST', '/projects/web/flags', { token: 'writer', body: { key: 'f', name: 'F' } });
    const r = await h.call('POST', '/projects/web/environments', {
      body: { key: 'staging', name: 'Staging', critical: false },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ projectKey: 'web', key: 'staging', version: 1, archived: false });
    const targeting = await h.call('GET', '/projects/web/environments/staging/flags/f');
    expect(targeting.status).toBe(200);
    expect(targeting.body).toMatchObject({
      version: 1,
      on: false,
      offVariation: 1,
      fallthrough: { variation: 0 },
    });
    expect(h.notices).toContainEqual({
      projectKey: 'web',
      envKey: 'staging',
      kind: 'environment',
      key: 'staging',
    });
    const list = await h.call('GET', '/projects/web/environments', { token: 'reader' });
    expect(list.body.items.map((e: Environment) => e.key)).toEqual(['production', 'staging', 'test']);
  });

  it('refuses a duplicate key, a bad body and an unknown project', async () => {
    const dup = await h.call('POST', '/projects/web/environments', { body: { key: 'test', name: 'T' } });
    expect(dup.status).toBe(409);
    const bad = await h.call('POST', '/projects/web/environments', { body: { key: 'x', critical: 'yes' } });
    expect(bad.status).toBe(400);
    expect(paths(bad.body)).toEqual(['/critical', '/name']);
    expect(
      (await h.call('POST', '/projects/nope/environments', { body: { key: 'x', name: 'X' } })).status,
    ).toBe(404);
    expect((await h.call('GET', '/projects/web/environments/nope')).status).toBe(404);
  });

  it('updates name, color and criticality with version checks', async () => {
    const r = await h.call('PATCH', '/projects/web/environments/test', {
      body: { name: 'QA', color: 'abcdef', critical: true, version: 1 },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'QA', color: 'abcdef', critical: true, version: 2 });
    const cleared = await h.call('PATCH', '/projects/web/environments/test', { body: { color: null } });
    expect(cleared.body.color).toBeUndefined();
    const stale = await h.call('PATCH', '/projects/web/environments/test', {
      body: { name: 'Q', version: 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.currentVersion).toBe(3);
  });

  it('archiving an environment stops its keys; restoring brings them back', async () => {
    const env = (await h.call('GET', '/projects/web/environments/test')).body;
    const archived = await h.call('POST', '/projects/web/environments/test/archive');
    expect(archived.body.archived).toBe(true);
    expect(await resolveCredential(h.storage, env.sdkKey, 'sdkKey')).toBeUndefined();
    const live = await h.call('GET', '/projects/web/environments?archived=false');
    expect(live.body.items.map((e: Environment) => e.key)).toEqual(['production']);
    const write = await h.call('PATCH', '/projects/web/environments/test/flags/x', {
      token: 'writer',
      body: { instructions: [{ kind: 'turnFlagOn' }] },
    });
    expect(write.status).toBe(409);
    await h.call('POST', '/projects/web/environments/test/restore');
    expect((await resolveCredential(h.storage, env.sdkKey, 'sdkKey'))?.key).toBe('test');
  });
});

describe('key rotation', () => {
  let env: Environment;
  beforeEach(async () => {
    env = (await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } })).body.environments[0];
  });

  it('keeps the old SDK key valid until the grace period ends', async () => {
    const start = h.clock.now;
    const r = await h.call('POST', '/projects/web/environments/production/keys/sdkKey/rotate', {
      body: { gracePeriodSeconds: 3600, comment: 'leaked in a log' },
    });
    expect(r.status).toBe(200);
    const newKey = r.body.sdkKey;
    expect(newKey).not.toBe(env.sdkKey);
    expect(r.body.retiredKeys.sdkKey).toEqual({ key: env.sdkKey, expiresAt: start + 3_600_000 });
    expect(r.body.mobileKey).toBe(env.mobileKey);

    expect((await resolveCredential(h.storage, newKey, 'sdkKey', start))?.key).toBe('production');
    expect((await resolveCredential(h.storage, env.sdkKey, 'sdkKey', start + 3_599_999))?.key).toBe(
      'production',
    );
    expect(await resolveCredential(h.storage, env.sdkKey, 'sdkKey', start + 3_600_000)).toBeUndefined();

    h.clock.now = start + 3_600_001;
    const later = await h.call('GET', '/projects/web/environments/production');
    expect(later.body.retiredKeys).toEqual({});

    const audit = await h.call('GET', '/audit?project=web&env=production&resource=environment');
    const entry = audit.body.items[0];
    expect(entry).toMatchObject({
      action: 'rotateKey',
      comment: 'leaked in a log',
      after: { rotated: 'sdkKey' },
    });
    expect(JSON.stringify(entry)).not.toContain(env.sdkKey);
    expect(JSON.stringify(entry)).not.toContain(newKey);
    expect(h.notices).toContainEqual({
      projectKey: 'web',
      envKey: 'production',
      kind: 'environment',
      key: 'production',
    });
  });

  it('revokes the old key at once without a grace period', async () => {
    const r = await h.call('POST', '/projects/web/environments/production/keys/mobileKey/rotate', {
      body: {},
    });
    expect(r.status).toBe(200);
    expect(r.body.mobileKey).toMatch(/^mob-/);
    expect(r.body.retiredKeys).toEqual({});
    expect(await resolveCredential(h.storage, env.mobileKey, 'mobileKey')).toBeUndefined();
    expect(await h.storage.get('credentials', env.mobileKey)).toBeUndefined();
    expect((await resolveCredential(h.storage, r.body.mobileKey, 'mobileKey'))?.key).toBe('production');
  });

  it('revokes a key still in its grace period when rotating again', async () => {
    const first = await h.call('POST', '/projects/web/environments/production/keys/sdkKey/rotate', {
      body: { gracePeriodSeconds: 600 },
    });
    const second = await h.call('POST', '/projects/web/environments/production/keys/sdkKey/rotate', {
      body: { gracePeriodSeconds: 600 },
    });
    expect(await resolveCredential(h.storage, env.sdkKey, 'sdkKey', h.clock.now)).toBeUndefined();
    expect((await resolveCredential(h.storage, first.body.sdkKey, 'sdkKey', h.clock.now))?.key).toBe(
      'production',
    );
    expect(second.body.retiredKeys.sdkKey.key).toBe(first.body.sdkKey);
  });

  it('refuses the client-side ID, unknown kinds and bad grace periods', async () => {
    const cs = await h.call('POST', '/projects/web/environments/production/keys/clientSideId/rotate', {
      body: {},
    });
    expect(cs.status).toBe(400);
    expect(cs.body.errors[0].path).toBe('params/kind');
    const kind = await h.call('POST', '/projects/web/environments/production/keys/apiKey/rotate', {
      body: {},
    });
    expect(kind.status).toBe(400);
    expect(kind.body.errors[0].path).toBe('params/kind');
    const grace = await h.call('POST', '/projects/web/environments/production/keys/sdkKey/rotate', {
      body: { gracePeriodSeconds: -5 },
    });
    expect(grace.status).toBe(400);
    expect(paths(grace.body)).toEqual(['/gracePeriodSeconds']);
    expect(
      (await h.call('POST', '/projects/web/environments/nope/keys/sdkKey/rotate', { body: {} })).status,
    ).toBe(404);
    // Nothing changed.
    expect((await resolveCredential(h.storage, env.sdkKey, 'sdkKey'))?.key).toBe('production');
  });
});
