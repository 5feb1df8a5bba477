import type {
  Clause,
  ClientSideAvailability,
  FlagRule,
  JsonValue,
  Prerequisite,
  SegmentRule,
  SegmentTarget,
  Target,
  VariationOrRollout,
} from '@flagstaff/eval';

/*
 * What the flag service stores. A flag is split the way people manage it: its definition (name,
 * variations, tags...) belongs to the project, its targeting to each environment. The SDK payload is
 * composed from both (compose.ts), in LaunchDarkly's JSON shape, and only that shape leaves for SDKs.
 */

export interface Project {
  key: string;
  name: string;
  description?: string;
  tags: string[];
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

export type CredentialKind = 'sdkKey' | 'mobileKey' | 'clientSideId';

/** A key replaced by rotation that still works until `expiresAt` (epoch ms). */
export interface RetiredKey {
  key: string;
  expiresAt: number;
}

export interface Environment {
  projectKey: string;
  key: string;
  name: string;
  color?: string;
  /** Production-like environments ask for confirmation and comments in the dashboard. */
  critical: boolean;
  sdkKey: string;
  mobileKey: string;
  clientSideId: string;
  retiredKeys: { sdkKey?: RetiredKey; mobileKey?: RetiredKey };
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

/** What a credential document points at (collection `credentials`, id = the key itself). */
export interface CredentialRef {
  projectKey: string;
  envKey: string;
  kind: CredentialKind;
  /** Set for a rotated-out key in its grace period. */
  expiresAt?: number;
}

export interface Variation {
  value: JsonValue;
  name?: string;
  description?: string;
}

export interface FlagDefinition {
  projectKey: string;
  key: string;
  name: string;
  description: string;
  tags: string[];
  temporary: boolean;
  variations: Variation[];
  clientSideAvailability: ClientSideAvailability;
  /** The fallthrough and off variation a new environment starts with (set at creation). */
  defaults?: { onVariation: number; offVariation: number };
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

/**
 * A flag's targeting in one environment. `version` is the flag's version in that environment: it
 * grows by one on every change to the targeting or to the flag's definition.
 */
export interface Targeting {
  version: number;
  on: boolean;
  prerequisites: Prerequisite[];
  targets: Target[];
  contextTargets: Target[];
  rules: FlagRule[];
  fallthrough: VariationOrRollout;
  offVariation?: number;
  salt: string;
  trackEvents: boolean;
  trackEventsFallthrough: boolean;
  debugEventsUntilDate?: number;
}

export interface SegmentDoc {
  projectKey: string;
  envKey: string;
  key: string;
  name: string;
  description: string;
  tags: string[];
  version: number;
  included: string[];
  excluded: string[];
  includedContexts: SegmentTarget[];
  excludedContexts: SegmentTarget[];
  rules: SegmentRule[];
  salt: string;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

export type Role = 'reader' | 'writer' | 'admin';

/** An API token; only the SHA-256 of the secret is stored (collection `tokens`, id = that hash). */
export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  /** The first characters of the secret, to recognise it in lists. */
  hint: string;
  createdAt: number;
  lastUsedAt?: number;
  revoked: boolean;
}

export interface Actor {
  kind: 'token' | 'system';
  id: string;
  name: string;
}

export type ResourceKind = 'project' | 'environment' | 'flag' | 'segment' | 'token' | 'webhook';

export interface AuditEntry {
  actor: Actor;
  projectKey?: string;
  envKey?: string;
  resource: { kind: ResourceKind; key: string };
  action: string;
  comment?: string;
  before?: unknown;
  after?: unknown;
}

export interface Webhook {
  id: string;
  projectKey: string;
  name: string;
  url: string;
  /** Signing secret for X-Flagstaff-Signature (HMAC-SHA256 of the body). */
  secret: string;
  enabled: boolean;
  createdAt: number;
}

export type { Clause };
