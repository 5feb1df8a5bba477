import type { CallerIdentity, Role } from '../api/types.js';

/*
 * What the signed-in token may change, mirroring the roles the service checks on each route
 * (packages/server/src/api/*.ts): reading needs a reader token; flags, targeting and segments need a
 * writer; API tokens and key rotation need an admin. The UI only hides or disables what would be
 * refused: the service stays the authority and a 403 is still handled where it can arrive.
 */

const RANK: Record<Role, number> = { reader: 0, writer: 1, admin: 2 };

export interface Permissions {
  /** Create, edit, toggle, archive and restore flags and segments (writer and admin tokens). */
  write: boolean;
  /** Manage API tokens and rotate SDK and mobile keys (admin tokens only). */
  admin: boolean;
  /**
   * Why changes are not offered, in a sentence for the read-only notice and the disabled controls'
   * titles; undefined when the token may write.
   */
  readOnlyReason?: string;
}

/**
 * The permissions of a token. An unknown identity (the service could not say) is given everything,
 * as before roles were known: the service refuses what the token may not do, and the UI reports it.
 */
export function permissionsOf(identity: CallerIdentity | undefined): Permissions {
  if (!identity) return { write: true, admin: true };
  const rank = RANK[identity.role] ?? RANK.reader;
  const write = rank >= RANK.writer;
  return {
    write,
    admin: rank >= RANK.admin,
    ...(write ? {} : { readOnlyReason: `Read-only: your token’s role is ${identity.role}` }),
  };
}

/** The sentence shown where an admin-only action would be: says who may, and what this token is. */
export function adminOnlyReason(identity: CallerIdentity | undefined, action: string): string {
  return identity
    ? `${action} needs an admin token; you are signed in with a ${identity.role} token.`
    : `${action} needs an admin token.`;
}
