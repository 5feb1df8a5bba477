// The dashboard as a person uses it, in Debian's Chromium: sign in with the link `flagstaff dev`
// prints, create a flag, add a rule, switch it on in production and watch an SDK connected to the
// service receive the change, copy the SDK key with the keyboard through Ctrl+K, find the change in
// the audit log, meet a conflict, and check every page at 1280 px and 390 px. Screenshots are kept in
// test-artifacts/dashboard/.
import * as Flagstaff from '@flagstaff/node-server-sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
const silent = { error() {}, warn() {}, info() {}, debug() {} };
// Conditions are polled, never slept on; the deadline is generous for a busy two-core machine and
// costs nothing when things work.
const WAIT = { timeout: 20_000, interval: 50 };

let service: Service;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let production: { sdkKey: string; mobileKey: string; clientSideId: string };
let buildMs = 0;

beforeAll(async () => {
  const dist = tempDir('flagstaff-dashboard-dist-');
  buildMs = await buildDashboard(dist);
  service = await startService(dist);
  await service.api('POST', '/projects', { key: PROJECT, name: 'Shop' });
  await service.api('POST', `/projects/${PROJECT}/flags`, {
    key: 'checkout-enabled',
    name: 'Checkout enabled',
    tags: ['kill-switch'],
  });
  production = await service.api(`GET`, `/projects/${PROJECT}/environments/production`);
  browser = await launchBrowser();
  ({ context, page } = await newPage(browser));
}, 180_000);

afterAll(async () => {
  // The build time is printed, not asserted: the machine is shared and its speed varies.
  console.info(`dashboard build for the browser tests took ${Math.round(buildMs)} ms`);
  await context?.close();
  await browser?.close();
  await service?.close();
});

const flagRow = (key: string) => page.locator(`tr[data-flag="${key}"]`);

