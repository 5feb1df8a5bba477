import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, requireRole } from '../api/auth.js';
import type { ServerContext } from '../context.js';
import { auditScope, projectId, webhookId } from '../domain/ids.js';
import type { AuditEntry, Project, Webhook } from '../domain/types.js';
import type { StorageWriter } from '../storage/types.js';
import type { DeliveryRecord } from './dispatcher.js';

const MAX_NAME = 200;
const MAX_URL = 2048;
const MAX_SECRET = 256;
const EDITABLE = ['name', 'url', 'enabled', 'secret'] as const;

type Editable = Partial<Pick<Webhook, (typeof EDITABLE)[number]>>;

/** What the API shows: everything but the secret, which is shown once, when it is set. */
export type WebhookView = Omit<Webhook, 'secret'>;

class BodyError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const newWebhookId = () => `wh_${randomBytes(8).toString('hex')}`;
const newSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

const view = ({ secret: _secret, ...rest }: Webhook): WebhookView => rest;

function validUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_URL) {
    throw new BodyError('url', `must be a string of at most ${MAX_URL} characters`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BodyError('url', 'must be an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BodyError('url', 'must use http or https');
  }
  return value;
}

/** Checks the fields present in `body`; `required` for creation. */
function validFields(body: unknown, required: boolean): Editable {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BodyError('body', 'must be a JSON object');
  }
  const input = body as Record<string, unknown>;
  for (const field of Object.keys(input)) {
    if (!(EDITABLE as readonly string[]).includes(field)) {
      throw new BodyError(field, `is not a webhook field (expected ${EDITABLE.join(', ')})`);
    }
  }
  const out: Editable = {};
  if (input.name !== undefined || required) {
    if (typeof input.name !== 'string' || !input.name.trim() || input.name.length > MAX_NAME) {
      throw new BodyError('name', `must be a non-empty string of at most ${MAX_NAME} characters`);
    }
    out.name = input.name.trim();
  }
  if (input.url !== undefined || required) out.url = validUrl(input.url);
  if (input.enabled !== undefined) {
    if (typeof input.enabled !== 'boolean') throw new BodyError('enabled', 'must be a boolean');
    out.enabled = input.enabled;
  }
  if (input.secret !== undefined) {
    if (typeof input.secret !== 'string' || !input.secret || input.secret.length > MAX_SECRET) {
      throw new BodyError('secret', `must be a non-empty string of at most ${MAX_SECRET} characters`);
    }
    out.secret = input.secret;
  }
  return out;
}

/**
 * PATCH accepts the fields to change as an object, or LaunchDarkly-style JSON Patch operations
 * (`replace`/`add` of a top-level field), which is what LaunchDarkly's own webhook API takes.
 */
function patchFields(body: unknown): Editable {
  if (!Array.isArray(body)) return validFields(body, false);
  const merged: Record<string, unknown> = {};
  body.forEach((op: unknown, i) => {
    const { op: kind, path, value } = (op ?? {}) as { op?: unknown; path?: unknown; value?: unknown };
    if ((kind !== 'replace' && kind !== 'add') || typeof path !== 'string' || !/^\/[a-z]+$/.test(path)) {
      throw new BodyError(`body[${i}]`, 'must be {"op": "replace", "path": "/<field>", "value": ...}');
    }
    merged[path.slice(1)] = value;
  });
  return validFields(merged, false);
}

function parseLimit(value: string | undefined): number {
  if (value === undefined || value === '') return 50;
  const limit = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= 200)) throw new BodyError('limit', 'must be an integer from 1 to 200');
  return limit;
}

async function audit(
  tx: StorageWriter,
  request: FastifyRequest,
  project: string,
  id: string,
  entry: {
    action: string;
    before?: WebhookView;
    after?: WebhookView;
  },
) {
  const value: AuditEntry = {
    actor: actorOf(request),
    projectKey: project,
    resource: { kind: 'webhook', key: id },
    ...entry,
  };
  await tx.append('audit', auditScope(project, undefined, `webhook:${id}`), value);
}

/**
 * Webhook management (admin API): admins create, change and delete; readers list and see deliveries.
 * Deliveries themselves are made by WebhookDispatcher.
 */
