// The dashboard as each role sees it, in Debian's Chromium against a real flag service: a reader token
// gets a read-only dashboard (switches that still show on/off but cannot be used, no New flag, archive
// or save, no switching commands in the palette, no key rotation) with a notice saying why; a writer
// switches flags but sees no token page and no rotation; and archived segments are listed apart,
// restored from there, and usable in a rule again. The new views are checked at 390 px and 1280 px.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildDashboard,
  horizontalOverflow,
  launchBrowser,
  newPage,
  type Service,
  screenshot,
  startService,
  tempDir,
} from './support/harness.js';

const PROJECT = 'shop';
// Conditions are polled, never slept on; the deadline only bounds a failure.
const WAIT = { timeout: 20_000, interval: 50 };
const SEGMENTS = `/projects/${PROJECT}/environments/production/segments`;
const READ_ONLY = /Read-only: your token.s role is reader/;

let service: Service;
let browser: Browser;
let readerToken = '';
let writerToken = '';

beforeAll(async () => {
  const dist = tempDir('flagstaff-dashboard-dist-');
  await buildDashboard(dist);
  service = await startService(dist);
  await service.api('POST', '/projects', { key: PROJECT, name: 'Shop' });
  await service.api('POST', `/projects/${PROJECT}/flags`, {
    key: 'checkout-enabled',
    name: 'Checkout enabled',
  });
  await service.api('POST', `/projects/${PROJECT}/flags`, { key: 'old-promo', name: 'Old promo' });
  await service.api('POST', `/projects/${PROJECT}/flags/old-promo/archive`, {});
  // On in production, so a read-only switch has an "on" state to keep showing.
  await service.api('PATCH', `/projects/${PROJECT}/environments/production/flags/checkout-enabled`, {
    instructions: [{ kind: 'turnFlagOn' }],
  });
  await service.api('POST', SEGMENTS, { key: 'beta-testers', name: 'Beta testers', included: ['t-1'] });
  await service.api('POST', SEGMENTS, { key: 'retired', name: 'Retired testers' });
  await service.api('POST', `${SEGMENTS}/retired/archive`, {});
  // Tokens are made the way an admin makes them: through the admin API.
  readerToken = (await service.api<{ secret: string }>('POST', '/tokens', { name: 'viewer', role: 'reader' }))
    .secret;
  writerToken = (
    await service.api<{ secret: string }>('POST', '/tokens', { name: 'deployer', role: 'writer' })
  ).secret;
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await service?.close();
});

/** A fresh browser context signed in with `token` through the sign-in link, on the flag list. */
async function signIn(token: string, width = 1280): Promise<{ page: Page; close(): Promise<void> }> {
  const { context, page } = await newPage(browser, width);
  await page.goto(`${service.url}/#token=${token}`);
  await page.getByRole('heading', { name: 'Flags', exact: true }).waitFor();
  await page.locator('tr[data-flag="checkout-enabled"]').waitFor();
  return { page, close: () => context.close() };
}

const listSwitch = (page: Page, env: string) =>
  page.getByRole('switch', { name: `checkout-enabled in ${env}`, exact: true });

