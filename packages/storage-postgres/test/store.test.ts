import { expect } from 'chai';
import pg from 'pg';
import { PostgresJobStore } from '../src/index.js';
import { dropSchema, openTestStore, PG_URL, requirePostgres, uniqueSchema } from './pg-helpers.js';

describe('postgres store without an injected clock', function () {
  before(async function () {
    await requirePostgres(this);
  });

  it("uses the database's now() for runAt, leases and finished times", async function () {
    const t = await openTestStore();
    try {
      const { rows } = await t.store.pool.query<{ now: Date }>('SELECT now() AS now');
      const dbNow = rows[0].now.getTime();
      const id = await t.store.adder().addJob({ target: 't', method: 'run', args: [] });
      const [job] = await t.store.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: 60_000 });
      expect(job.id).to.equal(id);
      // Generous bounds: only that the times come from the server clock and the lease length is added.
      expect(job.runAt.getTime()).to.be.within(dbNow - 60_000, dbNow + 60_000);
      expect(job.lease.expiresAt.getTime() - job.updatedAt.getTime()).to.equal(60_000);
      expect(
        await t.store.recordOutcomes([{ kind: 'done', lease: { jobId: id, token: job.lease.token } }]),
      ).to.deep.equal(['ok']);
      expect((await t.store.getJob(id))!.finishedAt).to.be.instanceOf(Date);
    } finally {
      await t.close();
    }
  });

  it('plans its statements once per connection on a pool it made (generic plans)', async function () {
    // Re-planning the claim on every call cost a fifth of its server time; see GENERIC_PLANS in connection.ts.
    const schema = uniqueSchema('plans');
    const store = await PostgresJobStore.open({
      connection: { connectionString: PG_URL, max: 1 },
      schema,
      notify: false,
    });
    try {
      await store
        .adder()
        .addJobs(Array.from({ length: 40 }, (_, i) => ({ call: { target: 't', method: 'run', args: [i] } })));
      for (let i = 0; i < 8; i++) {
        const jobs = await store.claimJobs({ queues: ['default'], limit: 5, owner: 'o', leaseMs: 60_000 });
        expect(jobs).to.have.length(5);
        await store.recordOutcomes(
          jobs.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
        );
      }
      const { rows } = await store.pool.query<{ name: string; generic_plans: string; custom_plans: string }>(
        'SELECT name, generic_plans, custom_plans FROM pg_prepared_statements',
      );
      const claim = rows.find((r) => r.name.endsWith('_claim'));
      expect(claim, 'the claim was prepared on this connection').to.not.equal(undefined);
      expect(Number(claim!.custom_plans)).to.equal(0);
      expect(Number(claim!.generic_plans)).to.equal(8);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('claims with HOT updates only: no index entry is written per claimed job', async function () {
    // The schema is shaped for this (migration 2): an index on a column the claim writes, or pages
    // without room for the claimed versions, would make this fail.
    const schema = uniqueSchema('hot');
    const store = await PostgresJobStore.open({
      connection: { connectionString: PG_URL, max: 1 },
      schema,
      notify: false,
    });
    const jobs = 300;
    try {
      await store.adder().addJobs(
        Array.from({ length: jobs }, (_, i) => ({
          call: { target: 't', method: 'run', args: [i, 'x'.repeat(i % 50)] },
        })),
      );
      for (let got = 0; got < jobs;) {
        got += (
          await store.claimJobs({ queues: ['default'], limit: 75, owner: 'owner-with-a-longish-name', leaseMs: 60_000 })
        ).length;
      }
    } finally {
      // The claiming backend reports its table counters when it exits (or idles for a second).
      await store.close();
    }
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      let counts = { updated: 0, hot: 0 };
      for (let waited = 0; counts.updated < jobs && waited < 10_000; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
        const { rows } = await client.query<{ updated: string; hot: string }>(
          `SELECT n_tup_upd AS updated, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'jobs'`,
          [schema],
        );
        counts = { updated: Number(rows[0]?.updated ?? 0), hot: Number(rows[0]?.hot ?? 0) };
      }
      expect(counts).to.deep.equal({ updated: jobs, hot: jobs });
    } finally {
      await client.end();
      await dropSchema(schema);
    }
  });

  it('works on a pool it was given, and leaves that pool open on close', async function () {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 3 });
    const schema = uniqueSchema('pool');
    try {
      const store = await PostgresJobStore.open({ connection: pool, schema });
      const id = await store.adder().addJob({ target: 't', method: 'run', args: [1] });
      expect((await store.getJob(id))!.status).to.equal('new');
      await store.close();
      await store.close(); // twice is harmless
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).to.equal(1);
    } finally {
      await pool.end();
      await dropSchema(schema);
    }
  });

  it('two stores in different schemas of one database do not see each other', async function () {
    const a = await openTestStore();
    const b = await openTestStore();
    try {
      await a.store.adder().addJob({ target: 't', method: 'run', args: [] });
      expect(await b.store.claimJobs({ queues: ['default'], limit: 10, owner: 'o', leaseMs: 1000 })).to.have.length(0);
      expect(await a.store.claimJobs({ queues: ['default'], limit: 10, owner: 'o', leaseMs: 1000 })).to.have.length(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