export function webhookRoutes(ctx: ServerContext): FastifyPluginAsync {
  const send400 = (reply: FastifyReply, err: BodyError) =>
    reply.code(400).send({ code: 'invalid_request', message: err.message, field: err.field });
  const notFound = (reply: FastifyReply, what: string) =>
    reply.code(404).send({ code: 'not_found', message: `${what} does not exist` });

  return async (app) => {
    const reader = { preHandler: requireRole(ctx, 'reader') };
    const admin = { preHandler: requireRole(ctx, 'admin') };
    type Params = { p: string; id: string };

    // The admin API may use merge-patch for other resources; accept it here too if nobody else does.
    if (!app.hasContentTypeParser('application/merge-patch+json')) {
      app.addContentTypeParser(
        'application/merge-patch+json',
        { parseAs: 'string' },
        app.getDefaultJsonParser('error', 'error'),
      );
    }

    app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
      if (error instanceof BodyError) return send400(reply, error);
      const status = error.statusCode ?? 500;
      if (status >= 500) {
        request.log.error({ err: error }, 'webhooks: request failed');
        return reply.code(status).send({ code: 'internal', message: 'internal error' });
      }
      return reply.code(status).send({ code: 'bad_request', message: error.message });
    });

    const projectExists = async (key: string) =>
      (await ctx.storage.get<Project>('projects', projectId(key))) !== undefined;

    app.get('/projects/:p/webhooks', reader, async (request, reply) => {
      const { p } = request.params as Params;
      if (!(await projectExists(p))) return notFound(reply, `project "${p}"`);
      const docs = await ctx.storage.list<Webhook>('webhooks', { prefix: `${p}/` });
      const items = docs.map((d) => view(d.value)).sort((a, b) => a.createdAt - b.createdAt);
      return { items };
    });

    app.post('/projects/:p/webhooks', admin, async (request, reply) => {
      const { p } = request.params as Params;
      const fields = validFields(request.body, true);
      if (!(await projectExists(p))) return notFound(reply, `project "${p}"`);
      const hook: Webhook = {
        id: newWebhookId(),
        projectKey: p,
        name: fields.name!,
        url: fields.url!,
        secret: fields.secret ?? newSecret(),
        enabled: fields.enabled ?? true,
        createdAt: ctx.now(),
      };
      await ctx.storage.transaction(async (tx) => {
        await tx.put('webhooks', webhookId(p, hook.id), hook, { expectRev: 0 });
        await audit(tx, request, p, hook.id, { action: 'create', after: view(hook) });
      });
      // The only time the secret leaves the server: receivers need it to check signatures.
      return reply.code(201).send({ ...view(hook), secret: hook.secret });
    });

    app.get('/projects/:p/webhooks/:id', reader, async (request, reply) => {
      const { p, id } = request.params as Params;
      const doc = await ctx.storage.get<Webhook>('webhooks', webhookId(p, id));
      return doc ? view(doc.value) : notFound(reply, `webhook "${id}" of project "${p}"`);
    });

    app.patch('/projects/:p/webhooks/:id', admin, async (request, reply) => {
      const { p, id } = request.params as Params;
      const fields = patchFields(request.body);
      const updated = await ctx.storage.transaction(async (tx) => {
        const doc = await tx.get<Webhook>('webhooks', webhookId(p, id));
        if (!doc) return undefined;
        const next: Webhook = { ...doc.value, ...fields };
        await tx.put('webhooks', webhookId(p, id), next, { expectRev: doc.rev });
        await audit(tx, request, p, id, { action: 'update', before: view(doc.value), after: view(next) });
        return next;
      });
      return updated ? view(updated) : notFound(reply, `webhook "${id}" of project "${p}"`);
    });

    app.delete('/projects/:p/webhooks/:id', admin, async (request, reply) => {
      const { p, id } = request.params as Params;
      const deleted = await ctx.storage.transaction(async (tx) => {
        const doc = await tx.get<Webhook>('webhooks', webhookId(p, id));
        if (!doc) return false;
        await tx.delete('webhooks', webhookId(p, id), { expectRev: doc.rev });
        await audit(tx, request, p, id, { action: 'delete', before: view(doc.value) });
        return true;
      });
      return deleted ? reply.code(204).send() : notFound(reply, `webhook "${id}" of project "${p}"`);
    });

    app.get('/projects/:p/webhooks/:id/deliveries', reader, async (request, reply) => {
      const { p, id } = request.params as Params;
      const query = request.query as { limit?: string; before?: string };
      const limit = parseLimit(query.limit);
      let before: number | undefined;
      if (query.before !== undefined) {
        if (!/^\d+$/.test(query.before)) throw new BodyError('before', 'must be a delivery log id');
        before = Number(query.before);
      }
      const doc = await ctx.storage.get<Webhook>('webhooks', webhookId(p, id));
      if (!doc) return notFound(reply, `webhook "${id}" of project "${p}"`);
      // Ids have a fixed length, so this prefix matches this webhook's scope only.
      const entries = await ctx.storage.queryLog<DeliveryRecord>('webhook_deliveries', {
        scopePrefix: `${p}/${id}`,
        ...(before !== undefined ? { before } : {}),
        limit,
      });
      const items = entries.map((e) => ({ id: e.id, at: e.at, ...e.value }));
      const last = entries[entries.length - 1];
      return { items, ...(entries.length === limit && last ? { nextBefore: last.id } : {}) };
    });
  };
}
