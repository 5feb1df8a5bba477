import type {
  Clause,
  JsonValue,
  Prerequisite,
  Rollout,
  SegmentRule,
  SegmentTarget,
  Target,
} from '@flagstaff/eval';

/* The admin API's answers, as the dashboard reads them (see the service's /api/openapi.json). */

export interface Page<T> {
  items: T[];
  next?: string | number;
}

export interface RetiredKey {
  key: string;
  expiresAt: number;
}

export interface Environment {
  projectKey: string;
  key: string;
  name: string;
  color?: string;
  critical: boolean;
  sdkKey: string;
  mobileKey: string;
  clientSideId: string;
  retiredKeys: { sdkKey?: RetiredKey; mobileKey?: RetiredKey };
  archived: boolean;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface Project {
  key: string;
  name: string;
  description?: string;
  tags: string[];
  archived: boolean;
  version: number;
  environments?: Environment[];
}

export interface Variation {
  value: JsonValue;
  name?: string;
  description?: string;
}

export interface ServeDoc {
  variation?: number | null;
  rollout?: Rollout | null;
}

export interface RuleDoc extends ServeDoc {
  id?: string;
  description?: string;
  clauses: Clause[];
  trackEvents?: boolean;
}

/** A flag's targeting in one environment: the document JSON Patch edits, plus its version. */
export interface TargetingDoc {
  version: number;
  on: boolean;
  prerequisites: Prerequisite[];
  targets: Target[];
  contextTargets: Target[];
  rules: RuleDoc[];
  fallthrough: ServeDoc;
  offVariation: number | null;
  salt: string;
  trackEvents: boolean;
  trackEventsFallthrough: boolean;
  debugEventsUntilDate: number | null;
}

interface FlagBase {
  projectKey: string;
  key: string;
  kind: 'boolean' | 'multivariate';
  name: string;
  description: string;
  tags: string[];
  temporary: boolean;
  variations: Variation[];
  clientSideAvailability: { usingMobileKey: boolean; usingEnvironmentId: boolean };
  archived: boolean;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface FlagSummary extends FlagBase {
  environments: Record<string, { on: boolean; version: number }>;
}

export interface Flag extends FlagBase {
  environments: Record<string, TargetingDoc>;
}

export interface SegmentDoc {
  name: string;
  description: string;
  tags: string[];
  included: string[];
  excluded: string[];
  includedContexts: SegmentTarget[];
  excludedContexts: SegmentTarget[];
  rules: SegmentRule[];
}

export interface Segment extends SegmentDoc {
  projectKey: string;
  envKey: string;
  key: string;
  version: number;
  salt: string;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: { kind: 'token' | 'system'; id: string; name: string };
  projectKey?: string;
  envKey?: string;
  resource: { kind: string; key: string };
  action: string;
  comment?: string;
  before?: unknown;
  after?: unknown;
}

export interface FlagInsights {
  flagKey: string;
  from: number;
  to: number;
  granularity: 'hour' | 'day';
  variations?: { index: number; value: JsonValue; name?: string }[];
  series: { time: number; counts: Record<string, number> }[];
  totals: Record<string, number>;
  total: number;
}

export interface BusiestFlags {
  from: number;
  to: number;
  flags: { key: string; totals: Record<string, number>; total: number }[];
}

export type Role = 'reader' | 'writer' | 'admin';

/** An API token as the service lists it: never its secret, only the first characters (`hint`). */
export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  hint: string;
  createdAt: number;
  lastUsedAt?: number;
  revoked: boolean;
}

/** The token the dashboard is signed in with (`GET /caller-identity`). */
export interface CallerIdentity {
  tokenId: string;
  tokenName: string;
  role: Role;
}

/** A live flag that needs another as a prerequisite in one environment. */
export interface FlagDependent {
  flagKey: string;
  envKey: string;
  variation: number;
}

/** A live flag or segment whose rules use a segment. */
export interface SegmentDependent {
  kind: 'flag' | 'segment';
  key: string;
}

/** A change notice from the project's stream. */
export interface ChangeNotice {
  kind: 'flag' | 'segment' | 'environment' | 'project';
  key: string;
  envKey?: string;
}

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'test';
  path: string;
  value?: unknown;
}
