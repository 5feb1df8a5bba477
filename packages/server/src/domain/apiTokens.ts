import type { ServerContext } from '../context.js';
import { notFound, quote } from './errors.js';
import { createToken } from './tokens.js';
import type { ApiToken, Role } from './types.js';
import { audit, type ChangeRequest, write } from './write.js';

/*
 * Managing API tokens. The secret exists only in the answer to the creation request: the store keeps
 * its SHA-256 (tokens.ts), so a lost secret is replaced, never recovered.
 */

export type TokenView = ApiToken;

export async function issueToken(
  ctx: ServerContext,
  request: ChangeRequest,
  input: { name: string; role: Role },
): Promise<TokenView & { secret: string }> {
  return write(ctx, request, async (tx) => {
    const { secret, token } = await createToken(tx, input.name, input.role, ctx.now());
    await audit(tx, request, { resource: { kind: 'token', key: token.id }, action: 'create', after: token });
    return { ...token, secret };
  });
}

export async function listTokens(ctx: ServerContext): Promise<TokenView[]> {
  const docs = await ctx.storage.list<ApiToken>('tokens');
  return docs.map((d) => d.value).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

/** Revoked tokens stay listed (marked revoked), so the audit trail can still name them. */
export async function revokeToken(
  ctx: ServerContext,
  request: ChangeRequest,
  id: string,
): Promise<TokenView> {
  return write(ctx, request, async (tx) => {
    const doc = (await tx.list<ApiToken>('tokens')).find((d) => d.value.id === id);
    if (!doc) throw notFound(`token ${quote(id)} does not exist`);
    if (doc.value.revoked) return doc.value;
    const after: ApiToken = { ...doc.value, revoked: true };
    await tx.put('tokens', doc.id, after, { expectRev: doc.rev });
    await audit(tx, request, {
      resource: { kind: 'token', key: id },
      action: 'revoke',
      before: doc.value,
      after,
    });
    return after;
  });
}
