// What the browser tests share: a dashboard built by Vite into a temporary directory, a real flag
// service (SQLite in a temporary directory) serving it on a real port, an admin token, and Debian's
// Chromium driven by playwright-core. Nothing is mocked: the page talks to the service over HTTP.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildFlagService,
  createToken,
  type FlagService,
  openStorage,
  type Storage,
} from '@flagstaff/server';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';

export const DASHBOARD_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS_DIR = join(DASHBOARD_DIR, '..', '..', 'test-artifacts', 'dashboard');
export const CHROMIUM = process.env.FLAGSTAFF_CHROMIUM ?? '/usr/bin/chromium';

/** Builds the dashboard with its own Vite config into `outDir`; resolves with the time it took. */
export async function buildDashboard(outDir: string): Promise<number> {
  const started = performance.now();
  await build({
    root: DASHBOARD_DIR,
    configFile: join(DASHBOARD_DIR, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  return performance.now() - started;
}

export interface Service {
  url: string;
  service: FlagService;
  storage: Storage;
  adminToken: string;
  /** Calls the admin API with the admin token; throws on an error answer. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function startService(dashboardDir: string): Promise<Service> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flagstaff-dashboard-'));
  const storage = await openStorage({ dataDir });
  const service = await buildFlagService({ storage, dashboard: { dir: dashboardDir } });
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  const address = service.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const adminToken = await storage.transaction(
    async (tx) => (await createToken(tx, 'browser tests', 'admin')).secret,
  );
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    url,
    service,
    storage,
    adminToken,
    api,
    close: async () => {
      await service.close();
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A fresh context (own storage, own clipboard permission) and page at the given width. */
export async function newPage(
  browser: Browser,
  width = 1280,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width, height: width > 600 ? 860 : 844 },
    permissions: ['clipboard-read', 'clipboard-write'],
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  return { context, page };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Saves a screenshot under test-artifacts/dashboard (kept by CI as an artifact, ignored by git). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = join(ARTIFACTS_DIR, `${name}.png`);
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** How far the page is wider than the viewport (0 when nothing scrolls sideways). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  ) as Promise<number>;
}
