import { AttributeReference } from './attributeReference.js';

type Attributes = Record<string, unknown>;

const KIND_PATTERN = /^[A-Za-z0-9._-]+$/;
const LEGACY_BUILT_INS = ['name', 'ip', 'firstName', 'lastName', 'email', 'avatar', 'country'] as const;

/** Why a value could not be used as a context; evaluation then fails with USER_NOT_SPECIFIED. */
export class ContextError {
  constructor(readonly message: string) {}
}

/**
 * A validated evaluation context (spec §2). Built once per SDK call from what the caller passed; the
 * attribute objects of non-legacy contexts are the caller's own objects (no copy), which is safe
 * because evaluation is synchronous and never writes to them.
 */
export class Context {
  /** Every kind in this context, e.g. `['user']` or `['org', 'user']`. */
  readonly kinds: readonly string[];
  /** True when built from a legacy user object (no `kind`). */
  readonly legacy: boolean;
  private readonly single: Attributes | undefined;
  private readonly singleKind: string | undefined;
  private readonly members: Record<string, Attributes> | undefined;
  /** A legacy user's `privateAttributeNames`: literal names, not references. */
  private readonly legacyPrivateNames: readonly string[] | undefined;
  private canonical: string | undefined;

  private constructor(
    kinds: string[],
    legacy: boolean,
    single?: Attributes,
    members?: Record<string, Attributes>,
    legacyPrivateNames?: string[],
  ) {
    this.kinds = kinds;
    this.legacy = legacy;
    this.legacyPrivateNames = legacyPrivateNames;
    this.single = single;
    this.singleKind = single ? kinds[0] : undefined;
    this.members = members;
  }

