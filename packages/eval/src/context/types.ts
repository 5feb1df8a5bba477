import type { JsonValue } from '../model/json.js';

/** `_meta` of a context: which attributes must never leave the SDK in events. */
export interface ContextMeta {
  privateAttributes?: string[];
}

/** A context of one kind, as callers pass it to the SDK (spec §2.1). */
export interface SingleKindContext {
  kind: string;
  key: string;
  name?: string;
  anonymous?: boolean;
  _meta?: ContextMeta;
  [attribute: string]: unknown;
}

/** A member of a multi-kind context: its kind is the property name it sits under. */
export interface ContextMember {
  key: string;
  name?: string;
  anonymous?: boolean;
  _meta?: ContextMeta;
  [attribute: string]: unknown;
}

export interface MultiKindContext {
  kind: 'multi';
  [kind: string]: ContextMember | 'multi';
}

/** The pre-context user object of SDKs before v6, still accepted everywhere. */
export interface LegacyUser {
  key: string;
  name?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  avatar?: string | null;
  ip?: string | null;
  country?: string | null;
  anonymous?: boolean | null;
  custom?: Record<string, JsonValue> | null;
  privateAttributeNames?: string[] | null;
}

/** Anything an SDK caller may pass where a context is expected. */
export type ContextInput = SingleKindContext | MultiKindContext | LegacyUser;
