// The dashboard's management pages, in Debian's Chromium against a real flag service: edit a flag's
// definition (name, tags, a variation's value) and watch an SDK receive the new value; be refused
// when removing a variation still served; archive a flag (gone from the list and from the SDK) and
// restore it; be warned before archiving what others depend on; create an API token (its secret shown
// once, then usable) and revoke it (then 401); and fit the new pages at 390 px and 1280 px.
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
// Conditions are polled, never slept on; the deadline only bounds a failure.
const WAIT = { timeout: 20_000, interval: 50 };
const visitor = { kind: 'user', key: 'v-1' };

let service: Service;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let sdk: Flagstaff.LDClient;

beforeAll(async () => {
  const dist = tempDir('flagstaff-dashboard-dist-');
  await buildDashboard(dist);
  service = await startService(dist);
  await service.api('POST', '/projects', { key: PROJECT, name: 'Shop' });
  // Multivariate flags start serving their first variation on and off, so "red" is in use.
  await service.api('POST', `/projects/${PROJECT}/flags`, {
    key: 'banner-color',
    name: 'Banner color',
    tags: ['ui'],
    variations: [{ value: 'red' }, { value: 'blue' }, { value: 'green' }],
  });
  await service.api('PATCH', `/projects/${PROJECT}/environments/production/flags/banner-color`, {
    instructions: [{ kind: 'turnFlagOn' }],
  });
  await service.api('POST', `/projects/${PROJECT}/flags`, {
    key: 'layout',
    name: 'Layout',
    variations: [{ value: { columns: 1 } }, { value: { columns: 2 } }],
  });
  for (const key of ['old-promo', 'base', 'child']) {
    await service.api('POST', `/projects/${PROJECT}/flags`, { key, name: key });
  }
  await service.api('PATCH', `/projects/${PROJECT}/environments/production/flags/child`, {
    instructions: [{ kind: 'addPrerequisite', key: 'base', variation: 0 }],
  });
  const production = await service.api<{ sdkKey: string }>(
    'GET',
    `/projects/${PROJECT}/environments/production`,
  );
  sdk = Flagstaff.init(production.sdkKey, {
    baseUri: service.url,
    streamUri: service.url,
    eventsUri: service.url,
    sendEvents: false,
    logger: silent,
  });
  await sdk.waitForInitialization({ timeout: 20 });
  browser = await launchBrowser();
  ({ context, page } = await newPage(browser));
  await page.goto(`${service.url}/#token=${service.adminToken}`);
  await page.getByRole('heading', { name: 'Flags', exact: true }).waitFor();
}, 180_000);

afterAll(async () => {
  sdk?.close();
  await context?.close();
  await browser?.close();
  await service?.close();
});

const flagRow = (key: string) => page.locator(`tr[data-flag="${key}"]`);
const variation = (n: number) => page.getByRole('group', { name: `Variation ${n}`, exact: true });