describe('dashboard in Chromium', () => {
  it('refuses a wrong token with a message, then signs in from the link and drops the token from the URL', async () => {
    await page.goto(`${service.url}/sign-in`);
    await page.getByLabel('API token').fill('api-not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent(), WAIT)
      .toContain('did not accept this token');

    await page.goto(`${service.url}/#token=${service.adminToken}`);
    await page.getByRole('heading', { name: 'Flags', exact: true }).waitFor();
    expect(page.url()).toBe(`${service.url}/projects/${PROJECT}/flags`);
    expect(page.url()).not.toContain('token');
    expect(await page.evaluate('sessionStorage.getItem("flagstaff.token")')).toBe(service.adminToken);
    await flagRow('checkout-enabled').waitFor();
    await page.locator('.live[data-status="live"]').waitFor();
    await screenshot(page, 'flags-1280');
  });

  it('creates a flag, adds a rule with the clause builder, and saves it after the diff and a comment', async () => {
    await page.getByRole('button', { name: 'New flag' }).click();
    const dialog = page.getByRole('dialog', { name: 'New flag' });
    await dialog.getByRole('button', { name: 'Create flag' }).click();
    await dialog.getByText('give the flag a name').waitFor();
    await dialog.getByLabel('Name').fill('Beta banner');
    expect(await dialog.getByLabel('Key').inputValue()).toBe('beta-banner');
    await dialog.getByLabel('Tags (comma-separated, optional)').fill('ui, beta');
    await dialog.getByRole('button', { name: 'Create flag' }).click();
    await page.getByRole('heading', { name: 'Beta banner' }).waitFor();
    expect(page.url()).toBe(`${service.url}/projects/${PROJECT}/flags/beta-banner`);

    await page.getByRole('button', { name: 'Add rule' }).click();
    const rule = page.getByRole('group', { name: 'Rule 1', exact: true });
    const clause = rule.getByRole('group', { name: 'Condition 1' });
    await clause.getByLabel('Attribute').fill('email');
    await clause.getByLabel('Operator').selectOption('endsWith');
    await clause.getByLabel('Values, one per line').fill('@example.com');
    await rule.getByLabel('Serve', { exact: true }).selectOption({ label: 'true' });
    // A rollout on the default rule: the percentages must add up to 100 before saving is possible.
    const fallthrough = page.getByRole('group', { name: /Default rule/ });
    await fallthrough.getByLabel('Serve', { exact: true }).selectOption('rollout');
    await fallthrough.getByLabel('true %').fill('30');
    await fallthrough.getByLabel('false %').fill('60');
    await page.getByText('the percentages add up to 90%, not 100%').waitFor();
    expect(await page.getByRole('button', { name: 'Review and save' }).isDisabled()).toBe(true);
    await fallthrough.getByLabel('false %').fill('70');
    await fallthrough.getByText('Total: 100% ✓').waitFor();

    // The preview evaluates the unsaved draft in the browser.
    const context = page.getByLabel('Context (JSON)');
    await context.fill('{"kind": "user", "key": "u-1", "email": "ann@example.com"}');
    await page.getByText('Evaluates your unsaved changes').waitFor();
    // Still off in production: the off variation applies whatever the rules say.
    await expect.poll(() => page.getByTestId('preview-reason').textContent(), WAIT).toBe('OFF');
    await page.getByRole('switch', { name: 'Targeting of beta-banner in Production' }).click();
    await expect.poll(() => page.getByTestId('preview-reason').textContent(), WAIT).toBe('RULE_MATCH');
    expect(await page.getByTestId('preview-value').textContent()).toBe('true');
    await context.fill('{"kind": "user", "key": "u-1", "email": "bo@elsewhere.org"}');
    await expect.poll(() => page.getByTestId('preview-reason').textContent(), WAIT).toBe('FALLTHROUGH');
    await context.fill('{"kind": "user"');
    await page.getByText(/Not valid JSON/).waitFor();
    // Back off: the switch is turned on below, from the list, with its confirmation.
    await page.getByRole('switch', { name: 'Targeting of beta-banner in Production' }).click();
    await context.fill('{"kind": "user", "key": "u-1", "email": "ann@example.com"}');
    await screenshot(page, 'flag-detail-editing-1280');

    await page.getByRole('button', { name: 'Review and save' }).click();
    const review = page.getByRole('dialog', { name: 'Save beta-banner in Production' });
    const diff = review.getByLabel('Changes to be saved');
    await expect.poll(() => diff.textContent(), WAIT).toMatch(/\+\s+"op": "endsWith"/);
    expect(await diff.textContent()).toMatch(/\+\s+"weight": 70000/);
    await review.getByRole('button', { name: 'Save changes' }).click();
    // Production is critical: a comment is required.
    await review.getByText('A comment is required').waitFor();
    await review.getByLabel(/Comment for the audit log/).fill('beta for staff');
    await review.getByRole('button', { name: 'Save changes' }).click();
    await review.waitFor({ state: 'detached' });
    await page.getByText('No unsaved changes').waitFor();

    const saved = await service.api<{
      rules: { clauses: { op: string; values: string[] }[]; variation: number }[];
      fallthrough: unknown;
    }>('GET', `/projects/${PROJECT}/environments/production/flags/beta-banner`);
    expect(saved.rules).toHaveLength(1);
    expect(saved.rules[0]!.clauses[0]).toMatchObject({
      attribute: 'email',
      op: 'endsWith',
      values: ['@example.com'],
    });
    expect(saved.rules[0]!.variation).toBe(0);
    expect(saved.fallthrough).toEqual({
      rollout: {
        variations: [
          { variation: 0, weight: 30_000 },
          { variation: 1, weight: 70_000 },
        ],
      },
    });
  });

  it('turns the flag on in production after confirmation, and an SDK connected to the service gets the change', async () => {
    const client = Flagstaff.init(production.sdkKey, {
      baseUri: service.url,
      streamUri: service.url,
      eventsUri: service.url,
      sendEvents: false,
      logger: silent,
    });
    try {
      await client.waitForInitialization({ timeout: 20 });
      const ann = { kind: 'user', key: 'u-1', email: 'ann@example.com' };
      expect(await client.variation('beta-banner', ann, 'default')).toBe(false);
      const updated = new Promise<void>((resolve) => client.once('update:beta-banner', () => resolve()));

      await page.getByRole('link', { name: '← Flags' }).click();
      const toggle = flagRow('beta-banner').getByRole('switch', { name: 'beta-banner in Production' });
      expect(await toggle.getAttribute('aria-checked')).toBe('false');
      await toggle.click();
      const confirm = page.getByRole('dialog', { name: 'Turn on “Beta banner” in Production?' });
      await confirm.getByLabel(/Comment for the audit log/).fill('launch');
      await screenshot(page, 'toggle-confirmation-1280');
      await confirm.getByRole('button', { name: 'Turn on in Production' }).click();
      await updated;
      expect(await client.variation('beta-banner', ann, 'default')).toBe(true);
      await expect.poll(() => toggle.getAttribute('aria-checked'), WAIT).toBe('true');
      // Test is not critical: no confirmation there.
      await flagRow('beta-banner').getByRole('switch', { name: 'beta-banner in Test' }).click();
      await expect
        .poll(
          () =>
            flagRow('beta-banner')
              .getByRole('switch', { name: 'beta-banner in Test' })
              .getAttribute('aria-checked'),
          WAIT,
        )
        .toBe('true');
      expect(await page.getByRole('dialog').count()).toBe(0);
    } finally {
      client.close();
    }
  });

  it('copies the SDK key through Ctrl+K with the keyboard only, with a visible focus ring', async () => {
    await page.keyboard.press('Control+K');
    const input = page.getByRole('combobox', { name: 'Type a command or a flag' });
    await input.waitFor();
    expect(await page.evaluate('document.activeElement.getAttribute("role")')).toBe('combobox');
    const outline = await page.evaluate(
      '(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + " " + s.outlineWidth; })()',
    );
    expect(outline).toBe('solid 3px');
    await page.keyboard.type('copy key');
    // Arrows move through the listbox; the active option is announced through aria-activedescendant.
    const active = async () =>
      page.evaluate(
        'document.getElementById(document.activeElement.getAttribute("aria-activedescendant"))?.textContent',
      );
    expect(await active()).toContain('Copy SDK key for Production');
    await page.keyboard.press('ArrowDown');
    expect(await active()).toContain('Copy mobile key for Production');
    await page.keyboard.press('ArrowUp');
    expect(await active()).toContain('Copy SDK key for Production');
    await screenshot(page, 'palette-1280');
    await page.keyboard.press('Enter');
    await page.getByText('Copied the SDK key for Production').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(production.sdkKey);

    // The palette also jumps to a flag and toggles one; Escape closes it.
    await page.keyboard.press('Control+K');
    await page.getByRole('combobox', { name: 'Type a command or a flag' }).waitFor();
    await page.keyboard.type('go to flag checkout');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Checkout enabled' }).waitFor();
    // Open first, then close: an Escape that arrives before the palette has opened closes nothing,
    // and the "detached" wait would pass at once while the palette is still on its way.
    await page.keyboard.press('Control+K');
    await page.getByRole('combobox', { name: 'Type a command or a flag' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('combobox', { name: 'Type a command or a flag' }).waitFor({ state: 'detached' });
    // Keyboard focus is visible wherever Tab lands.
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      const ring = await page.evaluate(
        '(() => { const s = getComputedStyle(document.activeElement); return document.activeElement.matches(":focus-visible") + " " + s.outlineStyle + " " + s.outlineWidth; })()',
      );
      expect(ring).toBe('true solid 3px');
    }
  });

  it('shows the changes in the audit log with their diff and comment', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Kind').selectOption('flag');
    await page.getByLabel('Key', { exact: true }).fill('beta-banner');
    await page.getByRole('button', { name: 'Filter' }).click();
    const entries = page.locator('li.audit-entry[data-audit-resource="flag:beta-banner"]');
    await expect
      .poll(
        async () =>
          (await entries.locator('summary .audit-what').allTextContents()).map((t) =>
            t.replace(/\s+/g, ' ').trim(),
          ),
        WAIT,
      )
      .toEqual([
        'browser tests update targeting flag beta-banner test',
        'browser tests update targeting flag beta-banner production',
        'browser tests update targeting flag beta-banner production',
        'browser tests create flag beta-banner',
      ]);
    const launch = entries.filter({ hasText: '“launch”' });
    await launch.locator('summary').click();
    const diff = launch.getByLabel('Changes to flag beta-banner');
    await expect.poll(() => diff.textContent(), WAIT).toMatch(/\+\s+"on": true/);
    expect(await diff.textContent()).toMatch(/−\s+"on": false/);
    expect(await entries.filter({ hasText: '“beta for staff”' }).count()).toBe(1);
    await screenshot(page, 'audit-1280');
  });

  it('follows changes made elsewhere, and a save based on an old version leads to a reload prompt', async () => {
    await page.goto(`${service.url}/projects/${PROJECT}/flags/checkout-enabled`);
    await page.getByRole('heading', { name: 'Checkout enabled' }).waitFor();
    await page.getByRole('heading', { name: /Targeting in/ }).waitFor();
    await page.locator('.live[data-status="live"]').waitFor();
    // Without local edits, a change made through the API simply appears.
    await service.api('PATCH', `/projects/${PROJECT}/environments/production/flags/checkout-enabled`, {
      instructions: [{ kind: 'turnFlagOn' }],
    });
    await expect
      .poll(
        () =>
          page
            .getByRole('switch', { name: 'Targeting of checkout-enabled in Production' })
            .getAttribute('aria-checked'),
        WAIT,
      )
      .toBe('true');

    // With local edits, it is announced instead, and saving the stale edits is refused with a prompt.
    await page.getByRole('button', { name: 'Add individual targets' }).click();
    await page.getByLabel('Context keys, one per line').fill('vip-1');
    await service.api('PATCH', `/projects/${PROJECT}/environments/production/flags/checkout-enabled`, {
      instructions: [{ kind: 'turnFlagOff' }],
    });
    await page.getByText('This flag was changed by someone else while you were editing').waitFor();
    await page.getByRole('button', { name: 'Review and save' }).click();
    const review = page.getByRole('dialog', { name: /Save checkout-enabled/ });
    await review.getByLabel(/Comment for the audit log/).fill('vip');
    await review.getByRole('button', { name: 'Save changes' }).click();
    const conflict = page.getByRole('dialog', { name: 'Someone else changed this first' });
    await conflict.getByText('not saved').waitFor();
    await screenshot(page, 'conflict-1280');
    await conflict.getByRole('button', { name: 'Reload' }).click();
    await page.getByText('No unsaved changes').waitFor();
    expect(
      await page
        .getByRole('switch', { name: 'Targeting of checkout-enabled in Production' })
        .getAttribute('aria-checked'),
    ).toBe('false');
    const targeting = await service.api<{ targets: unknown[] }>(
      'GET',
      `/projects/${PROJECT}/environments/production/flags/checkout-enabled`,
    );
    expect(targeting.targets).toEqual([]);
  });

  it('edits a segment and uses it in a rule that the preview evaluates', async () => {
    await page.goto(`${service.url}/projects/${PROJECT}/segments`);
    await page.getByRole('button', { name: 'New segment' }).click();
    const dialog = page.getByRole('dialog', { name: 'New segment in Production' });
    await dialog.getByLabel('Name').fill('Beta testers');
    await dialog.getByLabel('Key').fill('beta testers');
    await dialog.getByRole('button', { name: 'Create segment' }).click();
    await dialog.getByText(/the key must start with a letter or digit/).waitFor();
    await dialog.getByLabel('Key').fill('beta-testers');
    await dialog.getByRole('button', { name: 'Create segment' }).click();
    await page.getByRole('heading', { name: 'Beta testers' }).waitFor();
    await page.getByLabel('Included user keys, one per line').fill('tester-1\ntester-2');
    await page.getByRole('button', { name: 'Review and save' }).click();
    const review = page.getByRole('dialog', { name: /Save segment beta-testers/ });
    await review.getByLabel(/Comment/).fill('first testers');
    await review.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('No unsaved changes').waitFor();
    const segment = await service.api<{ included: string[] }>(
      'GET',
      `/projects/${PROJECT}/environments/production/segments/beta-testers`,
    );
    expect(segment.included).toEqual(['tester-1', 'tester-2']);

    await page.goto(`${service.url}/projects/${PROJECT}/flags/checkout-enabled`);
    await page.getByRole('switch', { name: 'Targeting of checkout-enabled in Production' }).click();
    await page.getByRole('button', { name: 'Add rule' }).click();
    const clause = page
      .getByRole('group', { name: 'Rule 1', exact: true })
      .getByRole('group', { name: 'Condition 1' });
    await clause.getByLabel('Operator').selectOption('segmentMatch');
    await clause.getByLabel('Segments, one key per line').fill('beta-testers');
    await page
      .getByRole('group', { name: 'Rule 1', exact: true })
      .getByLabel('Serve', { exact: true })
      .selectOption({ label: 'false' });
    await page.getByLabel('Context (JSON)').fill('{"kind": "user", "key": "tester-2"}');
    await expect.poll(() => page.getByTestId('preview-reason').textContent(), WAIT).toBe('RULE_MATCH');
    expect(await page.getByTestId('preview-value').textContent()).toBe('false');
    await page.getByLabel('Context (JSON)').fill('{"kind": "user", "key": "someone-else"}');
    await expect.poll(() => page.getByTestId('preview-reason').textContent(), WAIT).toBe('FALLTHROUGH');
    await page.getByRole('button', { name: 'Discard' }).click();
  });

  it('rotates the SDK key with a grace period, and the old key keeps working', async () => {
    await page.getByRole('link', { name: 'Environments' }).click();
    await page.getByRole('heading', { name: 'Environments and keys' }).waitFor();
    await page.getByRole('button', { name: 'Rotate the SDK key for Production' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the SDK key for Production?' });
    await dialog.getByLabel('Old key').selectOption({ label: 'Keep the old key for 24 hours' });
    await dialog.getByRole('button', { name: 'Rotate the SDK key' }).click();
    await page.getByText('Rotated the SDK key for Production').waitFor();
    const env = await service.api<{ sdkKey: string; retiredKeys: { sdkKey?: { key: string } } }>(
      'GET',
      `/projects/${PROJECT}/environments/production`,
    );
    expect(env.sdkKey).not.toBe(production.sdkKey);
    expect(env.retiredKeys.sdkKey?.key).toBe(production.sdkKey);
    await page.getByText(/Previous key .* keeps working until/).waitFor();
    await page.getByRole('button', { name: 'Copy the SDK key for Production' }).click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(env.sdkKey);
    const old = await fetch(`${service.url}/sdk/latest-all`, {
      headers: { authorization: production.sdkKey },
    });
    expect(old.status).toBe(200);
    production = { ...production, sdkKey: env.sdkKey };
  });

  it('charts evaluations per variation from events an SDK sent', async () => {
    const client = Flagstaff.init(production.sdkKey, {
      baseUri: service.url,
      streamUri: service.url,
      eventsUri: service.url,
      logger: silent,
    });
    try {
      await client.waitForInitialization({ timeout: 20 });
      for (let i = 0; i < 12; i++)
        await client.variation(
          'beta-banner',
          { kind: 'user', key: `c-${i}`, email: `c${i}@example.com` },
          false,
        );
      for (let i = 0; i < 5; i++)
        await client.variation(
          'beta-banner',
          { kind: 'user', key: `d-${i}`, email: `d${i}@elsewhere.org` },
          false,
        );
      await client.flush();
    } finally {
      client.close();
    }
    await page.goto(`${service.url}/projects/${PROJECT}/insights?flag=beta-banner`);
    await expect.poll(() => page.getByTestId('insights-total').textContent(), WAIT).toBe('17');
    await page.locator('.chart canvas').waitFor();
    const trueRow = page.locator('tr[data-variation="0"]');
    const trueCount = Number(await trueRow.locator('td').nth(1).textContent());
    // 12 match the rule (true); of the 5 others the 30/70 rollout decides, so at least 12 are true.
    expect(trueCount).toBeGreaterThanOrEqual(12);
    expect(trueCount + Number(await page.locator('tr[data-variation="1"] td').nth(1).textContent())).toBe(17);
    await screenshot(page, 'insights-1280');
  });

  it('fits every page at 390 px and 1280 px without sideways scrolling', async () => {
    const pages: [string, string, (p: Page) => Promise<unknown>][] = [
      ['flags', '/flags', (p) => p.locator('tr[data-flag="beta-banner"]').waitFor()],
      ['flag-detail', '/flags/beta-banner', (p) => p.getByTestId('preview-reason').waitFor()],
      ['segments', '/segments', (p) => p.getByRole('link', { name: 'Beta testers' }).waitFor()],
      [
        'segment-detail',
        '/segments/beta-testers',
        (p) => p.getByLabel('Included user keys, one per line').waitFor(),
      ],
      ['environments', '/environments', (p) => p.getByRole('heading', { name: 'Production' }).waitFor()],
      ['audit', '/audit', (p) => p.locator('li.audit-entry').first().waitFor()],
      ['insights', '/insights?flag=beta-banner', (p) => p.locator('.chart canvas').waitFor()],
    ];
    for (const width of [390, 1280]) {
      const { context: ctx, page: p } = await newPage(browser, width);
      try {
        await p.goto(`${service.url}/#token=${service.adminToken}`);
        await p.getByRole('heading', { name: 'Flags', exact: true }).waitFor();
        for (const [name, path, ready] of pages) {
          await p.goto(`${service.url}/projects/${PROJECT}${path}`);
          await ready(p);
          await screenshot(p, `${name}-${width}`);
          expect({ page: name, width, overflow: await horizontalOverflow(p) }).toEqual({
            page: name,
            width,
            overflow: 0,
          });
        }
        await p.keyboard.press('Control+K');
        await p.getByRole('combobox', { name: 'Type a command or a flag' }).waitFor();
        await screenshot(p, `palette-${width}`);
        expect(await horizontalOverflow(p)).toBe(0);
      } finally {
        await ctx.close();
      }
    }
  });
});
