// What the dashboard needs beyond the original admin API: who the token is (to show the token page
// only to admins), and what depends on a flag or a segment (to warn before archiving it).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminHarness, adminApp } from './support/adminApp.js';

let h: AdminHarness;
beforeEach(async () => {
  h = await adminApp();
  await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
});
afterEach(async () => h.close());

describe('GET /caller-identity', () => {
  it('names the token and its role for every role, never its secret', async () => {
    for (const role of ['reader', 'writer', 'admin'] as const) {
      const r = await h.call('GET', '/caller-identity', { token: role });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        tokenId: expect.stringMatching(/^[0-9a-f]{16}$/),
        tokenName: `${role} token`,
        role,
      });
      expect(JSON.stringify(r.body)).not.toContain(h.tokens[role]);
    }
  });

  it('answers 401 without a token and for a revoked one', async () => {
    expect((await h.call('GET', '/caller-identity', { token: null })).status).toBe(401);
    const { secret, id } = (await h.call('POST', '/tokens', { body: { name: 'tmp', role: 'writer' } })).body;
    expect((await h.call('GET', '/caller-identity', { token: secret })).body.tokenId).toBe(id);
    await h.call('DELETE', `/tokens/${id}`);
    expect((await h.call('GET', '/caller-identity', { token: secret })).status).toBe(401);
  });
});

describe('GET /projects/:project/flags/:key/dependents', () => {
  beforeEach(async () => {
    for (const key of ['base', 'child', 'other']) {
      await h.call('POST', '/projects/web/flags', { body: { key, name: key } });
    }
  });

  it('lists the live flags that need the flag as a prerequisite, per environment', async () => {
    expect((await h.call('GET', '/projects/web/flags/base/dependents')).body).toEqual({ items: [] });
    const added = await h.call('PATCH', '/projects/web/environments/production/flags/child', {
      body: { instructions: [{ kind: 'addPrerequisite', key: 'base', variation: 0 }] },
    });
    expect(added.status).toBe(200);
    const r = await h.call('GET', '/projects/web/flags/base/dependents', { token: 'reader' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ items: [{ flagKey: 'child', envKey: 'production', variation: 0 }] });
    // The archive refusal names the same flags.
    const refused = await h.call('POST', '/projects/web/flags/base/archive', { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'in_use', usedBy: ['child (production)'] });

    // An archived dependent no longer counts.
    expect((await h.call('POST', '/projects/web/flags/child/archive', { body: {} })).status).toBe(200);
    expect((await h.call('GET', '/projects/web/flags/base/dependents')).body).toEqual({ items: [] });
  });

  it('answers 404 for an unknown flag', async () => {
    const r = await h.call('GET', '/projects/web/flags/nope/dependents');
    expect(r.status).toBe(404);
  });
});

describe('GET …/segments/:key/dependents', () => {
  const base = '/projects/web/environments/production/segments';

  it('lists the live flags and segments whose rules use the segment, and the refusal agrees', async () => {
    await h.call('POST', base, { body: { key: 'beta', name: 'Beta' } });
    await h.call('POST', base, { body: { key: 'wider', name: 'Wider' } });
    await h.call('POST', '/projects/web/flags', { body: { key: 'banner', name: 'Banner' } });
    expect((await h.call('GET', `${base}/beta/dependents`)).body).toEqual({ items: [] });

    const clause = { attribute: '', op: 'segmentMatch', values: ['beta'] };
    await h.call('PATCH', '/projects/web/environments/production/flags/banner', {
      body: { patch: [{ op: 'add', path: '/rules/-', value: { clauses: [clause], variation: 0 } }] },
    });
    await h.call('PATCH', `${base}/wider`, {
      body: { patch: [{ op: 'add', path: '/rules/-', value: { clauses: [clause] } }] },
    });
    const r = await h.call('GET', `${base}/beta/dependents`, { token: 'reader' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      items: [
        { kind: 'flag', key: 'banner' },
        { kind: 'segment', key: 'wider' },
      ],
    });
    const refused = await h.call('POST', `${base}/beta/archive`, { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'in_use', usedBy: ['flag banner', 'segment wider'] });
    // Other environments do not share segments.
    expect((await h.call('GET', '/projects/web/environments/test/segments/beta/dependents')).status).toBe(
      404,
    );
  });
});
