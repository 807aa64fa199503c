import { expect } from 'chai';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startDashboard, type RunningDashboard } from '../src/index.js';
import { launch, requireBrowser, SCREENSHOTS, tearDown } from './browser.js';
import { auth, registry, stores, TOKEN, type Fixture } from './fixtures.js';

async function login(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.fill('input[name=token]', TOKEN);
  await page.click('form.login button[type=submit]');
}

/** Two stores (memory and file) as tenants `alpha` and `beta` of one dashboard. */
describe('dashboard UI with several tenants in a real browser', function () {
  this.timeout(120_000);
  let alpha: Fixture;
  let beta: Fixture;
  let dash: RunningDashboard;
  let b: { browser: BrowserContext; close(): Promise<void> };
  const tenant = (f: Fixture) => ({ admin: f.admin, adder: f.adder, schedules: f.schedules });

  before(async function () {
    requireBrowser(this);
    b = await launch();
    alpha = await stores.find((s) => s.name === 'memory')!.open(this);
    beta = await stores.find((s) => s.name === 'file')!.open(this);
    dash = await startDashboard({
      tenants: { alpha: tenant(alpha), beta: tenant(beta) },
      registry,
      auth,
      port: 0,
      logger: false,
      throughput: false,
    });
  });
  after(() =>
    tearDown([
      ['the dashboard close', () => dash?.close()],
      ['the first store close', () => alpha?.close()],
      ['the second store close', () => beta?.close()],
      ['the browser close', () => b?.close()],
    ]),
  );

  it("switches tenant with the selector, keeps it in the URL, and shows the other store's jobs", async () => {
    const inAlpha = await alpha.adder.addJob(
      { target: 'flaky', method: 'ok', args: [1, new Date(0)] },
      { queue: 'qa' },
    );
    const inBeta = await beta.adder.addJob({ target: 'flaky', method: 'ok', args: [2, new Date(0)] }, { queue: 'qb' });
    const page = await b.browser.newPage();
    try {
      await login(page, `${dash.url}#/jobs`);
      await page.locator(`tr[data-job="${inAlpha}"]`).waitFor();
      // No tenant in the URL: the first one, written into the URL.
      expect(new URL(page.url()).searchParams.get('tenant')).to.equal('alpha');
      const select = page.locator('#tenant');
      expect(await select.isVisible()).to.equal(true);
      expect(await select.locator('option').allTextContents()).to.deep.equal(['alpha', 'beta']);
      expect(await page.locator(`tr[data-job="${inBeta}"]`).count()).to.equal(0);
      await select.selectOption('beta');
      await page.locator(`tr[data-job="${inBeta}"]`).waitFor();
      expect(await page.locator(`tr[data-job="${inAlpha}"]`).count()).to.equal(0);
      const url = new URL(page.url());
      expect(url.searchParams.get('tenant')).to.equal('beta');
      expect(url.hash).to.equal('#/jobs');
      expect(await page.locator('#tenant').inputValue()).to.equal('beta');
      await page.screenshot({ path: join(SCREENSHOTS, 'tenants-beta-jobs.png') });

      // A link to a tenant's job works as is; cancelling there changes that store only.
      await page.goto(`${dash.url}?tenant=beta#/job/${inBeta}`);
      await page.click('#cancel');
      await page.click('#confirm-yes');
      await page.locator('[data-status=cancelled]').waitFor();
      expect((await beta.admin.getJob(inBeta))!.status).to.equal('cancelled');
      expect((await alpha.admin.getJob(inAlpha))!.status).to.equal('new');
      // Switching away from a job's page goes to the other tenant's job list (the id is beta's).
      await page.locator('#tenant').selectOption('alpha');
      await page.locator(`tr[data-job="${inAlpha}"]`).waitFor();
      expect(new URL(page.url()).hash).to.equal('#/jobs');

      await page.goto(`${dash.url}?tenant=gamma#/jobs`);
      await page.locator('#unavailable', { hasText: 'tenant "gamma" is not served here' }).waitFor();
    } finally {
      await page.close();
    }
  });

  it('shows no selector for a single store', async () => {
    const one = await startDashboard({ admin: alpha.admin, auth, port: 0, logger: false, throughput: false });
    const page = await b.browser.newPage();
    try {
      await login(page, `${one.url}#/jobs`);
      await page.locator('#list table').waitFor();
      expect(await page.locator('#tenant').isHidden()).to.equal(true);
      expect(new URL(page.url()).search).to.equal('');
    } finally {
      await page.close();
      await one.close();
    }
  });
});
