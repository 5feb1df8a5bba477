import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiToken } from '../src/domain/types.js';
import { type AdminHarness, adminApp } from './support/adminApp.js';

let h: AdminHarness;
beforeEach(async () => {
  h = await adminApp();
});
afterEach(async () => h.close());

describe('authentication', () => {
  it('answers 401 without a token, with an unknown token, and with a malformed header', async () => {
    for (const token of [null, 'api-not-a-real-token', '']) {
      const r = await h.call('GET', '/projects', { token });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('checks the token before the input, so anonymous callers learn nothing from validation', async () => {
    const r = await h.call('POST', '/projects', { token: null, body: { key: '!!' } });
    expect(r.status).toBe(401);
  });

  it('refuses SDK keys, mobile keys and client-side IDs: they are not API tokens', async () => {
    const project = await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
    const env = project.body.environments[0];
    for (const key of [env.sdkKey, env.mobileKey, env.clientSideId]) {
      expect((await h.call('GET', '/projects', { token: key })).status).toBe(401);
      expect(
        (await h.call('GET', '/projects', { headers: { authorization: key }, token: null })).status,
      ).toBe(401);
    }
  });

  it('accepts the bare token as LaunchDarkly does, as well as Bearer', async () => {
    const r = await h.call('GET', '/projects', { token: null, headers: { authorization: h.tokens.reader } });
    expect(r.status).toBe(200);
  });
});

describe('roles', () => {
  beforeEach(async () => {
    await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
  });

  it('lets readers read and nothing more', async () => {
    expect((await h.call('GET', '/projects', { token: 'reader' })).status).toBe(200);
    expect((await h.call('GET', '/projects/web/flags', { token: 'reader' })).status).toBe(200);
    expect((await h.call('GET', '/audit', { token: 'reader' })).status).toBe(200);
    const writes = [
      h.call('POST', '/projects/web/flags', { token: 'reader', body: { key: 'f', name: 'F' } }),
      h.call('POST', '/projects', { token: 'reader', body: { key: 'p2', name: 'P' } }),
      h.call('POST', '/projects/web/environments/test/segments', {
        token: 'reader',
        body: { key: 's', name: 'S' },
      }),
    ];
    for (const r of await Promise.all(writes)) {
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ code: 'forbidden' });
      expect(r.body.message).toContain('reader');
    }
  });

  it('lets writers change flags and segments but not projects, environments, keys or tokens', async () => {
    expect(
      (await h.call('POST', '/projects/web/flags', { token: 'writer', body: { key: 'f', name: 'F' } }))
        .status,
    ).toBe(201);
    expect(
      (
        await h.call('POST', '/projects/web/environments/test/segments', {
          token: 'writer',
          body: { key: 's', name: 'S' },
        })
      ).status,
    ).toBe(201);
    const adminOnly = [
      h.call('POST', '/projects', { token: 'writer', body: { key: 'p2', name: 'P' } }),
      h.call('PATCH', '/projects/web', { token: 'writer', body: { name: 'W' } }),
      h.call('POST', '/projects/web/environments', { token: 'writer', body: { key: 'e', name: 'E' } }),
      h.call('POST', '/projects/web/environments/test/keys/sdkKey/rotate', { token: 'writer', body: {} }),
      h.call('POST', '/projects/web/archive', { token: 'writer' }),
      h.call('POST', '/tokens', { token: 'writer', body: { name: 'x', role: 'reader' } }),
      h.call('GET', '/tokens', { token: 'writer' }),
    ];
    for (const r of await Promise.all(adminOnly)) expect(r.status).toBe(403);
  });
});

describe('API tokens', () => {
  it('shows the secret once, stores only its hash, and the token works at its role', async () => {
    const created = await h.call('POST', '/tokens', { body: { name: 'ci', role: 'writer' } });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { secret, id, hint } = created.body;
    expect(secret).toMatch(/^api-/);
    expect(hint).toBe(secret.slice(0, 8));
    expect(created.body).toMatchObject({ name: 'ci', role: 'writer', revoked: false });

    const listed = await h.call('GET', '/tokens');
    expect(listed.status).toBe(200);
    const entry = listed.body.items.find((t: ApiToken) => t.id === id);
    expect(entry).toMatchObject({ name: 'ci', role: 'writer', hint });
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(entry).not.toHaveProperty('secret');

    const stored = await h.storage.list<ApiToken>('tokens');
    expect(JSON.stringify(stored)).not.toContain(secret);
    const hash = createHash('sha256').update(secret).digest('hex');
    expect(stored.find((d) => d.id === hash)?.value.id).toBe(id);

    expect((await h.call('GET', '/projects', { token: secret })).status).toBe(200);
    expect((await h.call('POST', '/projects', { token: secret, body: { key: 'x', name: 'X' } })).status).toBe(
      403,
    );
  });

  it('revokes a token: it stops working at once and stays listed as revoked', async () => {
    const { secret, id } = (await h.call('POST', '/tokens', { body: { name: 'tmp', role: 'reader' } })).body;
    const revoked = await h.call('DELETE', `/tokens/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id, revoked: true });
    expect((await h.call('GET', '/projects', { token: secret })).status).toBe(401);
    const listed = (await h.call('GET', '/tokens')).body.items;
    expect(listed.find((t: ApiToken) => t.id === id)?.revoked).toBe(true);
    // Revoking again changes nothing.
    expect((await h.call('DELETE', `/tokens/${id}`)).status).toBe(200);
  });

  it('answers 404 for an unknown token and 400 for a malformed id', async () => {
    expect((await h.call('DELETE', '/tokens/0123456789abcdef')).status).toBe(404);
    const bad = await h.call('DELETE', '/tokens/nope');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('params/id');
  });

  it('names each bad field of a token request', async () => {
    const r = await h.call('POST', '/tokens', { body: { name: '', role: 'owner', extra: 1 } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid_request');
    expect(r.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/extra', '/name', '/role']);
    expect(r.body.errors.find((e: { path: string }) => e.path === '/role').message).toContain('"admin"');
  });

  it('audits token creation and revocation without the secret', async () => {
    const { secret, id } = (await h.call('POST', '/tokens', { body: { name: 'ci', role: 'admin' } })).body;
    await h.call('DELETE', `/tokens/${id}`);
    const audit = await h.call('GET', `/audit?resource=token:${id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['revoke', 'create']);
    expect(JSON.stringify(audit.body)).not.toContain(secret);
  });
});

describe('HTTP behaviour', () => {
  it('answers unknown routes with a JSON 404', async () => {
    const r = await h.call('GET', '/no/such/route');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ code: 'not_found' });
  });

  it('answers malformed JSON with 400 and an unknown content type with 415, never 500', async () => {
    const auth = { authorization: `Bearer ${h.tokens.admin}` };
    const badJson = await h.app.inject({
      method: 'POST',
      url: '/api/v1/projects',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"key": ',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ code: 'invalid_request' });
    const xml = await h.app.inject({
      method: 'POST',
      url: '/api/v1/projects',
      headers: { ...auth, 'content-type': 'application/xml' },
      payload: '<project/>',
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json()).toMatchObject({ code: 'unsupported_media_type' });
  });

  it('validates query strings and path parameters, naming the part', async () => {
    const r = await h.call('GET', '/projects?limit=0&color=red');
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['query/color', 'query/limit']);
    const p = await h.call('GET', '/projects/bad%20key');
    expect(p.status).toBe(400);
    expect(p.body.errors[0].path).toBe('params/project');
  });

  it('serves an OpenAPI 3 document of every admin route, with tags and the token scheme', async () => {
    const r = await h.call('GET', '/api/openapi.json', { token: null });
    expect(r.status).toBe(200);
    const doc = r.body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.apiToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ apiToken: [] }]);
    expect(doc.tags.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(['projects', 'environments', 'flags', 'segments', 'audit', 'tokens']),
    );
    const paths = Object.keys(doc.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/projects',
        '/api/v1/projects/{project}/environments/{env}/keys/{kind}/rotate',
        '/api/v1/projects/{project}/flags/{key}',
        '/api/v1/projects/{project}/environments/{env}/flags/{key}',
        '/api/v1/projects/{project}/environments/{env}/segments/{key}',
        '/api/v1/audit',
        '/api/v1/tokens/{id}',
      ]),
    );
    const create = doc.paths['/api/v1/projects/{project}/flags'].post;
    expect(create.tags).toEqual(['flags']);
    expect(create.requestBody.content['application/json'].schema.properties.key).toBeDefined();
    const patch = doc.paths['/api/v1/projects/{project}/environments/{env}/flags/{key}'].patch;
    expect(Object.keys(patch.requestBody.content)).toEqual(
      expect.arrayContaining(['application/json', 'application/json-patch+json']),
    );
    expect(patch.responses['409']).toBeDefined();
  });

  it('never answers 500 to bad input on any route', async () => {
    await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
    await h.call('POST', '/projects/web/flags', { body: { key: 'f', name: 'F' } });
    await h.call('POST', '/projects/web/environments/test/segments', { body: { key: 's', name: 'S' } });
    const spec = (await h.call('GET', '/api/openapi.json', { token: null })).body;
    const values = { project: 'web', env: 'test', key: 'f', kind: 'sdkKey', id: '0123456789abcdef' };
    const bodies: unknown[] = [
      null,
      [],
      'text',
      42,
      {},
      { key: 'x', name: 'X', version: 'one', extra: { deep: [1, { a: null }] } },
      [{ op: 'replace', path: '/on', value: { nested: [[[]]] } }],
      [{ op: 'add', path: '/__proto__/polluted', value: true }],
      [{ op: 'move', from: '/rules', path: '/rules/0' }],
      {
        instructions: [
          { kind: 'addRule', clauses: [{ op: 'in', values: [{}] }], rollout: { variations: [] } },
        ],
      },
      { patch: [{ op: 'copy', from: '/variations', path: '/tags' }] },
    ];
    let requests = 0;
    for (const [template, methods] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
      const url = template.replace(/\{(\w+)\}/g, (_m, name: string) => values[name as keyof typeof values]);
      for (const method of Object.keys(methods)) {
        const upper = method.toUpperCase() as 'GET' | 'POST' | 'PATCH' | 'DELETE';
        for (const body of upper === 'GET' || upper === 'DELETE' ? [undefined] : bodies) {
          const r = await h.call(upper, `${url}${upper === 'GET' ? '?limit=abc' : ''}`, { body });
          requests++;
          expect(r.status, `${upper} ${url} ${JSON.stringify(body)}`).toBeLessThan(500);
          expect(typeof r.body, `${upper} ${url}`).toBe('object');
        }
      }
    }
    expect(requests).toBeGreaterThan(100);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