describe('role-aware dashboard in Chromium', () => {
  it('gives a reader token switches that show their state but cannot be used, with the reason', async () => {
    const { page, close } = await signIn(readerToken);
    try {
      const notice = page.locator('#read-only-notice');
      await expect.poll(() => notice.textContent(), WAIT).toMatch(READ_ONLY);
      const production = listSwitch(page, 'Production');
      // Disabled (aria-disabled, still focusable) but still saying on or off.
      expect(await production.getAttribute('aria-checked')).toBe('true');
      expect(await listSwitch(page, 'Test').getAttribute('aria-checked')).toBe('false');
      expect(await production.getAttribute('aria-disabled')).toBe('true');
      expect(await production.isDisabled()).toBe(true);
      expect(await production.getAttribute('title')).toMatch(READ_ONLY);
      expect(await production.getAttribute('aria-describedby')).toBe('read-only-notice');
      expect(await page.getByRole('button', { name: 'New flag' }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'API tokens' }).count()).toBe(0);

      // Reached with the keyboard and pressed: nothing is asked or sent. Ctrl+K after it is handled
      // after it, so once the palette shows, any dialog the switch had opened would be showing too.
      await production.focus();
      await page.keyboard.press('Space');
      await page.keyboard.press('Control+K');
      const combobox = page.getByRole('combobox', { name: 'Type a command or a flag' });
      await combobox.waitFor();
      expect(await page.getByRole('dialog', { name: /Turn off/ }).count()).toBe(0);

      // The palette offers going to the flag, but no switching.
      await combobox.fill('checkout');
      const options = page.getByRole('option');
      await expect.poll(() => options.allTextContents(), WAIT).toContain('FlagsGo to flag Checkout enabled');
      expect((await options.allTextContents()).filter((t) => t.startsWith('Toggle'))).toEqual([]);
      await combobox.fill('turn on');
      await page.getByText('Nothing matches “turn on”').waitFor();
      await screenshot(page, 'roles-reader-palette-1280');
      await page.keyboard.press('Escape');
      await combobox.waitFor({ state: 'detached' });
      await screenshot(page, 'roles-reader-flags-1280');

      const targeting = await service.api<{ on: boolean; version: number }>(
        'GET',
        `/projects/${PROJECT}/environments/production/flags/checkout-enabled`,
      );
      expect(targeting.on).toBe(true);
    } finally {
      await close();
    }
  });

  it('shows a reader the flag, its definition, segments and keys without a way to change them', async () => {
    const { page, close } = await signIn(readerToken);
    try {
      await page.getByRole('link', { name: 'Checkout enabled' }).click();
      await page.getByRole('heading', { name: /Targeting in/ }).waitFor();
      const on = page.getByRole('switch', { name: 'Targeting of checkout-enabled in Production' });
      expect(await on.getAttribute('aria-checked')).toBe('true');
      expect(await on.isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: 'Add rule' }).isDisabled()).toBe(true);
      for (const name of ['Archive flag', 'Review and save', 'Discard']) {
        expect({ name, count: await page.getByRole('button', { name }).count() }).toEqual({ name, count: 0 });
      }
      // Reading is not changing: the preview still evaluates the flag for a context.
      await page.getByLabel('Context (JSON)').fill('{"kind": "user", "key": "u-1"}');
      await expect.poll(() => page.getByTestId('preview-reason').textContent(), WAIT).toBe('FALLTHROUGH');
      await screenshot(page, 'roles-reader-flag-1280');

      await page.getByRole('link', { name: 'View definition' }).click();
      await page.getByRole('heading', { name: 'Definition of Checkout enabled' }).waitFor();
      expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Checkout enabled');
      expect(await page.getByLabel('Name', { exact: true }).isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: 'Review and save' }).count()).toBe(0);

      // Archived flags are listed, with nothing to restore them with.
      await page.goto(`${service.url}/projects/${PROJECT}/flags?archived=1`);
      await page.locator('tr[data-archived-flag="old-promo"]').waitFor();
      expect(await page.getByRole('button', { name: /Restore/ }).count()).toBe(0);

      await page.getByRole('link', { name: 'Segments', exact: true }).click();
      await page.locator('tr[data-segment="beta-testers"]').waitFor();
      expect(await page.getByRole('button', { name: 'New segment' }).count()).toBe(0);
      await page.getByRole('link', { name: 'Beta testers' }).click();
      const included = page.getByLabel('Included user keys, one per line');
      await expect.poll(() => included.inputValue(), WAIT).toBe('t-1');
      expect(await included.isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: 'Archive segment' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Review and save' }).count()).toBe(0);

      await page.goto(`${service.url}/projects/${PROJECT}/segments?archived=1`);
      await page.locator('tr[data-archived-segment="retired"]').waitFor();
      expect(await page.getByRole('button', { name: /Restore/ }).count()).toBe(0);

      await page.getByRole('link', { name: 'Environments' }).click();
      await page.getByRole('heading', { name: 'Environments and keys' }).waitFor();
      expect(await page.getByTestId('rotate-admin-only').textContent()).toBe(
        'Rotating keys needs an admin token; you are signed in with a reader token.',
      );
      expect(await page.getByRole('button', { name: /^Rotate/ }).count()).toBe(0);
      // Reading the keys is allowed, as the service allows it.
      await page.getByRole('button', { name: 'Copy the SDK key for Production' }).waitFor();
      expect(await page.locator('#read-only-notice').textContent()).toMatch(READ_ONLY);
    } finally {
      await close();
    }
  });

  it('lets a writer switch flags, without the token page or key rotation', async () => {
    const { page, close } = await signIn(writerToken);
    try {
      expect(await page.locator('#read-only-notice').count()).toBe(0);
      expect(await page.getByRole('link', { name: 'API tokens' }).count()).toBe(0);
      await page.getByRole('button', { name: 'New flag' }).waitFor();
      const test = listSwitch(page, 'Test');
      expect(await test.getAttribute('aria-disabled')).toBe(null);
      await test.click();
      await expect.poll(() => test.getAttribute('aria-checked'), WAIT).toBe('true');
      const targeting = await service.api<{ on: boolean }>(
        'GET',
        `/projects/${PROJECT}/environments/test/flags/checkout-enabled`,
      );
      expect(targeting.on).toBe(true);

      await page.keyboard.press('Control+K');
      const combobox = page.getByRole('combobox', { name: 'Type a command or a flag' });
      await combobox.fill('turn checkout');
      await expect
        .poll(() => page.getByRole('option').allTextContents(), WAIT)
        .toContain('ToggleTurn off Checkout enabled in Production');
      await page.keyboard.press('Escape');
      await combobox.waitFor({ state: 'detached' });

      await page.goto(`${service.url}/projects/${PROJECT}/tokens`);
      const alert = page.getByRole('alert').filter({ hasText: 'Only an admin token' });
      await expect.poll(() => alert.textContent(), WAIT).toContain('“deployer”, a writer token');
      expect(await page.getByRole('button', { name: 'New token' }).count()).toBe(0);

      await page.getByRole('link', { name: 'Environments' }).click();
      await page.getByRole('heading', { name: 'Environments and keys' }).waitFor();
      expect(await page.getByTestId('rotate-admin-only').textContent()).toContain('a writer token');
      expect(await page.getByRole('button', { name: /^Rotate/ }).count()).toBe(0);
      await screenshot(page, 'roles-writer-environments-1280');
    } finally {
      await close();
    }
  });

  it('archives a segment, finds it under "Show archived segments", restores it, and uses it in a rule', async () => {
    const { page, close } = await signIn(writerToken);
    try {
      await page.goto(`${service.url}/projects/${PROJECT}/segments/beta-testers`);
      await page.getByRole('button', { name: 'Archive segment' }).click();
      const dialog = page.getByRole('dialog', { name: 'Archive segment “beta-testers”?' });
      await dialog.getByText('Nothing else depends on it').waitFor();
      await dialog.getByRole('button', { name: 'Archive beta-testers' }).click();
      await page.getByRole('heading', { name: 'Segments in Production' }).waitFor();
      await expect.poll(() => page.locator('tr[data-segment="beta-testers"]').count(), WAIT).toBe(0);

      await page.getByRole('link', { name: 'Show archived segments' }).click();
      await page.getByRole('heading', { name: 'Archived segments in Production' }).waitFor();
      expect(page.url()).toBe(`${service.url}/projects/${PROJECT}/segments?archived=1`);
      const row = page.locator('tr[data-archived-segment="beta-testers"]');
      await row.waitFor();
      await page.locator('tr[data-archived-segment="retired"]').waitFor();
      await screenshot(page, 'archived-segments-1280');

      // Its page says it is archived and locks the editor rather than offering a save that would fail.
      await row.getByRole('link', { name: 'Beta testers' }).click();
      await page.getByText('This segment is archived in Production').waitFor();
      expect(await page.getByLabel('Included user keys, one per line').isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: 'Review and save' }).count()).toBe(0);
      await page.goBack();
      await row.waitFor();

      await row.getByRole('button', { name: 'Restore beta-testers' }).click();
      await page.getByText('Restored segment beta-testers in Production').waitFor();
      await row.waitFor({ state: 'detached' });
      const restored = await service.api<{ archived: boolean; included: string[] }>(
        'GET',
        `${SEGMENTS}/beta-testers`,
      );
      expect(restored).toMatchObject({ archived: false, included: ['t-1'] });
      await page.getByRole('link', { name: 'Show live segments' }).click();
      await page.locator('tr[data-segment="beta-testers"]').waitFor();

      // Usable again: a rule matching on it saves, and the preview evaluates it.
      await page.goto(`${service.url}/projects/${PROJECT}/flags/checkout-enabled`);
      await page.getByRole('button', { name: 'Add rule' }).click();
      const rule = page.getByRole('group', { name: 'Rule 1', exact: true });
      const clause = rule.getByRole('group', { name: 'Condition 1' });
      await clause.getByLabel('Operator').selectOption('segmentMatch');
      await clause.getByText('Segments here: beta-testers.').waitFor();
      await clause.getByLabel('Segments, one key per line').fill('beta-testers');
      await rule.getByLabel('Serve', { exact: true }).selectOption({ label: 'false' });
      await page.getByLabel('Context (JSON)').fill('{"kind": "user", "key": "t-1"}');
      await expect.poll(() => page.getByTestId('preview-reason').textContent(), WAIT).toBe('RULE_MATCH');
      await page.getByRole('button', { name: 'Review and save' }).click();
      const review = page.getByRole('dialog', { name: /Save checkout-enabled/ });
      await review.getByLabel(/Comment for the audit log/).fill('beta testers are back');
      await review.getByRole('button', { name: 'Save changes' }).click();
      await review.waitFor({ state: 'detached' });
      await page.getByText('No unsaved changes').waitFor();
      const targeting = await service.api<{ rules: { clauses: { op: string; values: unknown[] }[] }[] }>(
        'GET',
        `/projects/${PROJECT}/environments/production/flags/checkout-enabled`,
      );
      expect(targeting.rules[0]?.clauses[0]).toMatchObject({ op: 'segmentMatch', values: ['beta-testers'] });
    } finally {
      await close();
    }
  });

  it('fits the archived segments and the read-only pages at 390 px and 1280 px without sideways scrolling', async () => {
    const views: [string, string, string, (p: Page) => Promise<unknown>][] = [
      [
        'archived-segments',
        writerToken,
        '/segments?archived=1',
        (p) => p.getByRole('button', { name: 'Restore retired' }).waitFor(),
      ],
      [
        'reader-archived-segments',
        readerToken,
        '/segments?archived=1',
        (p) => p.locator('tr[data-archived-segment="retired"]').waitFor(),
      ],
      ['reader-flags', readerToken, '/flags', (p) => listSwitch(p, 'Production').waitFor()],
      [
        'reader-flag',
        readerToken,
        '/flags/checkout-enabled',
        (p) => p.getByTestId('preview-reason').waitFor(),
      ],
      [
        'reader-segment',
        readerToken,
        '/segments/beta-testers',
        (p) => p.getByLabel('Included user keys, one per line').waitFor(),
      ],
    ];
    for (const width of [390, 1280]) {
      for (const [name, token, path, ready] of views) {
        const { page, close } = await signIn(token, width);
        try {
          await page.goto(`${service.url}/projects/${PROJECT}${path}`);
          await ready(page);
          await screenshot(page, `roles-${name}-${width}`);
          expect({ view: name, width, overflow: await horizontalOverflow(page) }).toEqual({
            view: name,
            width,
            overflow: 0,
          });
        } finally {
          await close();
        }
      }
    }
  });
});
