import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerContext } from '../src/context.js';
import { ApiError } from '../src/domain/errors.js';
import { updateTargeting } from '../src/domain/targeting.js';
import type { Storage, StorageWriter } from '../src/storage/types.js';
import { type AdminHarness, adminApp } from './support/adminApp.js';

let h: AdminHarness;
beforeEach(async () => {
  h = await adminApp();
  await h.call('POST', '/projects', { body: { key: 'web', name: 'Web' } });
  for (const key of ['a', 'b', 'c']) {
    await h.call('POST', '/projects/web/flags', { token: 'writer', body: { key, name: key.toUpperCase() } });
  }
  await h.call('POST', '/projects/web/environments/production/segments', {
    token: 'writer',
    body: { key: 'beta', name: 'Beta testers', included: ['u1'] },
  });
  h.notices.length = 0;
  h.committed.length = 0;
});
afterEach(async () => h.close());

const targetingUrl = (flag: string, env = 'production') => `/projects/web/environments/${env}/flags/${flag}`;
const patchFlag = (flag: string, body: unknown, env = 'production') =>
  h.call('PATCH', targetingUrl(flag, env), { token: 'writer', body });
const errorsOf = (body: { errors: { path: string; message: string }[] }) =>
  Object.fromEntries(body.errors.map((e) => [e.path, e.message]));
const rule = (clause: object, extra: object = { variation: 0 }) => ({ clauses: [clause], ...extra });

/** Refused changes must leave no trace: no version bump, no audit entry, no notice, no webhook. */
async function expectNothingWritten(): Promise<void> {
  for (const flag of ['a', 'b', 'c']) {
    for (const env of ['production', 'test']) {
      expect((await h.call('GET', targetingUrl(flag, env))).body.version).toBe(1);
    }
  }
  const audit = await h.call('GET', '/audit?project=web&resource=flag&limit=100');
  expect(audit.body.items.every((e: { action: string }) => e.action === 'create')).toBe(true);
  expect(h.notices).toEqual([]);
  expect(h.committed).toEqual([]);
}

