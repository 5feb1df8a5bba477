import type { Doc } from '../storage/types.js';
import type { TargetingDoc } from './schemas.js';
import { isBooleanFlag, toTargetingDoc } from './targetingDoc.js';
import type { Environment, FlagDefinition, Project, SegmentDoc, Targeting } from './types.js';

/*
 * What the admin API answers with. Versions: a flag's targeting and a segment carry the version SDKs
 * see; projects, environments and flag definitions use their document revision, which also grows by
 * one on every change. Any of them can be sent back as `version` / `If-Match` with an update.
 */

export interface ProjectView extends Project {
  version: number;
  environments?: EnvironmentView[];
}

export interface EnvironmentView extends Omit<Environment, 'retiredKeys'> {
  version: number;
  retiredKeys: Environment['retiredKeys'];
}

export type TargetingView = TargetingDoc & { version: number };

export interface FlagView extends Omit<FlagDefinition, 'projectKey'> {
  projectKey: string;
  kind: 'boolean' | 'multivariate';
  version: number;
  environments: Record<string, TargetingView>;
}

export type SegmentView = SegmentDoc;

export function projectView(doc: Doc<Project>, environments?: Doc<Environment>[], now?: number): ProjectView {
  const view: ProjectView = { ...doc.value, version: doc.rev };
  if (environments) view.environments = environments.map((e) => environmentView(e, now));
  return view;
}

/** Keys whose grace period is over are left out: they no longer work. */
export function environmentView(doc: Doc<Environment>, now = Date.now()): EnvironmentView {
  const retiredKeys: Environment['retiredKeys'] = {};
  for (const kind of ['sdkKey', 'mobileKey'] as const) {
    const retired = doc.value.retiredKeys[kind];
    if (retired && retired.expiresAt > now) retiredKeys[kind] = retired;
  }
  return { ...doc.value, retiredKeys, version: doc.rev };
}

export function targetingView(t: Targeting): TargetingView {
  return { version: t.version, ...toTargetingDoc(t) };
}

export function flagView(doc: Doc<FlagDefinition>, targeting: Record<string, Targeting>): FlagView {
  const environments: Record<string, TargetingView> = {};
  for (const [env, t] of Object.entries(targeting)) environments[env] = targetingView(t);
  return {
    ...doc.value,
    kind: isBooleanFlag(doc.value) ? 'boolean' : 'multivariate',
    version: doc.rev,
    environments,
  };
}

/** Keys are secrets; the audit log keeps enough of them to tell which one, not to use it. */
export function maskKey(key: string): string {
  return key.length <= 12 ? '…' : `${key.slice(0, 4)}…${key.slice(-4)}`;
}

export function maskedEnvironment(env: Environment): Environment {
  const retiredKeys: Environment['retiredKeys'] = {};
  for (const kind of ['sdkKey', 'mobileKey'] as const) {
    const retired = env.retiredKeys[kind];
    if (retired) retiredKeys[kind] = { ...retired, key: maskKey(retired.key) };
  }
  return { ...env, sdkKey: maskKey(env.sdkKey), mobileKey: maskKey(env.mobileKey), retiredKeys };
}
