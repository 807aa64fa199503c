import { expect } from 'chai';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { Retry } from '@oddjob/core';
import type { BrowserContext, Page } from 'playwright-core';
import { join } from 'node:path';
import { startDashboard, type RunningDashboard } from '../src/index.js';
import { launch, requireBrowser, SCREENSHOTS, tearDown } from './browser.js';
import { dashboardOptions, Flaky, Reporter, registry, RO_TOKEN, stores, TOKEN, type Fixture } from './fixtures.js';

async function login(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.fill('input[name=token]', token);
  await page.click('form.login button[type=submit]');
}

async function confirm(page: Page): Promise<void> {
  await page.click('#confirm-yes');
}

for (const s of stores.filter((x) => x.name !== 'postgres')) {
  describe(`dashboard UI in a real browser (${s.name} store)`, function () {
    this.timeout(120_000);
    let f: Fixture;
    let dash: RunningDashboard;
    let shell: JobExecutorShell;
    let b: { browser: BrowserContext; close(): Promise<void> };

    before(async function () {
      requireBrowser(this);
      b = await launch();
    });
    after(async () => b?.close());
    beforeEach(async function () {
      f = await s.open(this);
      Flaky.healed = false;
      dash = await startDashboard(dashboardOptions(f, { port: 0, throughput: { intervalMs: 500 } }));
      shell = new JobExecutorShell({ manager: f.manager, registry, logger: silentLogger });
      shell.startJobQueue('default', { workers: 2 });
    });
    afterEach(() =>
      tearDown([
        ['the executor shutdown', () => shell?.shutdown()],
        ['the dashboard close', () => dash?.close()],
        ['the store close', () => f?.close()],
      ]),
    );

    it('lists a failed job, shows its error and stack, and Retry makes it run and turn done live', async () => {
      const id = await f.adder.addJob(
        { target: 'flaky', method: 'fail', args: ['first try'] },
        { retry: Retry.none() },
      );
      for (let i = 0; i < 200 && (await f.admin.getJob(id))!.status !== 'failed'; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await f.admin.getJob(id))!.status).to.equal('failed');
      const page = await b.browser.newPage();
      try {
        await login(page, `${dash.url}#/jobs?status=failed`, TOKEN);
        const row = page.locator(`tr[data-job="${id}"]`);
        await row.waitFor();
        expect(await row.locator('.error').textContent()).to.contain('boom: first try');
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-failed-list.png`) });
        await row.locator('a').click();
        await page.locator('#stack').waitFor();
        expect(await page.locator('#error').textContent()).to.contain('Error: boom: first try');
        expect(await page.locator('#stack').textContent()).to.contain('at ');
        expect(await page.locator('#args').textContent()).to.contain('first try');
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-failed-detail.png`) });
        Flaky.healed = true;
        await page.click('#retry');
        await confirm(page);
        // No reload: the page polls and must show done by itself.
        await page.locator('[data-status=done]').waitFor({ timeout: 20_000 });
        expect((await f.admin.getJob(id))!.status).to.equal('done');
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-retried-done.png`) });
      } finally {
        await page.close();
      }
    });

    it("shows a job that retried then succeeded (both runs, its log, its result), tails a running job's log live, and lists the running executor", async () => {
      const id = await f.adder.addJob(
        { target: 'reporter', method: 'compute', args: ['sum'] },
        { retry: Retry.fixed(2, 10) },
      );
      await f.admin.waitForJob(id, { timeoutMs: 30_000 });
      const page = await b.browser.newPage();
      try {
        await login(page, `${dash.url}#/job/${id}`, TOKEN);
        await page.locator('#runs-table tr[data-run="2"][data-state=done]').waitFor();
        const rows = page.locator('#runs-table tr[data-run]');
        const runs: Array<Array<string | null>> = [];
        for (let i = 0; i < (await rows.count()); i++) {
          const row = rows.nth(i);
          runs.push([
            await row.getAttribute('data-run'),
            await row.getAttribute('data-state'),
            await row.locator('.error').textContent(),
          ]);
        }
        expect(runs).to.deep.equal([
          ['1', 'retry', 'Error: first attempt of sum fails'],
          ['2', 'done', ''],
        ]);
        expect(await page.locator('#runs-table tr[data-run="2"]').textContent()).to.contain(shell.owner);
        await page.locator('#log tr.log-line').nth(2).waitFor();
        const log = await page.locator('#log tr.log-line td.message').allTextContents();
        expect(log).to.deep.equal(['attempt 1 of sum', 'attempt 2 of sum', 'second attempt sum']);
        const result = JSON.parse((await page.locator('#result').textContent())!) as unknown;
        expect(result).to.deep.equal({
          label: 'sum',
          when: { $date: '1970-01-01T00:00:00.000Z' },
          big: { $bigint: '12345678901234567890' },
        });
        expect(await page.locator('#progress-message').textContent()).to.equal('half of sum');
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-job-history.png`), fullPage: true });

        // A running job: its log grows on the page by itself, and the tail ends with the job. The
        // label looks like markup: shown as text, it proves the log is escaped.
        const open = Reporter.hold();
        const slow = await f.adder.addJob({ target: 'reporter', method: 'slow', args: ['<b>tail</b>'] });
        await page.goto(`${dash.url}#/job/${slow}`);
        await page.locator('#log td.message', { hasText: 'waiting <b>tail</b>' }).waitFor({ timeout: 20_000 });
        await page.locator('#progress-message', { hasText: 'waiting at the gate' }).waitFor();
        expect(await page.locator('#log-state').textContent()).to.equal('(following)');
        expect(await page.locator('#runs-table tr[data-run="1"]').getAttribute('data-state')).to.equal('running');
        open();
        await page.locator('#log td.message', { hasText: 'released <b>tail</b>' }).waitFor({ timeout: 20_000 });
        await page.locator('[data-status=done]').waitFor({ timeout: 20_000 });
        await page.locator('#log-state', { hasText: '(complete)' }).waitFor();
        expect(await page.locator('#log tr.log-line td.message').allTextContents()).to.deep.equal([
          'waiting <b>tail</b>',
          'released <b>tail</b>',
        ]);
        expect(await page.locator('#log b').count()).to.equal(0);

        await page.click('header nav a[data-feature=executors]');
        const row = page.locator(`tr[data-executor="${shell.owner}"]`);
        await row.waitFor();
        expect(await row.locator('.state').textContent()).to.equal('running');
        expect(await row.locator('.queues').textContent()).to.equal('default×2');
        expect(await row.getAttribute('class')).to.not.contain('stale');
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-executors.png`) });
      } finally {
        await page.close();
      }
    });

    it('pauses and resumes a schedule', async () => {
      await f.schedules.create(
        'nightly',
        { target: 'flaky', method: 'ok', args: [1, new Date(0)] },
        { cron: '0 3 * * *' },
      );
      const page = await b.browser.newPage();
      try {
        await login(page, `${dash.url}#/schedules`, TOKEN);
        const row = page.locator('tr[data-schedule=nightly]');
        await row.locator('button[data-do=pause]').click();
        await confirm(page);
        await row.locator('.state', { hasText: 'paused' }).waitFor();
        expect((await f.schedules.get('nightly'))!.paused).to.equal(true);
        await page.screenshot({ path: join(SCREENSHOTS, `${s.name}-schedule-paused.png`) });
        await row.locator('button[data-do=resume]').click();
        await confirm(page);
        await row.locator('.state', { hasText: 'active' }).waitFor();
        expect((await f.schedules.get('nightly'))!.paused).to.equal(false);
      } finally {
        await page.close();
      }
    });

    it('a read-only user cannot retry, and an unauthenticated request is refused', async () => {
      const id = await f.adder.addJob({ target: 'flaky', method: 'fail', args: ['ro'] }, { retry: Retry.none() });
      for (let i = 0; i < 200 && (await f.admin.getJob(id))!.status !== 'failed'; i++)
        await new Promise((r) => setTimeout(r, 50));
      const page = await b.browser.newPage();
      try {
        await login(page, `${dash.url}#/job/${id}`, RO_TOKEN);
        await page.locator('#retry').waitFor();
        expect(await page.locator('#retry').isDisabled()).to.equal(true);
        expect(await page.locator('#user').textContent()).to.contain('read-only');
        // Even past the disabled button, the server refuses.
        const status = await page.evaluate(
          async (u) =>
            (
              await fetch(u, {
                method: 'POST',
                headers: {
                  authorization: (
                    globalThis as unknown as { sessionStorage: { getItem(k: string): string } }
                  ).sessionStorage.getItem('oddjob-auth'),
                },
              })
            ).status,
          `${dash.url}api/jobs/${id}/retry`,
        );
        expect(status).to.equal(403);
        expect((await f.admin.getJob(id))!.status).to.equal('failed');
        const anon = await page.evaluate(async (u) => (await fetch(u)).status, `${dash.url}api/jobs`);
        expect(anon).to.equal(401);
        const fresh = await b.browser.newPage();
        await fresh.goto(dash.url);
        await fresh.locator('form.login').waitFor();
        await fresh.screenshot({ path: join(SCREENSHOTS, `${s.name}-login.png`) });
        await fresh.close();
      } finally {
        await page.close();
      }
    });
  });
}
