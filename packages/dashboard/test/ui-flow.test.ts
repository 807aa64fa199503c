import { expect } from 'chai';
import { onFailure, onSuccess, SequenceRegistry, startSequence } from '@oddjob/core';
import type { BrowserContext, Page } from 'playwright-core';
import { join } from 'node:path';
import { startDashboard, type RunningDashboard } from '../src/index.js';
import { launch, requireBrowser, SCREENSHOTS, tearDown } from './browser.js';
import { dashboardOptions, stores, TOKEN, type Fixture } from './fixtures.js';

const ok = (n: number) => ({ target: 'flaky', method: 'ok', args: [n, new Date(0)] });

const sequences = new SequenceRegistry();
sequences.define({
  name: 'nightly-etl',
  steps: [
    { name: 'extract', call: ok(1) },
    { name: 'load', call: ok(2), start: onSuccess('extract') },
    { name: 'alert', call: ok(3), start: onFailure('extract') },
  ],
});

async function login(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.fill('input[name=token]', TOKEN);
  await page.click('form.login button[type=submit]');
}

// No executor runs here: the jobs stay where they were added (a parent new, its child waiting), so
// the page is read while they wait. The memory store is the one that keeps jobs that wait today.
for (const s of stores.filter((x) => x.name === 'memory')) {
  describe(`dashboard UI: waiting jobs and sequences in a real browser (${s.name} store)`, function () {
    this.timeout(120_000);
    let f: Fixture;
    let dash: RunningDashboard;
    let b: { browser: BrowserContext; close(): Promise<void> };

    before(async function () {
      requireBrowser(this);
      b = await launch();
    });
    after(async () => b?.close());
    beforeEach(async function () {
      f = await s.open(this);
      dash = await startDashboard(dashboardOptions(f, { port: 0, throughput: false }));
    });
    afterEach(() =>
      tearDown([
        ['the dashboard close', () => dash?.close()],
        ['the store close', () => f?.close()],
      ]),
    );

    it('lists a waiting job, shows what it waits for with its parent linked, and the parent opens from there', async () => {
      const parent = await f.adder.addJob(ok(1));
      const child = await f.adder.addJob(ok(2), {
        after: [parent],
        priority: 4,
        concurrencyKey: 'acct-1',
        uniqueKey: 'child-1',
        uniqueScope: 'queued',
      });
      const page = await b.browser.newPage();
      try {
        await login(page, `${dash.url}#/overview`);
        await page.locator('a.card[data-count=waiting] b', { hasText: '1' }).waitFor();
        await page.goto(`${dash.url}#/jobs?status=waiting`);
        const row = page.locator(`tr[data-job="${child}"]`);
        await row.waitFor();
        expect(await row.locator('[data-status=waiting]').count()).to.equal(1);
        expect(await page.locator('tr[data-job]').count()).to.equal(1);
        await row.locator('a').click();
        await page.locator('#parents').waitFor();
        expect(await page.locator('#waiting-for').textContent()).to.equal('for its parents');
        expect(await page.locator('#priority').textContent()).to.equal('4');
        expect(await page.locator('#concurrency').textContent())
          .to.contain('acct-1')
          .and.contain('queue');
        expect(await page.locator('#unique-scope').textContent()).to.contain('queued');
        const link = page.locator(`#parents tr[data-parent="${parent}"]`);
        expect(await link.locator('.when').textContent()).to.equal('succeeded');
        expect(await page.locator('#cancel').count()).to.equal(1);
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-waiting-job.png`), fullPage: true });
        await link.locator('a').click();
        await page.locator('h2', { hasText: parent }).waitFor();
        await page.locator('[data-status=new]').waitFor();
      } finally {
        await page.close();
      }
    });

    it('lists sequence runs, shows a run with its steps and their parents, links steps to jobs, and cancels the run', async () => {
      await f.adder.addJob(ok(9)); // not a step: the run's job list must leave it out
      const run = await startSequence(f.adder, sequences, 'nightly-etl');
      const page = await b.browser.newPage();
      try {
        await login(page, `${dash.url}#/overview`);
        await page.click('header nav a[href="#/sequences"]');
        const row = page.locator(`#runs tr[data-run="${run}"]`);
        await row.waitFor();
        expect(await row.locator('.run-status').textContent()).to.equal('running');
        expect(await row.textContent())
          .to.contain('nightly-etl')
          .and.contain('1 queued, 2 waiting');
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-sequences.png`) });
        await row.locator(`a[href="#/sequence/${run}"]`).click();
        await page.locator('#steps tr[data-step=load]').waitFor();
        const rows = page.locator('#steps tr[data-step]');
        const steps: Array<Array<string | null>> = [];
        for (let i = 0; i < (await rows.count()); i++)
          steps.push([await rows.nth(i).getAttribute('data-step'), await rows.nth(i).getAttribute('data-status')]);
        expect(steps).to.deep.equal([
          ['extract', 'queued'],
          ['load', 'waiting'],
          ['alert', 'waiting'],
        ]);
        const loadParents = page.locator('#steps tr[data-step=load] .parents');
        expect(await loadParents.textContent()).to.equal('extract succeeded');
        expect(await page.locator('#steps tr[data-step=alert] .parents').textContent()).to.equal('extract failed');
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-sequence-run.png`), fullPage: true });

        // A step's job names its run, and links back to it.
        await page.locator('#steps tr[data-step=load] a.job-link').click();
        await page.locator('#sequence').waitFor();
        expect(await page.locator('#sequence').textContent()).to.equal('nightly-etl step load');
        expect(await page.locator('#parents tr[data-parent] a').textContent()).to.be.a('string');
        await page.locator('#sequence a').click();
        await page.locator('#run-jobs').click();
        await page.locator('tr[data-job]').nth(2).waitFor();
        expect(await page.locator('tr[data-job]').count()).to.equal(3);
        await page.goBack();
        await page.locator('#cancel-run').click();
        await page.click('#confirm-yes');
        await page.locator('#run-status [data-status=cancelled]').waitFor();
        expect(await page.locator('#cancel-run').count()).to.equal(0);
        const after = await f.admin.listJobs({ sequenceRun: run });
        expect(after.map((j) => j.status)).to.deep.equal(['cancelled', 'cancelled', 'cancelled']);
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-sequence-cancelled.png`), fullPage: true });
      } finally {
        await page.close();
      }
    });
  });
}
