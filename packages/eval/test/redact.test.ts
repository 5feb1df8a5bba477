import { describe, expect, it } from 'vitest';
import { Context } from '../src/context/context.js';
import { ContextRedactor, type RedactionOptions, redactContext } from '../src/events/redact.js';

function context(input: unknown): Context {
  const result = Context.from(input);
  if (!(result instanceof Context)) throw new Error(result.message);
  return result;
}

function redact(input: unknown, options: RedactionOptions = {}, redactAnonymous?: boolean) {
  return redactContext(context(input), options, redactAnonymous);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('redactContext: single-kind contexts', () => {
  it('copies a context without private attributes unchanged, with kind and key first', () => {
    const out = redact({ name: 'Ann', key: 'u1', kind: 'user', tags: ['a', 'b'], nested: { x: 1 } });
    expect(out).toEqual({ kind: 'user', key: 'u1', name: 'Ann', tags: ['a', 'b'], nested: { x: 1 } });
    expect(Object.keys(out)).toEqual(['kind', 'key', 'name', 'tags', 'nested']);
  });

  it('never outputs _meta.privateAttributes and drops _meta when nothing was redacted', () => {
    const out = redact({ kind: 'user', key: 'u1', name: 'Ann', _meta: { privateAttributes: ['missing'] } });
    expect(out).toEqual({ kind: 'user', key: 'u1', name: 'Ann' });
  });

  it('redacts top-level attributes named by the context', () => {
    const out = redact({
      kind: 'user',
      key: 'u1',
      name: 'Ann',
      email: 'ann@example.com',
      plan: 'gold',
      _meta: { privateAttributes: ['email', '/name'] },
    });
    expect(out).toEqual({
      kind: 'user',
      key: 'u1',
      plan: 'gold',
      _meta: { redactedAttributes: ['/name', 'email'] },
    });
  });

  it('redacts attributes named by the SDK option and merges them with the context ones, sorted', () => {
    const out = redact(
      {
        kind: 'org',
        key: 'o1',
        zeta: 1,
        alpha: 2,
        beta: 3,
        gamma: 4,
        _meta: { privateAttributes: ['beta'] },
      },
      { privateAttributes: ['zeta', '/alpha'] },
    );
    expect(out).toEqual({
      kind: 'org',
      key: 'o1',
      gamma: 4,
      _meta: { redactedAttributes: ['/alpha', 'beta', 'zeta'] },
    });
  });

  it('lists an attribute named twice once, spelled as the first reference (SDK option first)', () => {
    const out = redact(
      { kind: 'user', key: 'u1', email: 'e', _meta: { privateAttributes: ['email'] } },
      { privateAttributes: ['/email'] },
    );
    expect(out).toEqual({ kind: 'user', key: 'u1', _meta: { redactedAttributes: ['/email'] } });
  });

  it('redacts nested properties addressed by a slash reference, keeping their siblings', () => {
    const out = redact({
      kind: 'user',
      key: 'u1',
      address: { city: 'Flagstaff', street: { line1: '1 Main St', line2: 'Apt 2' }, zip: '86001' },
      _meta: { privateAttributes: ['/address/city', '/address/street/line1'] },
    });
    expect(out).toEqual({
      kind: 'user',
      key: 'u1',
      address: { street: { line2: 'Apt 2' }, zip: '86001' },
      _meta: { redactedAttributes: ['/address/city', '/address/street/line1'] },
    });
  });

  it('lists only the outer reference when a whole object and one of its properties are private', () => {
    const out = redact({
      kind: 'user',
      key: 'u1',
      address: { city: 'Flagstaff' },
      _meta: { privateAttributes: ['/address/city', '/address'] },
    });
    expect(out).toEqual({ kind: 'user', key: 'u1', _meta: { redactedAttributes: ['/address'] } });
  });

  it('does not list references to attributes or properties that do not exist', () => {
    const out = redact(
      {
        kind: 'user',
        key: 'u1',
        address: { city: 'Flagstaff' },
        label: 'plain',
        _meta: { privateAttributes: ['/address/zip', '/nothing', '/label/length', '/address/city/x'] },
      },
      { privateAttributes: ['absent'] },
    );
    expect(out).toEqual({ kind: 'user', key: 'u1', address: { city: 'Flagstaff' }, label: 'plain' });
  });

  it('never indexes into arrays', () => {
    const out = redact({
      kind: 'user',
      key: 'u1',
      list: ['a', 'b'],
      objects: [{ secret: 1 }],
      _meta: { privateAttributes: ['/list/0', '/objects/0/secret'] },
    });
    expect(out).toEqual({ kind: 'user', key: 'u1', list: ['a', 'b'], objects: [{ secret: 1 }] });
  });

  it('unescapes ~1 and ~0 in slash references and keeps the reference spelling in the output', () => {
    const out = redact({
      kind: 'user',
      key: 'u1',
      'a/b': 1,
      'c~d': 2,
      nested: { 'x/y': 3, keep: 4 },
      _meta: { privateAttributes: ['/a~1b', '/c~0d', '/nested/x~1y'] },
    });
    expect(out).toEqual({
      kind: 'user',
      key: 'u1',
      nested: { keep: 4 },
      _meta: { redactedAttributes: ['/a~1b', '/c~0d', '/nested/x~1y'] },
    });
  });

  it('treats a name without a leading slash as one literal attribute name', () => {
    const out = redact({
      kind: 'user',
      key: 'u1',
      'a/b': 1,
      a: { b: 2 },
      _meta: { privateAttributes: ['a/b'] },
    });
    expect(out).toEqual({ kind: 'user', key: 'u1', a: { b: 2 }, _meta: { redactedAttributes: ['a/b'] } });
  });

  it('ignores invalid references', () => {
    const out = redact(
      {
        kind: 'user',
        key: 'u1',
        name: 'Ann',
        _meta: { privateAttributes: ['', '/', '//name', '/na~2me', '/name~'] },
      },
      { privateAttributes: ['/_meta', '_meta'] },
    );
    expect(out).toEqual({ kind: 'user', key: 'u1', name: 'Ann' });
  });

  it('never redacts key, kind, anonymous or _meta', () => {
    const out = redact(
      {
        kind: 'user',
        key: 'u1',
        anonymous: true,
        name: 'Ann',
        _meta: { privateAttributes: ['key', '/kind', 'anonymous', '/key'] },
      },
      { privateAttributes: ['kind', '/anonymous', '_meta'] },
    );
    expect(out).toEqual({ kind: 'user', key: 'u1', anonymous: true, name: 'Ann' });
  });

  it('redacts every top-level attribute by name with allAttributesPrivate, except protected ones', () => {
    const out = redact(
      {
        kind: 'user',
        key: 'u1',
        anonymous: false,
        name: 'Ann',
        address: { city: 'Flagstaff' },
        '/odd': 1,
        _meta: { privateAttributes: ['/address/city'] },
      },
      { allAttributesPrivate: true, privateAttributes: ['/address/city'] },
    );
    expect(out).toEqual({
      kind: 'user',
      key: 'u1',
      anonymous: false,
      // A literal name starting with "/" is re-encoded as a reference (spec §2.4).
      _meta: { redactedAttributes: ['/~1odd', 'address', 'name'] },
    });
  });

  it('redacts every attribute of anonymous contexts only when asked to', () => {
    const input = { kind: 'user', key: 'u1', anonymous: true, name: 'Ann', plan: 'gold' };
    expect(redact(input, {}, true)).toEqual({
      kind: 'user',
      key: 'u1',
      anonymous: true,
      _meta: { redactedAttributes: ['name', 'plan'] },
    });
    expect(redact(input, {}, false)).toEqual(input);
    expect(redact(input)).toEqual(input);
    const known = { kind: 'user', key: 'u2', anonymous: false, name: 'Bob' };
    expect(redact(known, {}, true)).toEqual(known);
    // Only the boolean true marks a context as anonymous.
    const truthy = { kind: 'user', key: 'u3', anonymous: 'yes', name: 'Cy' };
    expect(redact(truthy, {}, true)).toEqual(truthy);
  });

  it('outputs a multi-kind context with a single member as that single-kind context', () => {
    expect(
      redact({ kind: 'multi', org: { key: 'o1', name: 'Acme', _meta: { privateAttributes: ['name'] } } }),
    ).toEqual({
      kind: 'org',
      key: 'o1',
      _meta: { redactedAttributes: ['name'] },
    });
  });
});

describe('redactContext: multi-kind contexts', () => {
  it('applies each member its own private attributes and _meta, and the SDK option to all members', () => {
    const out = redact(
      {
        kind: 'multi',
        user: { key: 'u1', name: 'Ann', email: 'ann@example.com', _meta: { privateAttributes: ['email'] } },
        org: { key: 'o1', name: 'Acme', region: 'eu', _meta: { privateAttributes: ['/region'] } },
        device: { key: 'd1', model: 'x' },
      },
      { privateAttributes: ['name'] },
    );
    expect(out).toEqual({
      kind: 'multi',
      user: { key: 'u1', _meta: { redactedAttributes: ['email', 'name'] } },
      org: { key: 'o1', _meta: { redactedAttributes: ['/region', 'name'] } },
      device: { key: 'd1', model: 'x' },
    });
    expect(Object.keys(out)).toEqual(['kind', 'user', 'org', 'device']);
  });

  it('redacts only the anonymous members when anonymous redaction is on', () => {
    const input = {
      kind: 'multi',
      user: { key: 'u1', anonymous: true, name: 'Ann' },
      org: { key: 'o1', name: 'Acme' },
    };
    expect(redact(input, {}, true)).toEqual({
      kind: 'multi',
      user: { key: 'u1', anonymous: true, _meta: { redactedAttributes: ['name'] } },
      org: { key: 'o1', name: 'Acme' },
    });
  });

  it('redacts every member with allAttributesPrivate', () => {
    const out = redact(
      { kind: 'multi', user: { key: 'u1', name: 'Ann' }, org: { key: 'o1', tier: 2 } },
      { allAttributesPrivate: true },
    );
    expect(out).toEqual({
      kind: 'multi',
      user: { key: 'u1', _meta: { redactedAttributes: ['name'] } },
      org: { key: 'o1', _meta: { redactedAttributes: ['tier'] } },
    });
  });

  it('does not write a kind property inside members', () => {
    const out = redact({ kind: 'multi', user: { key: 'u1', kind: 'bogus' }, org: { key: 'o1' } });
    expect(out).toEqual({ kind: 'multi', user: { key: 'u1' }, org: { key: 'o1' } });
  });
});

describe('redactContext: legacy users', () => {
  it('converts to a user context and stringifies the legacy built-in attributes', () => {
    const out = redact({
      key: 42,
      name: 7,
      firstName: 'Ann',
      lastName: false,
      email: 'ann@example.com',
      avatar: 'http://a',
      ip: '10.0.0.1',
      country: 'US',
      anonymous: false,
      custom: { age: 30, tags: ['x'], flagstaff: true },
    });
    expect(out).toEqual({
      kind: 'user',
      key: '42',
      name: '7',
      firstName: 'Ann',
      lastName: 'false',
      email: 'ann@example.com',
      avatar: 'http://a',
      ip: '10.0.0.1',
      country: 'US',
      anonymous: false,
      age: 30,
      tags: ['x'],
      flagstaff: true,
    });
  });

  it('treats privateAttributeNames as literal names', () => {
    const out = redact({
      key: 'u1',
      email: 'ann@example.com',
      name: 'Ann',
      custom: { '/path': 1, 'a/b': 2, a: { b: 3 }, plan: 'gold' },
      privateAttributeNames: ['email', '/path', 'a/b', 'missing'],
    });
    expect(out).toEqual({
      kind: 'user',
      key: 'u1',
      name: 'Ann',
      a: { b: 3 },
      plan: 'gold',
      _meta: { redactedAttributes: ['/~1path', 'a/b', 'email'] },
    });
  });

  it('applies SDK option references, allAttributesPrivate and anonymous redaction to legacy users', () => {
    const user = { key: 'u1', name: 'Ann', anonymous: true, custom: { address: { city: 'F', zip: '1' } } };
    expect(redact(user, { privateAttributes: ['/address/city'] })).toEqual({
      kind: 'user',
      key: 'u1',
      name: 'Ann',
      anonymous: true,
      address: { zip: '1' },
      _meta: { redactedAttributes: ['/address/city'] },
    });
    expect(redact(user, { allAttributesPrivate: true })).toEqual({
      kind: 'user',
      key: 'u1',
      anonymous: true,
      _meta: { redactedAttributes: ['address', 'name'] },
    });
    expect(redact(user, {}, true)).toEqual(redact(user, { allAttributesPrivate: true }));
  });
});

describe('redactContext: copies', () => {
  it('never mutates the caller objects and shares no mutable objects with them', () => {
    const input = deepFreeze({
      kind: 'multi',
      user: {
        key: 'u1',
        address: { city: 'F', geo: { lat: 1, lon: 2 } },
        list: [{ a: 1 }],
        _meta: { privateAttributes: ['/address/city'] },
      },
      org: { key: 'o1', info: { size: 3 }, _meta: { privateAttributes: ['info'] } },
    });
    const before = structuredClone(input);
    const out = redact(input, { privateAttributes: ['/address/geo/lat'] }) as {
      user: { address: { geo: object }; list: object[] };
    };
    expect(input).toEqual(before);
    expect(out.user.address).not.toBe(input.user.address);
    expect(out.user.address.geo).not.toBe(input.user.address.geo);
    expect(out.user.list).not.toBe(input.user.list);
    expect(out.user.list[0]).not.toBe(input.user.list[0]);
    expect(out).toEqual({
      kind: 'multi',
      user: {
        key: 'u1',
        address: { geo: { lon: 2 } },
        list: [{ a: 1 }],
        _meta: { redactedAttributes: ['/address/city', '/address/geo/lat'] },
      },
      org: { key: 'o1', _meta: { redactedAttributes: ['info'] } },
    });
  });

  it('keeps a __proto__ attribute as plain data', () => {
    const input = JSON.parse('{"kind":"user","key":"u1","__proto__":{"polluted":true},"o":{"__proto__":1}}');
    const out = redact(input);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe(
      '{"kind":"user","key":"u1","__proto__":{"polluted":true},"o":{"__proto__":1}}',
    );
  });

  it('drops values JSON cannot represent and cuts reference cycles instead of throwing', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const out = redact({ kind: 'user', key: 'u1', fn: () => 1, missing: undefined, cyclic, list: [cyclic] });
    expect(out).toEqual({ kind: 'user', key: 'u1', cyclic: { name: 'loop' }, list: [{ name: 'loop' }] });
    expect(() => JSON.stringify(out)).not.toThrow();
  });

  it('ContextRedactor gives the same output as redactContext and can be reused', () => {
    const options = { privateAttributes: ['email'] };
    const redactor = new ContextRedactor(options);
    const a = context({ kind: 'user', key: 'a', email: 'a@x' });
    const b = context({ kind: 'multi', user: { key: 'b', email: 'b@x' }, org: { key: 'o', email: 'o@x' } });
    expect(redactor.redact(a)).toEqual(redactContext(a, options));
    expect(redactor.redact(b)).toEqual(redactContext(b, options));
    expect(redactor.redact(a)).toEqual({ kind: 'user', key: 'a', _meta: { redactedAttributes: ['email'] } });
  });
});
