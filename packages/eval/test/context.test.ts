// Contexts (spec §2.1-§2.4): shapes, legacy users, validation, canonical keys and attribute reads.
import { describe, expect, it } from 'vitest';
import { AttributeReference, Context, ContextError } from '../src/index.js';

function ctx(input: unknown): Context {
  const result = Context.from(input);
  if (!(result instanceof Context)) throw new Error(`expected a valid context: ${result.message}`);
  return result;
}

function ref(text: string): AttributeReference {
  return AttributeReference.parse(text);
}

describe('Context.from: single-kind contexts', () => {
  it('accepts a single-kind context', () => {
    const c = ctx({ kind: 'org', key: 'o1', name: 'Acme', address: { city: 'Oslo' } });
    expect(c.kinds).toEqual(['org']);
    expect(c.multi).toBe(false);
    expect(c.legacy).toBe(false);
    expect(c.key('org')).toBe('o1');
    expect(c.key('user')).toBeUndefined();
    expect(c.attributes('user')).toBeUndefined();
    expect(c.valueOf('org', ref('name'))).toBe('Acme');
    expect(c.valueOf('org', ref('/address/city'))).toBe('Oslo');
    expect(c.valueOf('user', ref('name'))).toBeUndefined();
  });

  it('accepts kinds made of letters, digits, dot, underscore and dash', () => {
    expect(ctx({ kind: 'Aa0._-', key: 'k' }).kinds).toEqual(['Aa0._-']);
  });
});

describe('Context.from: multi-kind contexts', () => {
  it('accepts several kinds, each addressed by its property name', () => {
    const c = ctx({ kind: 'multi', user: { key: 'u1', name: 'Ann' }, org: { key: 'o1', name: 'Acme' } });
    expect(c.multi).toBe(true);
    expect([...c.kinds].sort()).toEqual(['org', 'user']);
    expect(c.key('user')).toBe('u1');
    expect(c.key('org')).toBe('o1');
    expect(c.key('device')).toBeUndefined();
    expect(c.valueOf('user', ref('name'))).toBe('Ann');
    expect(c.valueOf('org', ref('name'))).toBe('Acme');
    expect(c.valueOf('device', ref('name'))).toBeUndefined();
  });

  it('treats a multi-kind context with one kind as that single-kind context', () => {
    const c = ctx({ kind: 'multi', org: { key: 'o:1', name: 'Acme' } });
    expect(c.multi).toBe(false);
    expect(c.kinds).toEqual(['org']);
    expect(c.key('org')).toBe('o:1');
    expect(c.valueOf('org', ref('name'))).toBe('Acme');
    expect(c.canonicalKey).toBe('org:o%3A1');
    expect(c.keys()).toEqual({ org: 'o:1' });
  });

  it('treats a multi-kind context with only a user as a user context', () => {
    const c = ctx({ kind: 'multi', user: { key: 'u1' } });
    expect(c.kinds).toEqual(['user']);
    expect(c.canonicalKey).toBe('u1');
  });
});

describe('Context.from: legacy users', () => {
  it('converts a user without kind to a user context', () => {
    const c = ctx({ key: 'u1', name: 'Ann', email: 'ann@example.com' });
    expect(c.legacy).toBe(true);
    expect(c.multi).toBe(false);
    expect(c.kinds).toEqual(['user']);
    expect(c.key('user')).toBe('u1');
    expect(c.valueOf('user', ref('name'))).toBe('Ann');
    expect(c.valueOf('user', ref('email'))).toBe('ann@example.com');
  });

  it('treats kind null as a legacy user', () => {
    const c = ctx({ kind: null, key: 'u1' });
    expect(c.legacy).toBe(true);
    expect(c.kinds).toEqual(['user']);
  });

  it('lifts custom attributes to the top level', () => {
    const c = ctx({ key: 'u1', custom: { plan: 'gold', nested: { a: 1 }, groups: ['x', 'y'] } });
    expect(c.valueOf('user', ref('plan'))).toBe('gold');
    expect(c.valueOf('user', ref('/nested/a'))).toBe(1);
    expect(c.valueOf('user', ref('groups'))).toEqual(['x', 'y']);
    expect(c.valueOf('user', ref('custom'))).toBeUndefined();
  });

  it('copies every built-in attribute when it is set', () => {
    const user = {
      key: 'u1',
      name: 'n',
      firstName: 'f',
      lastName: 'l',
      email: 'e',
      avatar: 'a',
      ip: 'i',
      country: 'c',
    };
    const c = ctx(user);
    for (const [name, value] of Object.entries(user)) {
      expect(c.valueOf('user', ref(name)), name).toBe(value);
    }
  });

  it('does not copy built-ins that are null', () => {
    const c = ctx({
      key: 'u1',
      name: null,
      firstName: null,
      lastName: null,
      email: null,
      avatar: null,
      ip: null,
      country: null,
    });
    const attrs = c.attributes('user')!;
    for (const name of ['name', 'firstName', 'lastName', 'email', 'avatar', 'ip', 'country']) {
      expect(Object.hasOwn(attrs, name), name).toBe(false);
    }
  });

  it('lets a built-in win over a custom attribute of the same name', () => {
    const c = ctx({ key: 'u1', name: 'builtin', custom: { name: 'custom', other: 1 } });
    expect(c.valueOf('user', ref('name'))).toBe('builtin');
    expect(c.valueOf('user', ref('other'))).toBe(1);
  });

  it('coerces the key to a string', () => {
    const c = ctx({ key: 123 });
    expect(c.key('user')).toBe('123');
    expect(c.valueOf('user', ref('key'))).toBe('123');
    expect(c.canonicalKey).toBe('123');
  });

  it('allows the empty key', () => {
    const c = ctx({ key: '' });
    expect(c.key('user')).toBe('');
    expect(c.canonicalKey).toBe('');
  });

  it('sets anonymous only when the user defines it', () => {
    expect(Object.hasOwn(ctx({ key: 'u1' }).attributes('user')!, 'anonymous')).toBe(false);
    expect(ctx({ key: 'u1', anonymous: true }).attributes('user')!.anonymous).toBe(true);
    expect(ctx({ key: 'u1', anonymous: false }).attributes('user')!.anonymous).toBe(false);
    expect(ctx({ key: 'u1', anonymous: 1 }).attributes('user')!.anonymous).toBe(true);
    expect(ctx({ key: 'u1', anonymous: 0 }).attributes('user')!.anonymous).toBe(false);
  });

  it('interprets privateAttributeNames as literal names', () => {
    const c = ctx({ key: 'u1', name: 'n', privateAttributeNames: ['name', '/a/b', 'c/d'] });
    const refs = c.privateAttributes('user');
    expect(refs.map((r) => r.components)).toEqual([['name'], ['/a/b'], ['c/d']]);
    expect(refs.map((r) => r.redactionName)).toEqual(['name', '/~1a~1b', 'c/d']);
    expect(refs.every((r) => r.valid)).toBe(true);
  });

  it('has no private attributes without privateAttributeNames', () => {
    expect(ctx({ key: 'u1' }).privateAttributes('user')).toEqual([]);
  });
});

