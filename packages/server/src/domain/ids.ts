// Document ids. Path-like so that listing by prefix finds everything under a project or environment.
export const projectId = (project: string) => project;
export const environmentId = (project: string, env: string) => `${project}/${env}`;
export const flagId = (project: string, flag: string) => `${project}/${flag}`;
export const targetingId = (project: string, env: string, flag: string) => `${project}/${env}/${flag}`;
export const segmentId = (project: string, env: string, segment: string) => `${project}/${env}/${segment}`;
export const webhookId = (project: string, id: string) => `${project}/${id}`;

/** Audit scopes: `project/`, `project/env/`, then the resource, so prefixes select what a view needs. */
export const auditScope = (project: string | undefined, env: string | undefined, resource: string) =>
  `${project ?? '-'}/${env ?? '-'}/${resource}`;
