// Attribute references (spec §2.4): slash paths, escapes, invalid forms, literal mode and lookup.
import { describe, expect, it } from 'vitest';
import { AttributeReference } from '../src/index.js';

describe('AttributeReference.parse', () => {
  it('treats a name without a leading slash as one component', () => {
    const ref = AttributeReference.parse('name');
    expect(ref.valid).toBe(true);
    expect(ref.components).toEqual(['name']);
    expect(ref.redactionName).toBe('name');
  });

  it('does not split or unescape a plain name', () => {
    expect(AttributeReference.parse('a/b').components).toEqual(['a/b']);
    expect(AttributeReference.parse('a~1b').components).toEqual(['a~1b']);
    expect(AttributeReference.parse('a~b').components).toEqual(['a~b']);
    expect(AttributeReference.parse('a/b').valid).toBe(true);
  });

  it('splits a slash path into components', () => {
    expect(AttributeReference.parse('/a').components).toEqual(['a']);
    expect(AttributeReference.parse('/a/b').components).toEqual(['a', 'b']);
    expect(AttributeReference.parse('/address/street/line1').components).toEqual([
      'address',
      'street',
      'line1',
    ]);
  });

  it('unescapes ~1 to / and ~0 to ~', () => {
    expect(AttributeReference.parse('/a~1b').components).toEqual(['a/b']);
    expect(AttributeReference.parse('/a~0b').components).toEqual(['a~b']);
    expect(AttributeReference.parse('/~0~1/~1~0').components).toEqual(['~/', '/~']);
    // `~01` is `~0` followed by `1`, not `~` followed by `~1`.
    expect(AttributeReference.parse('/~01').components).toEqual(['~1']);
  });

  it('keeps the reference as written for redaction output', () => {
    expect(AttributeReference.parse('/a~1b/c').redactionName).toBe('/a~1b/c');
  });

  it.each([
    ['', 'empty'],
    ['/', 'a lone slash'],
    ['//', 'an empty component'],
    ['/a//b', 'an empty middle component'],
    ['/a/', 'an empty last component'],
    ['/a~', 'a trailing ~'],
    ['/a~2', '~ followed by 2'],
    ['/~x/b', '~ followed by a letter'],
    ['_meta', '_meta'],
    ['/_meta', '/_meta'],
    ['/_meta/x', 'a path under _meta'],
  ])('rejects %j (%s)', (text) => {
    const ref = AttributeReference.parse(text);
    expect(ref.valid).toBe(false);
    expect(ref.components).toEqual([]);
    expect(ref.isKind).toBe(false);
  });

  it('accepts _meta below the first component', () => {
    const ref = AttributeReference.parse('/a/_meta');
    expect(ref.valid).toBe(true);
    expect(ref.components).toEqual(['a', '_meta']);
  });

  it('marks only the single component `kind` as the kind reference', () => {
    expect(AttributeReference.parse('kind').isKind).toBe(true);
    expect(AttributeReference.parse('/kind').isKind).toBe(true);
    expect(AttributeReference.literal('kind').isKind).toBe(true);
    expect(AttributeReference.parse('/kind/x').isKind).toBe(false);
    expect(AttributeReference.parse('kinds').isKind).toBe(false);
  });
});

describe('AttributeReference.literal', () => {
  it('keeps a name with slashes as one component', () => {
    const ref = AttributeReference.literal('a/b');
    expect(ref.valid).toBe(true);
    expect(ref.components).toEqual(['a/b']);
    expect(ref.redactionName).toBe('a/b');
  });

  it('keeps a leading slash and re-encodes it as a reference for redaction', () => {
    const ref = AttributeReference.literal('/x');
    expect(ref.valid).toBe(true);
    expect(ref.components).toEqual(['/x']);
    expect(ref.redactionName).toBe('/~1x');
  });

  it('escapes ~ before / in the redaction name', () => {
    const ref = AttributeReference.literal('/a~b/c');
    expect(ref.components).toEqual(['/a~b/c']);
    expect(ref.redactionName).toBe('/~1a~0b~1c');
  });

  it('does not unescape ~ sequences', () => {
    const ref = AttributeReference.literal('~1x');
    expect(ref.components).toEqual(['~1x']);
    expect(ref.redactionName).toBe('~1x');
  });

  it('rejects the empty name', () => {
    expect(AttributeReference.literal('').valid).toBe(false);
  });

  it('reads the literal name, not the path it looks like', () => {
    const attrs = { '/x': 'literal', x: 'plain', 'a/b': 'slashed', a: { b: 'nested' } };
    expect(AttributeReference.literal('/x').get(attrs)).toBe('literal');
    expect(AttributeReference.literal('a/b').get(attrs)).toBe('slashed');
    expect(AttributeReference.parse('/a/b').get(attrs)).toBe('nested');
  });
});

