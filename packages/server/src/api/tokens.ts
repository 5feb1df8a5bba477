import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../context.js';
import { issueToken, listTokens, revokeToken } from '../domain/apiTokens.js';
import { Comment, Name } from '../domain/schemas.js';
import { type Api, access, changeRequest, responses } from './common.js';
import { Role, TokenSchema } from './schemas.js';

const tags = ['tokens'];

/** API tokens are an admin matter throughout: a token list tells who can change what. */
export function tokenRoutes(api: Api, ctx: ServerContext): void {
  const { admin, reader } = access(ctx);

  // LaunchDarkly's name for "who am I": lets a client (the dashboard) show only what the token may do.
  api.get(
    '/caller-identity',
    {
      ...reader,
      schema: {
        tags,
        summary: 'The API token making the request: its id, name and role (never its secret)',
        response: responses(
          { 200: Type.Object({ tokenId: Type.String(), tokenName: Type.String(), role: Role }) },
          [],
        ),
      },
    },
    async (request) => {
      // requireRole has run, so the token is known.
      const token = request.apiToken!;
      return { tokenId: token.id, tokenName: token.name, role: token.role };
    },
  );

  api.post(
    '/tokens',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Create an API token',
        description: 'The answer is the only place the secret ever appears: only its hash is stored.',
        body: Type.Object(
          { name: Name('What the token is for'), role: Role, comment: Type.Optional(Comment) },
          { additionalProperties: false },
        ),
        response: responses(
          {
            201: Type.Object({
              ...TokenSchema.properties,
              secret: Type.String({ description: 'Send as `Authorization: Bearer <secret>`; shown once' }),
            }),
          },
          [400],
        ),
      },
    },
    async (request, reply) => {
      const { name, role } = request.body;
      // The secret must not be cached anywhere on the way back.
      reply.header('cache-control', 'no-store');
      return reply
        .code(201)
        .send(await issueToken(ctx, changeRequest(request, request.body), { name, role }));
    },
  );

  api.get(
    '/tokens',
    {
      ...admin,
      schema: {
        tags,
        summary: 'List API tokens (never their secrets)',
        response: responses({ 200: Type.Object({ items: Type.Array(TokenSchema) }) }, []),
      },
    },
    async () => ({ items: await listTokens(ctx) }),
  );

  api.delete(
    '/tokens/:id',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Revoke an API token',
        params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$', description: 'Token id' }) }),
        response: responses({ 200: TokenSchema }, [400, 404]),
      },
    },
    async (request) => revokeToken(ctx, changeRequest(request), request.params.id),
  );
}
