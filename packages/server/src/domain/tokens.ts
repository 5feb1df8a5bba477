import { createHash, randomBytes } from 'node:crypto';
import type { StorageReader, StorageWriter } from '../storage/types.js';
import type { ApiToken, Role } from './types.js';

const ROLE_RANK: Record<Role, number> = { reader: 0, writer: 1, admin: 2 };

/** Whether a token of role `have` may do what needs role `need`. */
export function roleAllows(have: Role, need: Role): boolean {
  return ROLE_RANK[have] >= ROLE_RANK[need];
}

/** Tokens are stored by the SHA-256 of the secret, so a database leak reveals no usable token. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Creates a token; the secret is returned once and never stored. */
export async function createToken(
  tx: StorageWriter,
  name: string,
  role: Role,
  now = Date.now(),
): Promise<{ secret: string; token: ApiToken }> {
  const secret = `api-${randomBytes(24).toString('base64url')}`;
  const hash = hashToken(secret);
  const token: ApiToken = {
    id: hash.slice(0, 16),
    name,
    role,
    hint: secret.slice(0, 8),
    createdAt: now,
    revoked: false,
  };
  await tx.put('tokens', hash, token, { expectRev: 0 });
  return { secret, token };
}

/** The token a secret belongs to, unless unknown or revoked. */
export async function findToken(storage: StorageReader, secret: string): Promise<ApiToken | undefined> {
  if (!secret) return undefined;
  const doc = await storage.get<ApiToken>('tokens', hashToken(secret));
  return doc && !doc.value.revoked ? doc.value : undefined;
}
