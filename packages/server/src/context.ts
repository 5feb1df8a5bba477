import type { Storage } from './storage/types.js';

/** A committed change, as the writing replica knows it: feeds webhooks and the local audit trail. */
export interface CommittedChange {
  projectKey: string;
  envKey?: string;
  kind: 'flag' | 'segment' | 'environment' | 'project';
  key: string;
  action: string;
  actor: { kind: 'token' | 'system'; id: string; name: string };
  /** The resource after the change (LaunchDarkly JSON for flags and segments, per environment). */
  current?: unknown;
  previous?: unknown;
  comment?: string;
}

/** What every part of the service shares. */
export interface ServerContext {
  storage: Storage;
  now: () => number;
  /** Called by the domain layer after each committed write (webhooks listen here). */
  onCommitted: (change: CommittedChange) => void;
}