describe('Context.from: invalid contexts (spec §2.2)', () => {
  it.each([
    ['a kind with a space', { kind: 'my kind', key: 'k' }],
    ['a kind with a colon', { kind: 'a:b', key: 'k' }],
    ['a kind with non-ASCII letters', { kind: 'usér', key: 'k' }],
    ['the empty kind', { kind: '', key: 'k' }],
    ['the kind "kind"', { kind: 'kind', key: 'k' }],
    ['a non-string kind', { kind: 5, key: 'k' }],
    ['a single-kind context with an empty key', { kind: 'user', key: '' }],
    ['a single-kind context without key', { kind: 'org' }],
    ['a single-kind context with a null key', { kind: 'org', key: null }],
    ['a single-kind context with a numeric key', { kind: 'org', key: 5 }],
    ['a multi-kind context without kinds', { kind: 'multi' }],
    ['a multi-kind member of kind "multi"', { kind: 'multi', multi: { key: 'k' }, user: { key: 'u' } }],
    ['a multi-kind member with an invalid kind', { kind: 'multi', 'a b': { key: 'k' }, user: { key: 'u' } }],
    ['a multi-kind member with an empty key', { kind: 'multi', user: { key: 'u' }, org: { key: '' } }],
    ['a multi-kind member without key', { kind: 'multi', user: { key: 'u' }, org: { name: 'x' } }],
    ['a multi-kind member with a numeric key', { kind: 'multi', user: { key: 'u' }, org: { key: 1 } }],
    ['a multi-kind member that is a string', { kind: 'multi', user: { key: 'u' }, org: 'o' }],
    ['a multi-kind member that is null', { kind: 'multi', user: { key: 'u' }, org: null }],
    ['a multi-kind member that is an array', { kind: 'multi', user: { key: 'u' }, org: ['o'] }],
    ['a single member with an empty key', { kind: 'multi', org: { key: '' } }],
    ['a legacy user without key', { name: 'Ann' }],
    ['a legacy user with a null key', { key: null }],
    ['null', null],
    ['undefined', undefined],
    ['an array', [{ key: 'k' }]],
    ['a number', 42],
    ['a string', 'user-key'],
  ])('rejects %s', (_label, input) => {
    const result = Context.from(input);
    expect(result).toBeInstanceOf(ContextError);
    expect((result as ContextError).message).toEqual(expect.any(String));
    expect((result as ContextError).message.length).toBeGreaterThan(0);
  });

  it('rejects kind "multi" with a key but no members', () => {
    // `kind: "multi"` with a key but no members is a multi-kind context without kinds.
    expect(Context.from({ kind: 'multi', key: 'k' })).toBeInstanceOf(ContextError);
  });
});

