// `flagstaff dev` and the dashboard: the build is made when missing or older than its sources, the
// service serves it at `/`, and the printed sign-in link opens it signed in, with the demo data, in
// Debian's Chromium.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { banner, dashboardIsStale, startDev } from '../src/dev.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'flagstaff-dev-ui-'));
  dirs.push(dir);
  return dir;
};
const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

describe('flagstaff dev with the dashboard', () => {
  it('rebuilds only when the build is missing or older than the dashboard or evaluator sources', () => {
    const dashboard = tempDir();
    const evalSrc = tempDir();
    mkdirSync(join(dashboard, 'src', 'pages'), { recursive: true });
    writeFileSync(join(dashboard, 'src', 'pages', 'Page.tsx'), '');
    writeFileSync(join(dashboard, 'index.html'), '');
    writeFileSync(join(evalSrc, 'evaluator.ts'), '');
    at(join(dashboard, 'src', 'pages', 'Page.tsx'), 1_000);
    at(join(dashboard, 'index.html'), 1_000);
    at(join(evalSrc, 'evaluator.ts'), 1_000);
    expect(dashboardIsStale(dashboard, evalSrc)).toBe(true);
    mkdirSync(join(dashboard, 'dist'));
    writeFileSync(join(dashboard, 'dist', 'index.html'), '');
    at(join(dashboard, 'dist', 'index.html'), 2_000);
    expect(dashboardIsStale(dashboard, evalSrc)).toBe(false);
    at(join(dashboard, 'src', 'pages', 'Page.tsx'), 3_000);
    expect(dashboardIsStale(dashboard, evalSrc)).toBe(true);
    at(join(dashboard, 'src', 'pages', 'Page.tsx'), 1_000);
    at(join(evalSrc, 'evaluator.ts'), 3_000);
    expect(dashboardIsStale(dashboard, evalSrc)).toBe(true);
    expect(dashboardIsStale(dashboard)).toBe(false);
  });

  it('serves the dashboard and prints a sign-in link that opens it signed in, with the demo data', async () => {
    const dataDir = tempDir();
    const server = await startDev({ port: 0, relayPort: 0, dynamoDBPort: 0, host: '127.0.0.1', dataDir });
    const browser = await chromium.launch({
      executablePath: process.env.FLAGSTAFF_CHROMIUM ?? '/usr/bin/chromium',
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
    try {
      const { url, adminToken, signInUrl } = server.info;
      // The token travels in the fragment, which browsers never send to the server.
      expect(signInUrl).toBe(`${url}/#token=${encodeURIComponent(adminToken)}`);
      expect(banner(server.info, dataDir)).toContain(`Dashboard         ${signInUrl}`);
      const index = await fetch(`${url}/projects/demo/flags`, { headers: { accept: 'text/html' } });
      expect(index.status).toBe(200);
      expect(await index.text()).toContain('<div id="app">');

      const page = await browser.newPage();
      await page.goto(signInUrl!);
      await page.getByRole('heading', { name: 'Flags', exact: true }).waitFor();
      expect(page.url()).toBe(`${url}/projects/demo/flags`);
      for (const key of ['checkout-enabled', 'new-search', 'staff-preview', 'pricing-config']) {
        await page.locator(`tr[data-flag="${key}"]`).waitFor();
      }
      await page.getByRole('link', { name: 'Segments' }).click();
      await page.getByRole('link', { name: 'Beta testers' }).waitFor();
    } finally {
      await browser.close();
      await server.close();
    }
  });

  it('runs without the dashboard when asked', async () => {
    const server = await startDev({
      port: 0,
      relayPort: 0,
      dynamoDBPort: 0,
      host: '127.0.0.1',
      dataDir: tempDir(),
      dashboard: false,
    });
    try {
      expect(server.info.signInUrl).toBeUndefined();
      expect(banner(server.info, 'x')).not.toContain('Dashboard');
      expect((await fetch(`${server.info.url}/`, { headers: { accept: 'text/html' } })).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
