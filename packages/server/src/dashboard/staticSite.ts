import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { locateDashboard } from './locate.js';

export interface DashboardOptions {
  /** The built dashboard (a directory with `index.html`); default: `@flagstaff/dashboard`'s `dist`. */
  dir?: string;
}

/**
 * Paths the SPA fallback never answers: the admin API, and every first segment the SDK, streaming and
 * event routes use. A mistyped SDK URL must stay a 404 an SDK can log, not a page of HTML.
 */
const RESERVED = new Set([
  'api',
  'all',
  'flags',
  'sdk',
  'msdk',
  'eval',
  'meval',
  'mping',
  'ping',
  'bulk',
  'diagnostic',
  'mobile',
  'events',
  'health',
  'assets',
]);

// The app loads only its own files and talks only to this origin; uPlot sizes its canvas through
// inline style attributes, hence 'unsafe-inline' for styles (never for scripts).
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Whether a request that matched no route is a page load the single-page app should answer. */
export function isPageRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const accept = request.headers.accept ?? '';
  if (!accept.includes('text/html')) return false;
  const first = (request.url.split('?')[0] ?? '').split('/')[1] ?? '';
  return !RESERVED.has(first);
}

/**
 * Serves the dashboard at `/`: hashed assets with long caching, other top-level files as they are,
 * and `index.html` for `/` and for any unknown page path (history routing). Called on the root
 * instance, because the fallback is the root's 404 handler; `/api` keeps its own JSON 404.
 *
 * Returns the directory served, or undefined when there is none (the service then runs without UI).
 */
export async function serveDashboard(
  app: FastifyInstance,
  options: DashboardOptions = {},
): Promise<string | undefined> {
  const dir = options.dir !== undefined ? resolve(options.dir) : locateDashboard();
  if (dir === undefined) return undefined;
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) {
    if (options.dir !== undefined) {
      throw new Error(
        `dashboard: ${indexFile} does not exist (build it with \`npm run build -w @flagstaff/dashboard\`)`,
      );
    }
    return undefined;
  }

  // index.html is read on every request (it is small): a rebuild is served without a restart.
  const sendIndex = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(await readFile(indexFile));

  if (existsSync(join(dir, 'assets'))) {
    await app.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      // Vite puts a content hash in every asset name, so a name never changes meaning.
      immutable: true,
      maxAge: '365d',
    });
  }
  for (const name of readdirSync(dir)) {
    if (name === 'index.html' || name === 'assets' || !statSync(join(dir, name)).isFile()) continue;
    const file = join(dir, name);
    app.get(`/${name}`, async (_request, reply) =>
      reply
        .header('cache-control', 'no-cache')
        .type(contentType(name))
        .send(await readFile(file)),
    );
  }
  app.get('/', sendIndex);
  app.setNotFoundHandler(async (request, reply) => {
    if (isPageRequest(request)) return sendIndex(request, reply);
    // Fastify's own 404 answer, which SDK and API clients saw before the dashboard was added.
    return reply.code(404).send({
      message: `Route ${request.method}:${request.url} not found`,
      error: 'Not Found',
      statusCode: 404,
    });
  });
  return dir;
}

function contentType(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const types: Record<string, string> = {
    svg: 'image/svg+xml',
    ico: 'image/x-icon',
    png: 'image/png',
    txt: 'text/plain; charset=utf-8',
    json: 'application/json',
    webmanifest: 'application/manifest+json',
    js: 'text/javascript; charset=utf-8',
    css: 'text/css; charset=utf-8',
  };
  return types[ext] ?? 'application/octet-stream';
}
