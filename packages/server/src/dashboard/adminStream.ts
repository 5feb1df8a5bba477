import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { requireRole, tokenFrom } from '../api/auth.js';
import type { ServerContext } from '../context.js';
import { projectId } from '../domain/ids.js';
import { KEY_PATTERN } from '../domain/schemas.js';
import { findToken } from '../domain/tokens.js';
import type { ChangeNotice } from '../storage/types.js';

export interface AdminStreamOptions {
  /**
   * Time between heartbeat comments. Shorter than the SDK streams' 3 minutes: browsers sit behind
   * proxies with idle timeouts of 30 to 60 s, and each heartbeat also re-checks the token.
   */
  heartbeatIntervalMs?: number;
}

const DEFAULT_HEARTBEAT_MS = 25_000;
// Notices are a few dozen bytes; a dashboard that stops reading this long is gone or stuck.
const MAX_BUFFERED_BYTES = 1024 * 1024;
const keyPattern = new RegExp(KEY_PATTERN);

interface Watcher {
  res: ServerResponse;
  secret: string;
}

/**
 * `GET /projects/:project/stream` (register under `/api/v1`): Server-Sent Events telling a dashboard
 * that something in the project changed, so it can re-read what it shows. Each `change` event is a
 * storage change notice `{kind, envKey?, key}`: small, no values, the same notices the SDK streams
 * follow, so changes made on any replica arrive. `resync` means notices may have been lost (a
 * PostgreSQL listener reconnected): re-read everything. The token is checked when the stream opens
 * and again at every heartbeat, so a revoked token stops receiving.
 */
export function adminStream(ctx: ServerContext, options: AdminStreamOptions = {}): FastifyPluginAsync {
  const heartbeatMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
  return async (app) => {
    const byProject = new Map<string, Set<Watcher>>();
    const drop = (projectKey: string, watcher: Watcher) => {
      const set = byProject.get(projectKey);
      set?.delete(watcher);
      if (set?.size === 0) byProject.delete(projectKey);
    };
    const send = (watcher: Watcher, frame: string) => {
      if (watcher.res.writableLength > MAX_BUFFERED_BYTES) watcher.res.destroy();
      else watcher.res.write(frame);
    };

    const unsubscribe = ctx.storage.subscribe((notice: ChangeNotice) => {
      const watchers = byProject.get(notice.projectKey);
      if (!watchers) return;
      const data: Omit<ChangeNotice, 'projectKey'> = { kind: notice.kind, key: notice.key };
      if (notice.envKey !== undefined) data.envKey = notice.envKey;
      const frame = `event: change\ndata: ${JSON.stringify(data)}\n\n`;
      for (const watcher of watchers) send(watcher, frame);
    });
    const stopResync = ctx.storage.onListenerRestored(() => {
      for (const watchers of byProject.values()) {
        for (const watcher of watchers) send(watcher, 'event: resync\ndata: {}\n\n');
      }
    });

    const heartbeat = setInterval(() => {
      for (const [projectKey, watchers] of byProject) {
        for (const watcher of watchers) {
          findToken(ctx.storage, watcher.secret).then(
            (token) => {
              if (token) send(watcher, ':\n\n');
              else {
                watcher.res.end();
                drop(projectKey, watcher);
              }
            },
            () => send(watcher, ':\n\n'),
          );
        }
      }
    }, heartbeatMs);
    heartbeat.unref();

    // Before the server stops accepting: open streams would otherwise hold `close()` forever.
    app.addHook('preClose', async () => {
      clearInterval(heartbeat);
      for (const watchers of byProject.values()) for (const watcher of watchers) watcher.res.end();
      byProject.clear();
    });
    app.addHook('onClose', async () => {
      unsubscribe();
      stopResync();
    });

    app.get<{ Params: { project: string } }>(
      '/projects/:project/stream',
      { onRequest: requireRole(ctx, 'reader'), exposeHeadRoute: false },
      async (request, reply) => {
        const projectKey = request.params.project;
        if (!keyPattern.test(projectKey)) {
          return reply.code(400).send({
            code: 'invalid_request',
            message:
              'params/project: must start with a letter or digit and contain only letters, digits, ".", "_" and "-"',
            errors: [{ path: 'params/project', message: 'params/project: not a valid key' }],
          });
        }
        if (!(await ctx.storage.get('projects', projectId(projectKey)))) {
          return reply
            .code(404)
            .send({ code: 'not_found', message: `project "${projectKey}" does not exist` });
        }
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-accel-buffering': 'no',
          connection: 'keep-alive',
        });
        const watcher: Watcher = { res, secret: tokenFrom(request) };
        if (res.destroyed) return;
        const set = byProject.get(projectKey) ?? new Set<Watcher>();
        byProject.set(projectKey, set);
        set.add(watcher);
        res.on('close', () => drop(projectKey, watcher));
        // `ready` tells the client the subscription is in place: changes after it will arrive.
        res.write('retry: 2000\nevent: ready\ndata: {}\n\n');
      },
    );
  };
}
