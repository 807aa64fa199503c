import { expect } from 'chai';
import type { FastifyInstance } from 'fastify';
import { onFailure, onSuccess, SequenceRegistry, startSequence } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import type { jobDetail, jobSummary } from '../src/display.js';
import type { runSummaryView, runView } from '../src/display-sequences.js';
import { buildDashboard } from '../src/index.js';
import { bearer, dashboardOptions, RO_TOKEN, registry, sleep, stores, TOKEN, type Fixture } from './fixtures.js';

type JobView = ReturnType<typeof jobDetail>;
type RunView = ReturnType<typeof runView>;
type RunList = { runs: ReturnType<typeof runSummaryView>[] };

const ok = (n: number) => ({ target: 'flaky', method: 'ok', args: [n, new Date(0)] });

const sequences = new SequenceRegistry();
sequences.define({
  name: 'etl',
  steps: [
    { name: 'extract', call: ok(1) },
    { name: 'load', call: ok(2), start: onSuccess('extract') },
    { name: 'alert', call: ok(3), start: onFailure('extract') },
  ],
});
sequences.define({ name: 'other', steps: [{ name: 'only', call: ok(4) }] });

// Every store keeps jobs that wait, so the same API tests run on each.
for (const s of stores) {
  describe(`dashboard API: jobs that wait and sequences (${s.name} store)`, function () {
    let f: Fixture;
    let app: FastifyInstance;
    const h = bearer(TOKEN);
    const get = async <T>(url: string, status = 200): Promise<T> => {
      const r = await app.inject({ url, headers: h });
      expect(r.statusCode, `${url}: ${r.body}`).to.equal(status);
      return r.json<T>();
    };

    beforeEach(async function () {
      f = await s.open(this);
      app = await buildDashboard(dashboardOptions(f, { throughput: false }));
    });
    afterEach(async () => {
      await app?.close();
      await f?.close();
    });

    it('lists and shows a waiting job: what it waits for, its parents, priority, key and unique scope; cancels it', async () => {
      const parent = await f.adder.addJob(ok(1));
      const add = await app.inject({
        method: 'POST',
        url: '/api/jobs',
        headers: h,
        payload: {
          ...ok(2),
          after: [{ job: parent, when: 'finished' }],
          priority: 7,
          concurrencyKey: 'tenant-9',
          concurrencyLimit: 2,
          alreadyRunning: 'queue',
          uniqueKey: 'report-9',
          uniqueScope: 'unfinished',
        },
      });
      expect(add.statusCode, add.body).to.equal(201);
      const child = add.json<{ id: string }>().id;

      const page = await get<{ jobs: ReturnType<typeof jobSummary>[] }>('/api/jobs?status=waiting');
      expect(page.jobs.map((j) => [j.id, j.status, j.waitingFor, j.priority])).to.deep.equal([
        [child, 'waiting', 'parents', 7],
      ]);
      const j = await get<JobView>(`/api/jobs/${child}`);
      expect(j).to.deep.include({
        status: 'waiting',
        waitingFor: 'parents',
        priority: 7,
        uniqueKey: 'report-9',
        uniqueScope: 'unfinished',
        sequence: null,
        final: false,
      });
      expect(j.after).to.deep.equal({ rule: 'each', parents: [{ job: parent, when: 'finished' }] });
      expect(j.concurrency).to.deep.equal({ key: 'tenant-9', limit: 2, alreadyRunning: 'queue' });
      // A parent that is not stored is refused before anything is written.
      const bad = await app.inject({
        method: 'POST',
        url: '/api/jobs',
        headers: h,
        payload: { ...ok(3), after: ['00000000-0000-7000-8000-000000000000'] },
      });
      expect(bad.statusCode, bad.body).to.equal(400);
      expect((await get<{ message: string }>('/api/jobs?status=wait', 400)).message).to.contain('waiting');

      const cancel = await app.inject({ method: 'POST', url: `/api/jobs/${child}/cancel`, headers: h });
      expect(cancel.statusCode, cancel.body).to.equal(200);
      expect((await f.admin.getJob(child))!.status).to.equal('cancelled');
      expect((await get<JobView>(`/api/jobs/${child}`)).waitingFor).to.equal(null);
    });

    it('lists sequence runs newest first and by name, shows a run with its steps, and cancels it (not read-only)', async () => {
      const first = await startSequence(f.adder, sequences, 'etl');
      await sleep(5);
      const second = await startSequence(f.adder, sequences, 'etl');
      const other = await startSequence(f.adder, sequences, 'other');

      const all = await get<RunList>('/api/sequences');
      expect(all.runs.map((r) => r.run)).to.deep.equal([other, second, first]);
      const etl = await get<RunList>('/api/sequences?name=etl');
      expect(etl.runs.map((r) => [r.run, r.name, r.status, r.stepCount, r.stepsByStatus])).to.deep.equal([
        [second, 'etl', 'running', 3, { queued: 1, waiting: 2 }],
        [first, 'etl', 'running', 3, { queued: 1, waiting: 2 }],
      ]);
      expect((await get<RunList>('/api/sequences?name=etl&limit=1')).runs).to.have.length(1);

      const run = await get<RunView>(`/api/sequences/${first}`);
      expect(run).to.include({ run: first, name: 'etl', status: 'running', finishedAt: null });
      expect(run.steps.map((x) => [x.step, x.status, x.jobStatus])).to.deep.equal([
        ['extract', 'queued', 'new'],
        ['load', 'waiting', 'waiting'],
        ['alert', 'waiting', 'waiting'],
      ]);
      const extract = run.steps[0].jobId;
      expect(run.steps[1].after).to.deep.equal({
        rule: 'each',
        parents: [{ step: 'extract', job: extract, when: 'succeeded' }],
      });
      // The run's steps are its jobs: the job list filters on them too, and each job names its step.
      const steps = await get<{ jobs: ReturnType<typeof jobSummary>[] }>(`/api/jobs?sequenceRun=${first}`);
      expect(steps.jobs.map((x) => x.sequence)).to.deep.equal(
        ['extract', 'load', 'alert'].map((step) => ({ name: 'etl', run: first, step })),
      );
      expect((await get<{ jobs: unknown[] }>('/api/jobs?sequence=other')).jobs).to.have.length(1);

      const ro = await app.inject({ method: 'POST', url: `/api/sequences/${first}/cancel`, headers: bearer(RO_TOKEN) });
      expect(ro.statusCode).to.equal(403);
      const cancel = await app.inject({ method: 'POST', url: `/api/sequences/${first}/cancel`, headers: h });
      expect(cancel.statusCode, cancel.body).to.equal(200);
      expect(cancel.json<{ cancelled: string[] }>().cancelled.sort()).to.deep.equal(['alert', 'extract', 'load']);
      const after = await get<RunView>(`/api/sequences/${first}`);
      expect(after.status).to.equal('cancelled');
      expect(after.finishedAt).to.be.a('string');
      const again = await app.inject({ method: 'POST', url: `/api/sequences/${first}/cancel`, headers: h });
      expect(again.statusCode).to.equal(409);
      expect((await get<RunView>(`/api/sequences/${second}`)).status).to.equal('running');
      // The bulk action takes the run as a filter too: the other runs are left as they were.
      const bulk = await app.inject({
        method: 'POST',
        url: '/api/jobs/bulk',
        headers: h,
        payload: { action: 'cancel', filter: { sequenceRun: second } },
      });
      // In id order the first step goes first, and its cancel decides its waiting children (the
      // store cancels them as skipped), so they are already final when the bulk reaches them.
      expect(bulk.json()).to.deep.equal({ matched: 3, changed: 1, more: false });
      const bulked = await get<RunView>(`/api/sequences/${second}`);
      expect(bulked.status).to.equal('cancelled');
      expect(bulked.steps.map((x) => x.status)).to.deep.equal(['cancelled', 'skipped', 'skipped']);
      expect((await get<RunView>(`/api/sequences/${other}`)).status).to.equal('running');
      const unknown = '00000000-0000-7000-8000-000000000000';
      await get(`/api/sequences/${unknown}`, 404);
      const none = await app.inject({ method: 'POST', url: `/api/sequences/${unknown}/cancel`, headers: h });
      expect(none.statusCode).to.equal(404);
    });

    it('shows a run an executor ran: the branch taken succeeded, the failure branch skipped, the run succeeded', async () => {
      const shell = new JobExecutorShell({ manager: f.manager, registry, logger: silentLogger });
      shell.startJobQueue('default', { workers: 2 });
      try {
        const id = await startSequence(f.adder, sequences, 'etl');
        let run = await get<RunView>(`/api/sequences/${id}`);
        for (let i = 0; i < 200 && run.status === 'running'; i++) {
          await sleep(50);
          run = await get<RunView>(`/api/sequences/${id}`);
        }
        expect(run.status).to.equal('succeeded');
        expect(run.steps.map((x) => [x.step, x.status])).to.deep.equal([
          ['extract', 'succeeded'],
          ['load', 'succeeded'],
          ['alert', 'skipped'],
        ]);
        expect(run.steps[2].lastError?.name).to.equal('DependencyError');
      } finally {
        await shell.shutdown();
      }
    });

    it("shows and sets a schedule's priority and already-running policy", async () => {
      const created = await app.inject({
        method: 'POST',
        url: '/api/schedules',
        headers: h,
        payload: { name: 'nightly', ...ok(1), cron: '0 3 * * *', priority: 5, alreadyRunning: 'skip' },
      });
      expect(created.statusCode, created.body).to.equal(201);
      expect(created.json()).to.deep.include({
        priority: 5,
        concurrency: { key: 'oddjob.schedule:nightly', limit: 1, alreadyRunning: 'skip' },
      });
      const patched = await app.inject({
        method: 'PATCH',
        url: '/api/schedules/nightly',
        headers: h,
        payload: { priority: -3, alreadyRunning: 'queue' },
      });
      expect(patched.statusCode, patched.body).to.equal(200);
      expect(patched.json()).to.deep.include({
        priority: -3,
        concurrency: { key: 'oddjob.schedule:nightly', limit: 1, alreadyRunning: 'queue' },
      });
    });
  });
}
