import { expect } from 'chai';
import { Retry } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import pg from 'pg';
import { buildStatements } from '../src/sql/index.js';
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
      const jobs = await t.store.getJobs({ queues: ['default'], limit: 10, owner: 'o', leaseMs: LEASE });
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
      expect(await adder.addJob({ target: 't', method: 'run', args: [5] }, { uniqueKey: 'schedule:x:2030' })).to.equal(keyed);
      expect((await t.store.getJob(failing))!.status).to.equal('failed');
      expect((await t.store.getJob(fenced))!.status).to.equal('processing');
    } finally {
      await t.close();
    }
  });

  it('a done outcome re-run after its first try deleted the row is answered as applied', async function () {
    const clock = new TestClock();
    const t = await openTestStore({ clock, deleteDoneJobs: true });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await t.store.adder().addJob({ target: 't', method: 'run', args: [] });
      const [job] = await t.store.getJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: LEASE });
      expect(await t.store.recordOutcomes([{ kind: 'done', lease: { jobId: job!.id, token: job!.lease.token } }])).to.deep.equal(['ok']);
      const stmt = buildStatements(t.schema).recordOutcomes;
      const values = (retrying: boolean) => [clock.now(), [job!.id], [job!.lease.token], ['done'], [null], [null], retrying, true];
      expect((await client.query(stmt.text, values(true))).rows.map((r) => r.id)).to.deep.equal([job!.id]);
      expect((await client.query(stmt.text, values(false))).rows).to.have.length(0);
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
