import { TestClock } from '@oddjob/core/testing';
import { expect } from 'chai';
import pg from 'pg';
import { buildStatements } from '../src/sql/index.js';
import { withDoneJob } from './done-rerun.js';
import { openTestStore, PG_URL, requirePostgres } from './pg-helpers.js';

const LEASE = 60_000;

async function terminate(applicationName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [applicationName],
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe('postgres connection loss', function () {
  before(async function () {
    await requirePostgres(this);
  });

  it('recovers from backends terminated mid-use and loses no job', async function () {
    const app = `oj-loss-${process.pid}-${Date.now()}`;
    const clock = new TestClock();
    const t = await openTestStore({
      clock,
      connection: { connectionString: PG_URL, application_name: app, max: 4 },
      transientRetry: { maxAttempts: 20, baseDelayMs: 10, maxDelayMs: 100 },
    });
    try {
      const total = 600;
      const adder = t.store.adder();
      const ids: string[] = [];
      for (let i = 0; i < total; i += 50) {
        ids.push(
          ...(await adder.addJobs(
            Array.from({ length: 50 }, (_, k) => ({ call: { target: 't', method: 'run', args: [i + k] } })),
          )),
        );
      }
      let lost = 0;
      let killedBackends = 0;
      const worker = async (owner: string) => {
        for (;;) {
          const jobs = await t.store.claimJobs({ queues: ['default'], limit: 20, owner, leaseMs: LEASE });
          if (jobs.length === 0) return;
          const results = await t.store.recordOutcomes(
            jobs.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
          );
          lost += results.filter((r) => r === 'lease-lost').length;
        }
      };
      const killer = async () => {
        for (let round = 0; round < 5; round++) {
          await new Promise((r) => setTimeout(r, 15));
          killedBackends += await terminate(app);
        }
      };
      await Promise.all([worker('w1'), worker('w2'), worker('w3'), killer()]);
      expect(killedBackends, 'the test must really have cut connections').to.be.greaterThan(0);
      // A claim whose answer died with its connection leaves jobs processing under a lease nobody
      // holds; they come back when that lease expires, as after an executor crash.
      clock.advance(LEASE + 1);
      await worker('after-expiry');
      const counts = await t.store.countJobs();
      expect(counts).to.deep.equal([{ queue: 'default', status: 'done', count: total }]);
      expect(lost, 'outcomes retried after a dropped connection are recognised, not reported lost').to.equal(0);
      const stored = await t.store.listJobs({ limit: total + 1 });
      expect(stored.map((j) => j.id).sort()).to.deep.equal([...ids].sort());
    } finally {
      await t.close();
    }
  });

  for (const deleteDoneJobs of [false, true]) {
    it(`a done-only batch re-run after its first try committed is answered as applied (deleteDoneJobs ${deleteDoneJobs})`, async function () {
      // The store's path for batches of only `done` outcomes (sql/record-done.ts) keeps the same promise.
      await withDoneJob({ deleteDoneJobs }, async ({ store, clock, client, job }) => {
        const stmt = buildStatements(store.schema).recordDone;
        const run = async (token: string, retrying: boolean) =>
          (
            await client.query<{ missed: string | null }>(stmt.text, [
              clock.now(),
              job.id,
              token,
              retrying,
              deleteDoneJobs,
              null,
              false,
            ])
          ).rows[0].missed;
        // The statement answers the outcomes it did not apply: none (NULL) when the re-run is recognised.
        expect(await run(job.lease.token, true)).to.equal(null);
        expect(await run(job.lease.token, false)).to.equal(job.id);
        // Someone else's token is refused while the row exists; a deleted row keeps no token to compare.
        if (!deleteDoneJobs) expect(await run('00000000-0000-4000-8000-000000000000', true)).to.equal(job.id);
      });
    });
  }

  it('an outcome re-run after its first try committed is answered as applied, not lost', async function () {
    await withDoneJob({ deleteDoneJobs: false }, async ({ store, job, rerunOutcome }) => {
      // The same statement again, as the store runs it after a transient error (retrying = true)...
      expect(await rerunOutcome(true)).to.deep.equal([job.id]);
      // ...and on a first try, or with someone else's token, it is refused.
      expect(await rerunOutcome(false)).to.deep.equal([]);
      expect(await rerunOutcome(true, 'other-token')).to.deep.equal([]);
      expect((await store.getJob(job.id))!.status).to.equal('done');
    });
  });

  it('an enqueue re-run after its first try committed answers the same id and stores one job', async function () {
    const t = await openTestStore();
    try {
      const job = {
        id: '01890a5d-ac96-774b-bcce-b302099a8057',
        queue: 'default',
        target: 't',
        method: 'run',
        args: '{"json":[]}',
        runAt: null,
        retry: { maxAttempts: 1, backoff: { kind: 'fixed' as const, delayMs: 0 } },
        metadata: {},
        uniqueKey: 'once',
        pinnedHost: null,
        uniqueScope: 'stored' as const,
        priority: 0,
        after: null,
        concurrency: null,
        sequence: null,
      };
      expect(await t.store.insertJobs([job])).to.deep.equal([job.id]);
      expect(await t.store.insertJobs([job])).to.deep.equal([job.id]);
      expect(await t.store.listJobs()).to.have.length(1);
    } finally {
      await t.close();
    }
  });
});
