import { Retry } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import { expect } from 'chai';
import { openTestStore, requirePostgres } from './pg-helpers.js';

const HOUR = 3_600_000;

describe('postgres retention', function () {
  before(async function () {
    await requirePostgres(this);
  });

  it('purges finished jobs older than their retention, in batches, and keeps everything else', async function () {
    const clock = new TestClock();
    const t = await openTestStore({ clock, retention: { doneMs: HOUR, cancelledMs: 2 * HOUR, batchSize: 2 } });
    try {
      const adder = t.store.adder();
      const ids = await adder.addJobs(
        Array.from({ length: 8 }, (_, i) => ({ call: { target: 't', method: 'run', args: [i] } })),
      );
      const jobs = await t.store.claimJobs({ queues: ['default'], limit: 6, owner: 'o', leaseMs: 10 * HOUR });
      // 5 done and 1 failed at t0; 1 cancelled at t0; 1 still new.
      await t.store.recordOutcomes([
        ...jobs.slice(0, 5).map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
        {
          kind: 'failed',
          lease: { jobId: jobs[5].id, token: jobs[5].lease.token },
          error: { name: 'Error', message: 'x' },
        },
      ]);
      await t.store.cancelJob(ids[6]);

      clock.advance(HOUR); // exactly the retention: not older than it yet
      expect(await t.store.purgeExpired()).to.deep.equal({ done: 0, failed: 0, cancelled: 0 });
      clock.advance(1);
      expect(await t.store.purgeExpired()).to.deep.equal({ done: 5, failed: 0, cancelled: 0 });
      clock.advance(HOUR);
      expect(await t.store.purgeExpired()).to.deep.equal({ done: 0, failed: 0, cancelled: 1 });
      const left = await t.store.listJobs();
      expect(left.map((j) => [j.id, j.status])).to.deep.equal(
        [
          [jobs[5].id, 'failed'], // no failedMs: kept
          [ids[7], 'new'],
        ].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
      );
    } finally {
      await t.close();
    }
  });

  it('deletes the runs and logs of the jobs it purges, and only theirs', async function () {
    const clock = new TestClock();
    const t = await openTestStore({ clock, retention: { failedMs: HOUR } });
    try {
      const ids = await t.store
        .adder()
        .addJobs(
          [1, 2].map((n) => ({ call: { target: 't', method: 'run', args: [n] }, options: { retry: Retry.none() } })),
        );
      const jobs = await t.store.claimJobs({ queues: ['default'], limit: 2, owner: 'o', leaseMs: 10 * HOUR });
      const lease = (i: number) => ({ jobId: jobs[i].id, token: jobs[i].lease.token });
      const logs = [{ at: clock.now(), level: 'info' as const, message: 'trying' }];
      await t.store.recordOutcomes([{ kind: 'failed', lease: lease(0), error: { name: 'Error', message: 'x' }, logs }]);
      clock.advance(HOUR + 1);
      await t.store.recordOutcomes([{ kind: 'failed', lease: lease(1), error: { name: 'Error', message: 'y' }, logs }]);
      expect(await t.store.purgeExpired()).to.deep.equal({ done: 0, failed: 1, cancelled: 0 });
      const gone = jobs[0].id;
      const kept = jobs[1].id;
      expect(ids.sort()).to.deep.equal([gone, kept].sort());
      const q = (table: string, id: string) =>
        t.store.pool
          .query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t.schema}".${table} WHERE job_id = $1`, [id])
          .then((r) => r.rows[0].n);
      expect([await q('job_runs', gone), await q('job_logs', gone)]).to.deep.equal([0, 0]);
      expect([await q('job_runs', kept), await q('job_logs', kept)]).to.deep.equal([1, 1]);
    } finally {
      await t.close();
    }
  });

  it('rejects retention times that are not positive numbers', async function () {
    let thrown: unknown;
    try {
      await openTestStore({ retention: { doneMs: -5 } });
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error).name).to.equal('InvalidOptionError');
    expect((thrown as Error).message).to.contain('retention.doneMs');
  });
});
