// What each role is offered, mirroring the roles the service requires on its routes.
import { describe, expect, it } from 'vitest';
import type { Role } from '../src/api/types.js';
import { adminOnlyReason, permissionsOf } from '../src/lib/permissions.js';

const identity = (role: Role) => ({ tokenId: 't', tokenName: 'someone', role });

describe('permissions', () => {
  it('follows the roles: readers read, writers change flags and segments, admins also tokens and keys', () => {
    expect(permissionsOf(identity('reader'))).toEqual({
      write: false,
      admin: false,
      readOnlyReason: 'Read-only: your token’s role is reader',
    });
    expect(permissionsOf(identity('writer'))).toEqual({ write: true, admin: false });
    expect(permissionsOf(identity('admin'))).toEqual({ write: true, admin: true });
  });

  it('offers everything when the role is unknown, leaving the service to refuse', () => {
    expect(permissionsOf(undefined)).toEqual({ write: true, admin: true });
  });

  it('treats a role it does not know as read-only', () => {
    expect(permissionsOf(identity('auditor' as Role)).write).toBe(false);
  });

  it('says who may rotate keys', () => {
    expect(adminOnlyReason(identity('writer'), 'Rotating keys')).toBe(
      'Rotating keys needs an admin token; you are signed in with a writer token.',
    );
    expect(adminOnlyReason(undefined, 'Rotating keys')).toBe('Rotating keys needs an admin token.');
  });
});
