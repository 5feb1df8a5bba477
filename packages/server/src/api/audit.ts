import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../context.js';
import { queryAudit } from '../domain/audit.js';
import { Key } from '../domain/schemas.js';
import { type Api, access, Limit, responses } from './common.js';
import { AuditEntrySchema } from './schemas.js';

export function auditRoutes(api: Api, ctx: ServerContext): void {
  api.get(
    '/audit',
    {
      ...access(ctx).reader,
      schema: {
        tags: ['audit'],
        summary: 'Query the audit log, newest first',
        querystring: Type.Object(
          {
            project: Type.Optional(Key('Project key')),
            env: Type.Optional(Key('Environment key (needs project)')),
            resource: Type.Optional(
              Type.String({
                pattern: '^[a-z]+(:.+)?$',
                description: 'A kind (`flag`) or kind and key (`flag:new-checkout`)',
                'x-pattern-message':
                  'expected a kind such as "flag", or a kind and key such as "flag:my-flag"',
              }),
            ),
            since: Type.Optional(Type.Integer({ minimum: 0, description: 'Epoch ms, inclusive' })),
            until: Type.Optional(Type.Integer({ minimum: 0, description: 'Epoch ms, exclusive' })),
            before: Type.Optional(
              Type.Integer({ minimum: 1, description: 'Entry id to continue before (`next`)' }),
            ),
            limit: Type.Optional(Limit(500, 50)),
          },
          { additionalProperties: false },
        ),
        response: responses(
          {
            200: Type.Object({
              items: Type.Array(AuditEntrySchema),
              next: Type.Optional(Type.Integer({ description: 'Pass as `before` for older entries' })),
            }),
          },
          [400],
        ),
      },
    },
    async (request) => queryAudit(ctx.storage, { ...request.query, limit: request.query.limit ?? 50 }),
  );
}