describe('a malformed flag is refused with the path of each bad field', () => {
  it('variation index out of range', async () => {
    const r = await patchFlag('a', [
      { op: 'replace', path: '/fallthrough', value: { variation: 2 } },
      { op: 'replace', path: '/offVariation', value: 9 },
      { op: 'add', path: '/targets/-', value: { values: ['u'], variation: 3 } },
    ]);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid_request');
    const errors = errorsOf(r.body);
    expect(Object.keys(errors).sort()).toEqual([
      '/fallthrough/variation',
      '/offVariation',
      '/targets/0/variation',
    ]);
    expect(errors['/fallthrough/variation']).toBe(
      'fallthrough/variation: variation index 2 is out of range: the flag has 2 variations',
    );
    await expectNothingWritten();
  });

  it('unknown operator', async () => {
    const r = await patchFlag('a', [
      { op: 'add', path: '/rules/-', value: rule({ attribute: 'email', op: 'looksLike', values: ['x'] }) },
    ]);
    expect(r.status).toBe(400);
    expect(errorsOf(r.body)['/rules/0/clauses/0/op']).toContain('unknown operator "looksLike"');
    await expectNothingWritten();
  });

  it('invalid regular expression', async () => {
    const r = await patchFlag('a', {
      instructions: [
        {
          kind: 'addRule',
          clauses: [{ attribute: 'email', op: 'matches', values: ['ok', '(a'] }],
          variation: 0,
        },
      ],
    });
    expect(r.status).toBe(400);
    expect(Object.keys(errorsOf(r.body))).toEqual(['/instructions/0/clauses/0/values/1']);
    expect(errorsOf(r.body)['/instructions/0/clauses/0/values/1']).toContain(
      'is not a valid regular expression',
    );
    await expectNothingWritten();
  });

  it('missing or archived segment', async () => {
    const missing = await patchFlag('a', [
      { op: 'add', path: '/rules/-', value: rule({ op: 'segmentMatch', values: ['beta', 'gamma'] }) },
    ]);
    expect(missing.status).toBe(400);
    expect(errorsOf(missing.body)).toEqual({
      '/rules/0/clauses/0/values/1':
        'rules/0/clauses/0/values/1: segment "gamma" does not exist in environment "production"',
    });
    // The segment exists in production only, so the same rule is refused in test.
    const otherEnv = await patchFlag(
      'a',
      [{ op: 'add', path: '/rules/-', value: rule({ op: 'segmentMatch', values: ['beta'] }) }],
      'test',
    );
    expect(otherEnv.status).toBe(400);
    await h.call('POST', '/projects/web/environments/production/segments/beta/archive', { token: 'writer' });
    h.notices.length = 0;
    h.committed.length = 0;
    const archived = await patchFlag('a', [
      { op: 'add', path: '/rules/-', value: rule({ op: 'segmentMatch', values: ['beta'] }) },
    ]);
    expect(errorsOf(archived.body)['/rules/0/clauses/0/values/0']).toContain('is archived');
    await expectNothingWritten();
  });

  it('prerequisite cycles, direct and longer, and prerequisites on oneself', async () => {
    expect(
      (await patchFlag('a', { instructions: [{ kind: 'addPrerequisite', key: 'b', variation: 0 }] })).status,
    ).toBe(200);
    const direct = await patchFlag('b', {
      instructions: [{ kind: 'addPrerequisite', key: 'a', variation: 0 }],
    });
    expect(direct.status).toBe(400);
    expect(direct.body.errors).toEqual([
      {
        path: '/instructions/0/key',
        message: 'instructions/0/key: prerequisites form a cycle: b → a → b',
      },
    ]);
    expect(
      (await patchFlag('b', { instructions: [{ kind: 'addPrerequisite', key: 'c', variation: 1 }] })).status,
    ).toBe(200);
    const longer = await patchFlag('c', [
      { op: 'add', path: '/prerequisites/-', value: { key: 'a', variation: 0 } },
    ]);
    expect(longer.status).toBe(400);
    expect(errorsOf(longer.body)['/prerequisites/0/key']).toContain('c → a → b → c');
    // Prerequisites are per environment: the same edge in another environment is no cycle.
    expect(
      (
        await patchFlag(
          'c',
          [{ op: 'add', path: '/prerequisites/-', value: { key: 'a', variation: 0 } }],
          'test',
        )
      ).status,
    ).toBe(200);
    const self = await patchFlag('a', [
      { op: 'add', path: '/prerequisites/-', value: { key: 'a', variation: 0 } },
    ]);
    expect(self.status).toBe(400);
    expect(Object.keys(errorsOf(self.body))).toEqual(['/prerequisites/1/key']);
  });

  it('prerequisites on unknown flags or variations they do not have', async () => {
    const r = await patchFlag('a', [
      { op: 'add', path: '/prerequisites/-', value: { key: 'ghost', variation: 0 } },
      { op: 'add', path: '/prerequisites/-', value: { key: 'b', variation: 2 } },
    ]);
    expect(r.status).toBe(400);
    expect(errorsOf(r.body)).toEqual({
      '/prerequisites/0/key': 'prerequisites/0/key: flag "ghost" does not exist',
      '/prerequisites/1/variation':
        'prerequisites/1/variation: variation index 2 is out of range: flag "b" has 2 variations',
    });
    await expectNothingWritten();
  });

  it('rollouts, rule shapes, duplicate rule ids and bad references', async () => {
    const r = await patchFlag('a', [
      {
        op: 'add',
        path: '/rules/-',
        value: {
          id: 'same',
          clauses: [{ contextKind: 'kind', attribute: 'x', op: 'in', values: [1] }],
          variation: 0,
          rollout: { variations: [{ variation: 0, weight: 1 }] },
        },
      },
      {
        op: 'add',
        path: '/rules/-',
        value: { id: 'same', clauses: [{ attribute: '', op: 'in', values: [] }], variation: 1 },
      },
      {
        op: 'replace',
        path: '/fallthrough',
        value: { rollout: { variations: [{ variation: 0, weight: 70000 }] } },
      },
    ]);
    expect(r.status).toBe(400);
    expect(Object.keys(errorsOf(r.body)).sort()).toEqual([
      '/fallthrough/rollout/variations',
      '/rules/0',
      '/rules/0/clauses/0/contextKind',
      '/rules/0/rollout/variations',
      '/rules/1/clauses/0/attribute',
      '/rules/1/id',
    ]);
    await expectNothingWritten();
  });

  it('segments are validated the same way', async () => {
    const r = await h.call('POST', '/projects/web/environments/production/segments', {
      token: 'writer',
      body: {
        key: 'bad',
        name: 'Bad',
        rules: [
          { clauses: [{ attribute: 'email', op: 'matches', values: ['['] }], weight: 50000 },
          { clauses: [{ op: 'segmentMatch', values: ['bad', 'nope'] }] },
        ],
        includedContexts: [{ contextKind: 'multi', values: ['x'] }],
      },
    });
    expect(r.status).toBe(400);
    expect(Object.keys(errorsOf(r.body)).sort()).toEqual([
      '/includedContexts/0/contextKind',
      '/rules/0/clauses/0/values/0',
      '/rules/1/clauses/0/values/0',
      '/rules/1/clauses/0/values/1',
    ]);
    expect(errorsOf(r.body)['/rules/1/clauses/0/values/0']).toContain('cannot match against itself');
    expect(await h.storage.get('segments', 'web/production/bad')).toBeUndefined();
    // Shapes are checked first, by the request schema.
    const weight = await h.call('POST', '/projects/web/environments/production/segments', {
      token: 'writer',
      body: { key: 'w', name: 'W', rules: [{ clauses: [], weight: 200000 }] },
    });
    expect(Object.keys(errorsOf(weight.body))).toEqual(['/rules/0/weight']);
  });
});