describe('Context.canonicalKey (spec §2.3)', () => {
  it('is the key itself for a user', () => {
    expect(ctx({ kind: 'user', key: 'a:b%c' }).canonicalKey).toBe('a:b%c');
  });

  it('is kind:key for other kinds', () => {
    expect(ctx({ kind: 'org', key: 'acme' }).canonicalKey).toBe('org:acme');
  });

  it('escapes % before : in keys of other kinds', () => {
    expect(ctx({ kind: 'org', key: 'a:b' }).canonicalKey).toBe('org:a%3Ab');
    expect(ctx({ kind: 'org', key: '100%' }).canonicalKey).toBe('org:100%25');
    expect(ctx({ kind: 'org', key: '%3A:' }).canonicalKey).toBe('org:%253A%3A');
  });

  it('joins multi-kind members sorted by kind', () => {
    const c = ctx({
      kind: 'multi',
      user: { key: 'u:1' },
      org: { key: 'o%1' },
      device: { key: 'd' },
    });
    expect(c.canonicalKey).toBe('device:d:org:o%251:user:u%3A1');
  });

  it('does not depend on the order of the members', () => {
    const a = ctx({ kind: 'multi', b: { key: '2' }, a: { key: '1' } });
    const b = ctx({ kind: 'multi', a: { key: '1' }, b: { key: '2' } });
    expect(a.canonicalKey).toBe('a:1:b:2');
    expect(b.canonicalKey).toBe('a:1:b:2');
  });
});

describe('Context.valueOf', () => {
  it('yields the list of kinds for the kind reference, whatever kind is asked for', () => {
    const single = ctx({ kind: 'org', key: 'o' });
    expect(single.valueOf('org', ref('kind'))).toEqual(['org']);
    expect(single.valueOf('user', ref('kind'))).toEqual(['org']);
    const multi = ctx({ kind: 'multi', user: { key: 'u' }, org: { key: 'o' } });
    expect([...(multi.valueOf('device', ref('kind')) as string[])].sort()).toEqual(['org', 'user']);
    expect(ctx({ key: 'legacy' }).valueOf('user', AttributeReference.literal('kind'))).toEqual(['user']);
  });

  it('yields false for anonymous when it is absent', () => {
    expect(ctx({ kind: 'user', key: 'u' }).valueOf('user', ref('anonymous'))).toBe(false);
    expect(ctx({ kind: 'user', key: 'u', anonymous: true }).valueOf('user', ref('anonymous'))).toBe(true);
    expect(ctx({ kind: 'user', key: 'u', anonymous: false }).valueOf('user', ref('anonymous'))).toBe(false);
    expect(ctx({ key: 'u' }).valueOf('user', ref('anonymous'))).toBe(false);
  });

  it('yields nothing for anonymous of a kind the context lacks', () => {
    expect(ctx({ kind: 'user', key: 'u' }).valueOf('org', ref('anonymous'))).toBeUndefined();
  });

  it('yields the key', () => {
    expect(ctx({ kind: 'user', key: 'u' }).valueOf('user', ref('key'))).toBe('u');
    expect(ctx({ kind: 'multi', user: { key: 'u' }, org: { key: 'o' } }).valueOf('org', ref('/key'))).toBe(
      'o',
    );
  });

  it('reads a custom attribute named like a special one only through its own name', () => {
    const c = ctx({ kind: 'user', key: 'u', kinds: 'custom', anonymousish: 'x' });
    expect(c.valueOf('user', ref('kinds'))).toBe('custom');
    expect(c.valueOf('user', ref('anonymousish'))).toBe('x');
  });
});

describe('Context.keys', () => {
  it('maps each kind to its key', () => {
    expect(ctx({ kind: 'org', key: 'o' }).keys()).toEqual({ org: 'o' });
    expect(ctx({ key: 7 }).keys()).toEqual({ user: '7' });
    expect(ctx({ kind: 'multi', user: { key: 'u' }, org: { key: 'o' } }).keys()).toEqual({
      user: 'u',
      org: 'o',
    });
  });
});

describe('Context.privateAttributes', () => {
  it('parses _meta.privateAttributes as references, per kind', () => {
    const c = ctx({
      kind: 'multi',
      user: { key: 'u', _meta: { privateAttributes: ['name', '/address/city', 'a/b'] } },
      org: { key: 'o', _meta: { privateAttributes: ['/x~1y'] } },
      device: { key: 'd' },
    });
    expect(c.privateAttributes('user').map((r) => r.components)).toEqual([
      ['name'],
      ['address', 'city'],
      ['a/b'],
    ]);
    expect(c.privateAttributes('org').map((r) => r.components)).toEqual([['x/y']]);
    expect(c.privateAttributes('device')).toEqual([]);
    expect(c.privateAttributes('missing')).toEqual([]);
  });

  it('keeps invalid references as invalid', () => {
    const c = ctx({ kind: 'user', key: 'u', _meta: { privateAttributes: ['//'] } });
    const refs = c.privateAttributes('user');
    expect(refs).toHaveLength(1);
    expect(refs[0]!.valid).toBe(false);
  });

  it('ignores a _meta without privateAttributes or a null _meta', () => {
    expect(ctx({ kind: 'user', key: 'u', _meta: {} }).privateAttributes('user')).toEqual([]);
    expect(ctx({ kind: 'user', key: 'u', _meta: null }).privateAttributes('user')).toEqual([]);
  });
});
