import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import type { FieldError } from './errors.js';

/*
 * Checks values against TypeBox schemas and explains failures field by field. TypeBox reports a
 * failed union as one error plus every branch's complaints, which for a list of instructions reads as
 * noise; here a union is explained by the branch the value was evidently meant to be (its `kind`, its
 * JSON type, or the properties it has), so each message names the field the caller got wrong.
 */

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function compile(schema: TSchema): TypeCheck<TSchema> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check;
}

const MAX_ERRORS = 100;

/** Every problem of `value` against `schema`, with paths below `base`; empty when the value fits. */
export function checkSchema(schema: TSchema, value: unknown, base = ''): FieldError[] {
  const check = compile(schema);
  if (check.Check(value)) return [];
  const out: FieldError[] = [];
  for (const error of check.Errors(value)) {
    explain(error, base, out);
    if (out.length >= MAX_ERRORS) break;
  }
  return tidy(out);
}

/** Whether `value` fits `schema` (no explanation). */
export function fitsSchema(schema: TSchema, value: unknown): boolean {
  return compile(schema).Check(value);
}

function explain(error: ValueError, base: string, out: FieldError[]): void {
  const path = base + error.path;
  if (error.type === ValueErrorType.Union) {
    explainUnion(error.schema, error.value, path, out);
    return;
  }
  out.push({ path, message: describeError(error) });
}

// Schemas are JSON Schema objects; these read the keywords an explanation needs.
type SchemaNode = Record<string, unknown>;
const node = (schema: unknown): SchemaNode => (schema ?? {}) as SchemaNode;

function explainUnion(schema: TSchema, value: unknown, path: string, out: FieldError[]): void {
  const branches = ((node(schema).anyOf as TSchema[] | undefined) ?? []).filter(Boolean);
  const literals = branches.map((b) => node(b).const);
  if (branches.length > 0 && literals.every((v) => v !== undefined)) {
    out.push({ path, message: `must be one of ${literals.map((v) => JSON.stringify(v)).join(', ')}` });
    return;
  }

  const tag = discriminator(branches);
  if (tag !== undefined && isPlainObject(value)) {
    const wanted = value[tag];
    const branch = branches.find((b) => propertyConst(b, tag) === wanted);
    if (branch) {
      out.push(...checkSchema(branch, value, path));
    } else {
      const allowed = branches.map((b) => JSON.stringify(propertyConst(b, tag))).join(', ');
      out.push({
        path: `${path}/${tag}`,
        message: wanted === undefined ? `is required: one of ${allowed}` : `must be one of ${allowed}`,
      });
    }
    return;
  }

  const candidates = branches.filter((b) => typeFits(b, value));
  if (candidates.length === 0) {
    const expected = [...new Set(branches.flatMap(typeNames))];
    out.push({ path, message: `expected ${expected.join(' or ')}, got ${describeValue(value)}` });
    return;
  }
  if (candidates.length === 1) {
    out.push(...checkSchema(candidates[0]!, value, path));
    return;
  }
  // Several object shapes: the one whose distinguishing properties the value has is the one meant.
  if (isPlainObject(value)) {
    const distinct = candidates.map((b) => distinguishing(b, candidates));
    const meant = candidates.filter((_, i) => distinct[i]!.some((p) => p in value));
    if (meant.length === 1) {
      out.push(...checkSchema(meant[0]!, value, path));
      return;
    }
    const options = distinct.filter((d) => d.length > 0).map((d) => d.map((p) => `"${p}"`).join(' and '));
    if (meant.length === 0 && options.length === candidates.length) {
      out.push({ path, message: `must have one of the properties ${options.join(', ')}` });
      return;
    }
  }
  // Otherwise report the branch that comes closest.
  let best: FieldError[] | undefined;
  for (const b of candidates) {
    const errors = checkSchema(b, value, path);
    if (!best || errors.length < best.length) best = errors;
  }
  out.push(...(best ?? []));
}

/** The property every branch is an object with a constant for (e.g. an instruction's `kind`). */
function discriminator(branches: TSchema[]): string | undefined {
  const first = node(node(branches[0]).properties);
  return Object.keys(first).find((name) =>
    branches.every((b) => node(b).type === 'object' && propertyConst(b, name) !== undefined),
  );
}

function propertyConst(schema: TSchema, name: string): unknown {
  return node(node(node(schema).properties)[name]).const;
}

/** Required properties of `schema` that not every other candidate requires. */
function distinguishing(schema: TSchema, all: TSchema[]): string[] {
  const required = (s: TSchema) => (node(s).required as string[] | undefined) ?? [];
  return required(schema).filter((p) => !all.every((other) => required(other).includes(p)));
}

function typeFits(schema: TSchema, value: unknown): boolean {
  const s = node(schema);
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).some((b) => typeFits(b, value));
  switch (s.type) {
    case undefined:
      return true;
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      return false;
  }
}

function typeNames(schema: TSchema): string[] {
  const s = node(schema);
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).flatMap(typeNames);
  return typeof s.type === 'string' ? [article(s.type)] : ['a JSON value'];
}

function article(type: string): string {
  switch (type) {
    case 'object':
    case 'array':
    case 'integer':
      return `an ${type}`;
    case 'null':
      return 'null';
    default:
      return `a ${type}`;
  }
}

function describeError(error: ValueError): string {
  const s = node(error.schema);
  const got = describeValue(error.value);
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'is not a known property';
    case ValueErrorType.String:
    case ValueErrorType.Integer:
    case ValueErrorType.Number:
    case ValueErrorType.Boolean:
    case ValueErrorType.Array:
    case ValueErrorType.Object:
    case ValueErrorType.Null:
      return `expected ${typeNames(error.schema).join(' or ')}, got ${got}`;
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(s.const)}`;
    case ValueErrorType.StringMinLength:
      return s.minLength === 1 ? 'must not be empty' : `must have at least ${s.minLength} characters`;
    case ValueErrorType.StringMaxLength:
      return `must have at most ${s.maxLength} characters`;
    case ValueErrorType.StringPattern:
      return typeof s['x-pattern-message'] === 'string'
        ? s['x-pattern-message']
        : `must match the pattern ${s.pattern}, got ${got}`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be at least ${s.minimum}, got ${got}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be at most ${s.maximum}, got ${got}`;
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${s.maxItems} items`;
    case ValueErrorType.ArrayUniqueItems:
      return 'must not contain duplicates';
    default:
      return error.message.charAt(0).toLowerCase() + error.message.slice(1);
  }
}

/**
 * One problem per field, the first found: a missing property also fails its type check, and an empty
 * key also misses the key pattern; the first complaint says what to fix.
 */
function tidy(errors: FieldError[]): FieldError[] {
  const required = new Set(errors.filter((e) => e.message === 'is required').map((e) => e.path));
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (required.has(e.path) && e.message !== 'is required') return false;
    if (seen.has(e.path)) return false;
    seen.add(e.path);
    return true;
  });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a received value for a message (`the string "x"`, `an object`) without dumping it. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `the boolean ${value}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}