  /** Validates and wraps a caller's context or legacy user; returns a ContextError if it is unusable. */
  static from(input: unknown): Context | ContextError {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      return new ContextError('context must be an object');
    }
    const obj = input as Attributes;
    const kind = obj.kind;
    if (kind === undefined || kind === null) return Context.fromLegacyUser(obj);
    if (typeof kind !== 'string') return new ContextError('context kind must be a string');
    if (kind === 'multi') return Context.fromMulti(obj);
    const problem = kindProblem(kind) ?? keyProblem(obj.key, kind);
    if (problem) return new ContextError(problem);
    return new Context([kind], false, obj);
  }

  private static fromMulti(obj: Attributes): Context | ContextError {
    const kinds: string[] = [];
    // No prototype: a member kind named `__proto__` (valid by the kind pattern) must stay plain data.
    const members: Record<string, Attributes> = Object.create(null);
    for (const kind in obj) {
      if (kind === 'kind' || !Object.hasOwn(obj, kind)) continue;
      const member = obj[kind];
      const problem = kindProblem(kind);
      if (problem) return new ContextError(problem);
      if (member === null || typeof member !== 'object' || Array.isArray(member)) {
        return new ContextError(`multi-kind context member "${kind}" must be an object`);
      }
      const keyError = keyProblem((member as Attributes).key, kind);
      if (keyError) return new ContextError(keyError);
      kinds.push(kind);
      members[kind] = member as Attributes;
    }
    if (kinds.length === 0) return new ContextError('multi-kind context must contain at least one kind');
    if (kinds.length === 1) return new Context(kinds, false, members[kinds[0]!]);
    return new Context(kinds, false, undefined, members);
  }

  /** Converts a legacy user (spec §2.1): custom attributes lifted, built-ins kept when set, key as string. */
  private static fromLegacyUser(user: Attributes): Context | ContextError {
    if (user.key === undefined || user.key === null) return new ContextError('user key must be present');
    const custom = user.custom;
    const attrs: Attributes =
      custom !== null && typeof custom === 'object' && !Array.isArray(custom)
        ? { ...(custom as Attributes) }
        : {};
    attrs.kind = 'user';
    attrs.key = String(user.key);
    if (user.anonymous !== undefined && user.anonymous !== null) {
      delete attrs.anonymous;
      attrs.anonymous = Boolean(user.anonymous);
    }
    for (const name of LEGACY_BUILT_INS) {
      const value = user[name];
      if (value !== undefined && value !== null) attrs[name] = value;
    }
    delete attrs._meta;
    const names = user.privateAttributeNames;
    return new Context(
      ['user'],
      true,
      attrs,
      undefined,
      Array.isArray(names) ? names.filter(isString) : undefined,
    );
  }

  /** True when this context has more than one kind. */
  get multi(): boolean {
    return this.members !== undefined;
  }

  /** The attribute object of one kind, or undefined when the context has no such kind. */
  attributes(kind: string): Attributes | undefined {
    if (this.single !== undefined) return kind === this.singleKind ? this.single : undefined;
    const members = this.members!;
    return Object.hasOwn(members, kind) ? members[kind] : undefined;
  }

  /** The key of one kind, or undefined when the context has no such kind. */
  key(kind: string): string | undefined {
    return this.attributes(kind)?.key as string | undefined;
  }

  /**
   * Reads an attribute for evaluation: the `kind` reference yields every kind of the context, and
   * `anonymous` is false when absent (spec §2.4).
   */
  valueOf(kind: string, ref: AttributeReference): unknown {
    if (ref.isKind) return this.kinds;
    const attrs = this.attributes(kind);
    if (attrs === undefined) return undefined;
    if (ref.isAnonymous) return attrs.anonymous === true;
    return ref.get(attrs);
  }

  /** Per-kind key map as sent in `contextKeys` of events. */
  keys(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const kind of this.kinds) out[kind] = this.key(kind)!;
    return out;
  }

  /** The canonical key (spec §2.3): dedup key for events and input of the secure-mode hash. */
  get canonicalKey(): string {
    if (this.canonical !== undefined) return this.canonical;
    let out: string;
    if (this.single !== undefined) {
      const key = this.single.key as string;
      out = this.singleKind === 'user' ? key : `${this.singleKind}:${escapeKey(key)}`;
    } else {
      out = [...this.kinds]
        .sort()
        .map((kind) => `${kind}:${escapeKey(this.key(kind)!)}`)
        .join(':');
    }
    this.canonical = out;
    return out;
  }

  /**
   * The private attributes a context declares for one kind, as parsed references: slash-path
   * references from `_meta.privateAttributes`, literal names from a legacy `privateAttributeNames`.
   */
  privateAttributes(kind: string): AttributeReference[] {
    if (this.legacy) return (this.legacyPrivateNames ?? []).map((n) => AttributeReference.literal(n));
    const meta = this.attributes(kind)?._meta as { privateAttributes?: unknown } | undefined;
    if (meta === null || typeof meta !== 'object') return [];
    const refs = meta.privateAttributes;
    return Array.isArray(refs) ? refs.filter(isString).map((r) => AttributeReference.parse(r)) : [];
  }
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

// Kinds already found valid. Applications use a handful of kinds, so checking the pattern once per
// kind instead of once per call takes a regular expression off every evaluation; the bound keeps a
// caller that invents kinds from growing the set without limit.
const validKinds = new Set<string>(['user']);
const VALID_KINDS_LIMIT = 256;

function kindProblem(kind: string): string | undefined {
  if (validKinds.has(kind)) return undefined;
  const problem = checkKind(kind);
  if (problem === undefined && validKinds.size < VALID_KINDS_LIMIT) validKinds.add(kind);
  return problem;
}

function checkKind(kind: string): string | undefined {
  if (kind === 'kind') return 'context kind must not be "kind"';
  if (kind === 'multi') return 'a member of a multi-kind context must not be of kind "multi"';
  if (!KIND_PATTERN.test(kind))
    return `context kind "${kind}" may contain only letters, digits, ".", "_" and "-"`;
  return undefined;
}

function keyProblem(key: unknown, kind: string): string | undefined {
  if (typeof key !== 'string') return `context of kind "${kind}" must have a string key`;
  if (key === '') return `context of kind "${kind}" must have a non-empty key`;
  return undefined;
}

function escapeKey(key: string): string {
  if (key.indexOf('%') < 0 && key.indexOf(':') < 0) return key;
  return key.replace(/%/g, '%25').replace(/:/g, '%3A');
}
