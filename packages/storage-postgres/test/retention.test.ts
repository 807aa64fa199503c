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
      const ids = await adder.addJobs(Array.from({ length: 8 }, (_, i) => ({ call: { target: 't', method: 'run', args: [i] } })));
      const jobs = await t.store.getJobs({ queues: ['default'], limit: 6, owner: 'o', leaseMs: 10 * HOUR });
      // 5 done and 1 failed at t0; 1 cancelled at t0; 1 still new.
      await t.store.recordOutcomes([
        ...jobs.slice(0, 5).map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
        { kind: 'failed', lease: { jobId: jobs[5]!.id, token: jobs[5]!.lease.token }, error: { name: 'Error', message: 'x' } },
      ]);
      await t.store.cancelJob(ids[6]!);

      clock.advance(HOUR); // exactly the retention: not older than it yet
      expect(await t.store.purgeExpired()).to.deep.equal({ done: 0, failed: 0, cancelled: 0 });
      clock.advance(1);
      expect(await t.store.purgeExpired()).to.deep.equal({ done: 5, failed: 0, cancelled: 0 });
      clock.advance(HOUR);
      expect(await t.store.purgeExpired()).to.deep.equal({ done: 0, failed: 0, cancelled: 1 });
      const left = await t.store.listJobs();
      expect(left.map((j) => [j.id, j.status])).to.deep.equal([
        [jobs[5]!.id, 'failed'], // no failedMs: kept
        [ids[7]!, 'new'],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
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
