import { expect } from 'chai';
import { Retry } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import pg from 'pg';
import { withDoneJob } from './done-rerun.js';
import { PG_URL, openTestStore, requirePostgres } from './pg-helpers.js';

const LEASE = 60_000;

describe('postgres: deleteDoneJobs', function () {
  before(async function () {
    await requirePostgres(this);
  });

  it('deletes a job as it completes, keeps failed jobs and jobs with a unique key, and still fences', async function () {
    const clock = new TestClock();
    const t = await openTestStore({ clock, deleteDoneJobs: true });
    try {
      const adder = t.store.adder();
      const plain = await adder.addJob({ target: 't', method: 'run', args: [1] });
      const keyed = await adder.addJob({ target: 't', method: 'run', args: [2] }, { uniqueKey: 'schedule:x:2030' });
      const failing = await adder.addJob({ target: 't', method: 'run', args: [3] }, { retry: Retry.none() });
      const fenced = await adder.addJob({ target: 't', method: 'run', args: [4] });
      const jobs = await t.store.claimJobs({ queues: ['default'], limit: 10, owner: 'o', leaseMs: LEASE });
      const lease = (id: string) => ({ jobId: id, token: jobs.find((j) => j.id === id)!.lease.token });
      const results = await t.store.recordOutcomes([
        { kind: 'done', lease: lease(plain) },
        { kind: 'done', lease: lease(keyed) },
        { kind: 'failed', lease: lease(failing), error: { name: 'Error', message: 'no' } },
        { kind: 'done', lease: { jobId: fenced, token: 'not-the-token' } },
      ]);
      expect(results).to.deep.equal(['ok', 'ok', 'ok', 'lease-lost']);
      expect(await t.store.getJob(plain)).to.equal(null);
      expect((await t.store.getJob(keyed))!.status).to.equal('done');
      expect(await adder.addJob({ target: 't', method: 'run', args: [5] }, { uniqueKey: 'schedule:x:2030' })).to.equal(
        keyed,
      );
      expect((await t.store.getJob(failing))!.status).to.equal('failed');
      expect((await t.store.getJob(fenced))!.status).to.equal('processing');
    } finally {
      await t.close();
    }
  });

  it('a done outcome re-run after its first try deleted the row is answered as applied', async function () {
    await withDoneJob({ deleteDoneJobs: true }, async ({ job, rerunOutcome }) => {
      expect(await rerunOutcome(true)).to.deep.equal([job.id]);
      expect(await rerunOutcome(false)).to.deep.equal([]);
    });
  });

  it('a job deleted at completion takes its runs and logs with it, whichever way it got them', async function () {
    const clock = new TestClock();
    const t = await openTestStore({ clock, deleteDoneJobs: true });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const left = async () =>
      (
        await client.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM ${pg.escapeIdentifier(t.schema)}.job_runs)::int + (SELECT count(*) FROM ${pg.escapeIdentifier(t.schema)}.job_logs)::int AS n`,
        )
      ).rows[0].n;
    const line = (message: string) => ({ at: clock.now(), level: 'info' as const, message });
    const claimOne = async (queue: string, leaseMs = LEASE) =>
      (await t.store.claimJobs({ queues: [queue], limit: 1, owner: 'o', leaseMs }))[0];
    const lease = (j: { id: string; lease: { token: string } }) => ({ jobId: j.id, token: j.lease.token });
    try {
      const adder = t.store.adder();
      const retry = Retry.fixed(3, 0);
      // retried, then done: a run, attempts 2
      await adder.addJob({ target: 't', method: 'run', args: [1] }, { queue: 'retried', retry });
      let j = await claimOne('retried');
      await t.store.recordOutcomes([
        { kind: 'retry', lease: lease(j), error: { name: 'Error', message: 'x' }, runAt: clock.now() },
      ]);
      j = await claimOne('retried');
      expect(await t.store.recordOutcomes([{ kind: 'done', lease: lease(j) }])).to.deep.equal(['ok']);
      // released at attempt 1, then done at attempt 1: a run, attempts 1
      await adder.addJob({ target: 't', method: 'run', args: [2] }, { queue: 'released', retry });
      j = await claimOne('released');
      await t.store.recordOutcomes([{ kind: 'released', lease: lease(j) }]);
      j = await claimOne('released');
      await t.store.recordOutcomes([{ kind: 'done', lease: lease(j) }]);
      // logged while running, done first time: lines only
      await adder.addJob({ target: 't', method: 'run', args: [3] }, { queue: 'logged', retry });
      j = await claimOne('logged');
      await t.store.appendLogs([{ lease: lease(j), lines: [line('a'), line('b')] }]);
      await t.store.recordOutcomes([{ kind: 'done', lease: lease(j) }]);
      // lost its lease, taken over, done: a lease-lost run written by the claim
      await adder.addJob({ target: 't', method: 'run', args: [4] }, { queue: 'taken', retry });
      await claimOne('taken', 1_000);
      clock.advance(1_001);
      j = await claimOne('taken');
      await t.store.recordOutcomes([{ kind: 'done', lease: lease(j) }]);
      // failed, requeued (attempts back to 0), done first time: the failed run
      await adder.addJob({ target: 't', method: 'run', args: [5] }, { queue: 'requeued', retry: Retry.none() });
      j = await claimOne('requeued');
      await t.store.recordOutcomes([{ kind: 'failed', lease: lease(j), error: { name: 'Error', message: 'x' } }]);
      expect(await t.store.requeueJob(j.id)).to.equal(true);
      j = await claimOne('requeued');
      await t.store.recordOutcomes([{ kind: 'done', lease: lease(j), logs: [line('with the outcome')] }]);
      expect(await t.store.countJobs()).to.deep.equal([]);
      expect(await left()).to.equal(0);
    } finally {
      await client.end();
      await t.close();
    }
  });

  it('refuses a non-boolean deleteDoneJobs', async function () {
    let thrown: unknown;
    try {
      await openTestStore({ deleteDoneJobs: 'yes' as unknown as boolean });
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).message).to.contain('deleteDoneJobs');
  });
});