describe('flag definitions, archiving and API tokens in Chromium', () => {
  it('edits the name, tags and a variation value; the list shows them and an SDK gets the new value', async () => {
    expect(await sdk.variation('banner-color', visitor, 'none')).toBe('red');
    await page.goto(`${service.url}/projects/${PROJECT}/flags/banner-color`);
    await page.getByRole('link', { name: 'Edit definition' }).click();
    await page.getByRole('heading', { name: 'Edit Banner color' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Banner colour');
    await page.getByLabel('Tags (comma-separated)').fill('ui, brand');
    await page.getByLabel('Temporary', { exact: false }).check();
    await variation(1).getByLabel('Value').fill('crimson');
    await variation(1).getByLabel('Name (optional)').fill('Warm');
    // A duplicate value is reported at its field and blocks saving.
    await variation(2).getByLabel('Value').fill('crimson');
    await variation(2).getByText('has the same value as variation 1').waitFor();
    expect(await variation(2).getByLabel('Value').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Review and save' }).isDisabled()).toBe(true);
    await variation(2).getByLabel('Value').fill('blue');
    await page.getByRole('button', { name: 'Add variation' }).click();
    await variation(4).getByLabel('Value').fill('purple');
    await screenshot(page, 'definition-editing-1280');

    const updated = new Promise<void>((resolve) => sdk.once('update:banner-color', () => resolve()));
    await page.getByRole('button', { name: 'Review and save' }).click();
    const review = page.getByRole('dialog', { name: 'Save the definition of banner-color' });
    const diff = review.getByLabel('Changes to be saved');
    await expect.poll(() => diff.textContent(), WAIT).toMatch(/\+\s+"value": "crimson"/);
    expect(await diff.textContent()).toMatch(/−\s+"value": "red"/);
    expect(await diff.textContent()).toMatch(/\+\s+"name": "Banner colour"/);
    // The definition reaches production, a critical environment: a comment is required.
    await review.getByRole('button', { name: 'Save changes' }).click();
    await review.getByText('A comment is required').waitFor();
    await review.getByLabel(/Comment for the audit log/).fill('brand refresh');
    await review.getByRole('button', { name: 'Save changes' }).click();
    await review.waitFor({ state: 'detached' });
    await page.getByText('No unsaved changes').waitFor();

    await updated;
    expect(await sdk.variation('banner-color', visitor, 'none')).toBe('crimson');
    const saved = await service.api<{
      name: string;
      tags: string[];
      temporary: boolean;
      variations: unknown[];
    }>('GET', `/projects/${PROJECT}/flags/banner-color`);
    expect(saved).toMatchObject({
      name: 'Banner colour',
      tags: ['ui', 'brand'],
      temporary: true,
      variations: [
        { value: 'crimson', name: 'Warm' },
        { value: 'blue' },
        { value: 'green' },
        { value: 'purple' },
      ],
    });

    await page.getByRole('link', { name: 'Flags', exact: true }).click();
    const row = flagRow('banner-color');
    await expect.poll(() => row.getByRole('link').textContent(), WAIT).toBe('Banner colour');
    expect(await row.locator('.tag').allTextContents()).toEqual(['ui', 'brand']);
  });

  it('refuses to remove a variation that targeting serves, removes an unused one, and shows JSON errors at the field', async () => {
    await page.goto(`${service.url}/projects/${PROJECT}/flags/banner-color/definition`);
    await variation(1).waitFor();
    await variation(1).getByRole('button', { name: 'Remove variation 1' }).click();
    const refusal = variation(1).getByRole('alert');
    await expect.poll(() => refusal.textContent(), WAIT).toContain('cannot be removed');
    expect(await refusal.textContent()).toContain('Production (the default rule, the off variation)');
    expect(await variation(1).getByLabel('Value').inputValue()).toBe('crimson');
    await screenshot(page, 'definition-refused-removal-1280');

    // The service refuses the same thing when asked directly.
    const res = await fetch(`${service.url}/api/v1/projects/${PROJECT}/flags/banner-color`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${service.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ op: 'remove', path: '/variations/0' }]),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('which the change removes');

    await variation(3).getByRole('button', { name: 'Remove variation 3' }).click();
    await expect.poll(() => variation(3).getByLabel('Value').inputValue(), WAIT).toBe('purple');
    await page.getByRole('button', { name: 'Review and save' }).click();
    const review = page.getByRole('dialog', { name: 'Save the definition of banner-color' });
    await review.getByLabel(/Comment for the audit log/).fill('green is gone');
    await review.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('No unsaved changes').waitFor();
    const saved = await service.api<{ variations: { value: string }[] }>(
      'GET',
      `/projects/${PROJECT}/flags/banner-color`,
    );
    expect(saved.variations.map((v) => v.value)).toEqual(['crimson', 'blue', 'purple']);

    await page.goto(`${service.url}/projects/${PROJECT}/flags/layout/definition`);
    const value = variation(2).getByLabel('Value (JSON)');
    await value.fill('{"columns": 3');
    await variation(2)
      .getByText(/not valid JSON/)
      .waitFor();
    expect(await value.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Review and save' }).isDisabled()).toBe(true);
    await value.fill('{"columns": 3}');
    await expect.poll(() => value.getAttribute('aria-invalid'), WAIT).toBe(null);
    await page.getByRole('button', { name: 'Discard' }).click();
  });

  it('warns before archiving a flag others need, archives an unused one (gone from the list and the SDK), and restores it', async () => {
    await page.goto(`${service.url}/projects/${PROJECT}/flags/base`);
    await page.getByRole('button', { name: 'Archive flag' }).click();
    let dialog = page.getByRole('dialog', { name: 'Archive flag “base”?' });
    await dialog.getByTestId('archive-dependents').waitFor();
    expect(await dialog.getByTestId('archive-dependents').textContent()).toContain(
      'flag child needs it as a prerequisite in Production',
    );
    expect(await dialog.getByRole('button', { name: 'Archive base' }).isDisabled()).toBe(true);
    await screenshot(page, 'archive-blocked-1280');
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    await dialog.waitFor({ state: 'detached' });

    expect(await sdk.variation('old-promo', visitor, 'default')).toBe(false);
    const gone = new Promise<void>((resolve) => sdk.once('update:old-promo', () => resolve()));
    await page.goto(`${service.url}/projects/${PROJECT}/flags/old-promo`);
    await page.getByRole('button', { name: 'Archive flag' }).click();
    dialog = page.getByRole('dialog', { name: 'Archive flag “old-promo”?' });
    await dialog.getByText('Nothing else depends on it').waitFor();
    await dialog.getByLabel(/Comment for the audit log/).fill('promo over');
    await dialog.getByRole('button', { name: 'Archive old-promo' }).click();
    await page.getByRole('heading', { name: 'Flags', exact: true }).waitFor();
    await flagRow('banner-color').waitFor();
    expect(await flagRow('old-promo').count()).toBe(0);
    await gone;
    const state = await sdk.allFlagsState(visitor);
    expect(Object.keys(state.allValues())).not.toContain('old-promo');
    expect(await sdk.variation('old-promo', visitor, 'default')).toBe('default');

    await page.getByRole('link', { name: 'Show archived flags' }).click();
    await page.getByRole('heading', { name: 'Archived flags' }).waitFor();
    const archivedRow = page.locator('tr[data-archived-flag="old-promo"]');
    await archivedRow.waitFor();
    await screenshot(page, 'archived-flags-1280');
    const back = new Promise<void>((resolve) => sdk.once('update:old-promo', () => resolve()));
    await archivedRow.getByRole('button', { name: 'Restore old-promo' }).click();
    await archivedRow.waitFor({ state: 'detached' });
    await back;
    expect(await sdk.variation('old-promo', visitor, 'default')).toBe(false);
    await page.getByRole('link', { name: 'Show live flags' }).click();
    await flagRow('old-promo').waitFor();
  });

  it('warns before archiving a segment a flag uses, and archives an unused one', async () => {
    const segments = `/projects/${PROJECT}/environments/production/segments`;
    for (const key of ['staff', 'unused']) await service.api('POST', segments, { key, name: key });
    await service.api('PATCH', `/projects/${PROJECT}/environments/production/flags/banner-color`, {
      patch: [
        {
          op: 'add',
          path: '/rules/-',
          value: { clauses: [{ attribute: '', op: 'segmentMatch', values: ['staff'] }], variation: 1 },
        },
      ],
    });
    await page.goto(`${service.url}/projects/${PROJECT}/segments/staff`);
    await page.getByRole('button', { name: 'Archive segment' }).click();
    let dialog = page.getByRole('dialog', { name: 'Archive segment “staff”?' });
    await expect
      .poll(() => dialog.getByTestId('archive-dependents').textContent(), WAIT)
      .toContain('flag banner-color uses it in a rule');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    await page.goto(`${service.url}/projects/${PROJECT}/segments/unused`);
    await page.getByRole('button', { name: 'Archive segment' }).click();
    dialog = page.getByRole('dialog', { name: 'Archive segment “unused”?' });
    await dialog.getByRole('button', { name: 'Archive unused' }).click();
    await page.getByRole('heading', { name: /Segments in/ }).waitFor();
    await page.getByRole('link', { name: 'staff', exact: true }).waitFor();
    expect(await page.getByRole('link', { name: 'unused', exact: true }).count()).toBe(0);
    const archived = await service.api<{ archived: boolean }>('GET', `${segments}/unused`);
    expect(archived.archived).toBe(true);
  });

  let secret = '';
  it('creates an API token whose secret is shown once and works against the API', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    await page.locator('tr[data-token]').first().waitFor();
    await page.getByRole('button', { name: 'New token' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API token' });
    await dialog.getByRole('button', { name: 'Create token' }).click();
    await dialog.getByText('say what the token is for').waitFor();
    await dialog.getByLabel('Name (what it is for)').fill('ci deploy');
    await dialog.getByLabel('Role').selectOption('writer');
    await dialog.getByRole('button', { name: 'Create token' }).click();

    const shown = page.getByRole('dialog', { name: 'Token “ci deploy” created' });
    await shown.getByText('you won’t see it again').waitFor();
    secret = await shown.getByLabel(/Secret/).inputValue();
    expect(secret).toMatch(/^api-/);
    await shown.getByRole('button', { name: 'Copy the secret of ci deploy' }).click();
    await page.getByText('Copied the secret of ci deploy').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await screenshot(page, 'token-created-1280');
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    await shown.waitFor({ state: 'detached' });

    const row = page.locator('tr[data-token]').filter({ hasText: 'ci deploy' });
    await row.waitFor();
    expect(await row.textContent()).toContain('writer');
    // The secret appears nowhere once the dialog is closed; only its first characters do.
    expect(await page.content()).not.toContain(secret);
    expect(await row.textContent()).toContain(`${secret.slice(0, 8)}…`);
    const res = await fetch(`${service.url}/api/v1/projects`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(res.status).toBe(200);
  });

  it('offers no token page to a writer token, with a clear message', async () => {
    const { context: ctx, page: p } = await newPage(browser);
    try {
      await p.goto(`${service.url}/#token=${secret}`);
      await p.getByRole('heading', { name: 'Flags', exact: true }).waitFor();
      await p.getByRole('link', { name: 'Audit log' }).waitFor();
      expect(await p.getByRole('link', { name: 'API tokens' }).count()).toBe(0);
      await p.goto(`${service.url}/projects/${PROJECT}/tokens`);
      const alert = p.getByRole('alert').filter({ hasText: 'Only an admin token' });
      await expect.poll(() => alert.textContent(), WAIT).toContain('“ci deploy”, a writer token');
      expect(await p.getByRole('button', { name: 'New token' }).count()).toBe(0);
      await screenshot(p, 'tokens-not-admin-1280');
    } finally {
      await ctx.close();
    }
  });

  it('revokes the token after confirmation, and it is refused from then on', async () => {
    const row = page.locator('tr[data-token-state="active"]').filter({ hasText: 'ci deploy' });
    await row.getByRole('button', { name: 'Revoke ci deploy' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke the token “ci deploy”?' });
    await dialog.getByText(/refused with/).waitFor();
    await dialog.getByRole('button', { name: 'Revoke ci deploy' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('Revoked the token ci deploy').waitFor();
    await expect.poll(() => row.count(), WAIT).toBe(0);
    await page.getByText('Revoked tokens (1)').click();
    await page.locator('tr[data-token-state="revoked"]').filter({ hasText: 'ci deploy' }).waitFor();
    await screenshot(page, 'tokens-1280');
    const res = await fetch(`${service.url}/api/v1/projects`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(res.status).toBe(401);
  });

  it('fits the new pages at 390 px and 1280 px without sideways scrolling', async () => {
    const pages: [string, string, (p: Page) => Promise<unknown>][] = [
      [
        'definition',
        '/flags/banner-color/definition',
        (p) => p.getByRole('group', { name: 'Variation 3' }).waitFor(),
      ],
      ['definition-json', '/flags/layout/definition', (p) => p.getByLabel('Value (JSON)').first().waitFor()],
      ['archived-flags', '/flags?archived=1', (p) => p.getByText('No archived flags.').waitFor()],
      ['tokens', '/tokens', (p) => p.locator('tr[data-token]').first().waitFor()],
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
        // The dialogs too: the archive confirmation and the new-token form.
        await p.goto(`${service.url}/projects/${PROJECT}/flags/base`);
        await p.getByRole('button', { name: 'Archive flag' }).click();
        await p.getByTestId('archive-dependents').waitFor();
        await screenshot(p, `archive-dialog-${width}`);
        expect(await horizontalOverflow(p)).toBe(0);
        await p.keyboard.press('Escape');
        await p.goto(`${service.url}/projects/${PROJECT}/tokens`);
        await p.getByRole('button', { name: 'New token' }).click();
        await p.getByRole('dialog', { name: 'New API token' }).waitFor();
        // Keyboard users land in the form, with a visible focus ring.
        expect(await p.evaluate('document.activeElement.getAttribute("aria-describedby")')).toBe(
          'token-name-problems',
        );
        await p.keyboard.press('Tab');
        const ring = await p.evaluate(
          '(() => { const s = getComputedStyle(document.activeElement); return document.activeElement.matches(":focus-visible") + " " + s.outlineStyle; })()',
        );
        expect(ring).toBe('true solid');
        expect(await horizontalOverflow(p)).toBe(0);
      } finally {
        await ctx.close();
      }
    }
  });
});