describe('concurrent writers', () => {
  /** A storage on which another replica changes the targeting document under the first write. */
  function racingStorage(storage: Storage, times: number): Storage {
    let left = times;
    const transaction: Storage['transaction'] = (fn) =>
      storage.transaction((tx) => {
        const racing: StorageWriter = {
          ...tx,
          put: async (collection, id, value, options) => {
            if (collection === 'targeting' && left > 0) {
              left--;
              const current = await tx.get(collection, id);
              await tx.put(collection, id, current?.value);
            }
            return tx.put(collection, id, value, options);
          },
        };
        return fn(racing);
      });
    return new Proxy(storage, {
      get(target, prop) {
        if (prop === 'transaction') return transaction;
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  const request = { actor: { kind: 'system' as const, id: 'test', name: 'test' } };
  const turnOn = { instructions: [{ kind: 'turnFlagOn' as const }] };

  it('re-runs a change that named no version, on fresh data', async () => {
    const ctx: ServerContext = { ...h.ctx, storage: racingStorage(h.storage, 1) };
    const view = await updateTargeting(ctx, request, 'web', 'production', 'a', turnOn);
    expect(view).toMatchObject({ on: true, version: 2 });
  });

  it('answers 409 to a change based on a version, rather than overwrite the other write', async () => {
    const ctx: ServerContext = { ...h.ctx, storage: racingStorage(h.storage, 1) };
    const attempt = updateTargeting(
      ctx,
      { ...request, expectedVersion: 1 },
      'web',
      'production',
      'a',
      turnOn,
    );
    await expect(attempt).rejects.toMatchObject({ status: 409, code: 'conflict' });
    await expect(attempt).rejects.toBeInstanceOf(ApiError);
  });

  it('gives up with 409 when the race keeps being lost', async () => {
    const ctx: ServerContext = { ...h.ctx, storage: racingStorage(h.storage, 10) };
    await expect(updateTargeting(ctx, request, 'web', 'production', 'a', turnOn)).rejects.toMatchObject({
      status: 409,
    });
    expect((await h.call('GET', targetingUrl('a'))).body).toMatchObject({ version: 1, on: false });
  });
});