describe('AttributeReference.get', () => {
  const attrs = {
    name: 'Ann',
    address: { city: 'Paris', geo: { lat: 48.8 }, 'zip/code': '75001', 'ti~lde': 't' },
    tags: ['a', 'b'],
    nothing: null,
    list: [{ x: 1 }],
    '0': 'zero',
  };

  it('reads top-level attributes', () => {
    expect(AttributeReference.parse('name').get(attrs)).toBe('Ann');
    expect(AttributeReference.parse('/name').get(attrs)).toBe('Ann');
    expect(AttributeReference.parse('0').get(attrs)).toBe('zero');
  });

  it('walks nested objects', () => {
    expect(AttributeReference.parse('/address/city').get(attrs)).toBe('Paris');
    expect(AttributeReference.parse('/address/geo/lat').get(attrs)).toBe(48.8);
    expect(AttributeReference.parse('/address/geo').get(attrs)).toEqual({ lat: 48.8 });
    expect(AttributeReference.parse('/address/zip~1code').get(attrs)).toBe('75001');
    expect(AttributeReference.parse('/address/ti~0lde').get(attrs)).toBe('t');
  });

  it('returns arrays and null as they are', () => {
    expect(AttributeReference.parse('tags').get(attrs)).toEqual(['a', 'b']);
    expect(AttributeReference.parse('nothing').get(attrs)).toBeNull();
  });

  it('returns undefined for missing attributes and paths through scalars or null', () => {
    expect(AttributeReference.parse('missing').get(attrs)).toBeUndefined();
    expect(AttributeReference.parse('/address/country').get(attrs)).toBeUndefined();
    expect(AttributeReference.parse('/name/length').get(attrs)).toBeUndefined();
    expect(AttributeReference.parse('/nothing/x').get(attrs)).toBeUndefined();
    expect(AttributeReference.parse('/address/city/x').get(attrs)).toBeUndefined();
  });

  it('does not index into arrays', () => {
    expect(AttributeReference.parse('/tags/0').get(attrs)).toBeUndefined();
    expect(AttributeReference.parse('/tags/length').get(attrs)).toBeUndefined();
    expect(AttributeReference.parse('/list/0/x').get(attrs)).toBeUndefined();
    expect(AttributeReference.parse('0').get(['first'])).toBeUndefined();
  });

  it('ignores inherited properties', () => {
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf']) {
      expect(AttributeReference.parse(name).get(attrs), name).toBeUndefined();
      expect(AttributeReference.parse(`/address/${name}`).get(attrs), name).toBeUndefined();
      expect(AttributeReference.literal(name).get({}), name).toBeUndefined();
    }
  });

  it('reads an own property named __proto__ or toString, as JSON.parse creates them', () => {
    const parsed = JSON.parse('{"__proto__": "own", "toString": "mine", "o": {"constructor": 5}}') as object;
    expect(AttributeReference.parse('__proto__').get(parsed)).toBe('own');
    expect(AttributeReference.parse('toString').get(parsed)).toBe('mine');
    expect(AttributeReference.parse('/o/constructor').get(parsed)).toBe(5);
  });

  it('ignores properties inherited from a prototype object', () => {
    const inherited = Object.create({ secret: 'from prototype' }) as object;
    expect(AttributeReference.parse('secret').get(inherited)).toBeUndefined();
  });
});
