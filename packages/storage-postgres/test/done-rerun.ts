/**
 * For the tests of an outcome statement re-run after its first try committed (what the store does
 * after a transient error cut the answer off): a store on a test clock with one job claimed and
 * recorded done, and a plain client to run the store's own statements by hand.
 */
import type { ClaimedJob } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import { expect } from 'chai';
import pg from 'pg';
import { buildStatements } from '../src/sql/index.js';
import { openTestStore, PG_URL } from './pg-helpers.js';

const LEASE = 60_000;

export interface DoneJob {
  store: Awaited<ReturnType<typeof openTestStore>>['store'];
  clock: TestClock;
  client: pg.Client;
  job: ClaimedJob;
  /**
   * The ids that recordOutcomes' statement answers when run again for the job's `done` outcome:
   * `retrying` as the store sets it on a retry, `token` the lease's unless given.
   */
  rerunOutcome: (retrying: boolean, token?: string) => Promise<string[]>;
}

/** Runs `test` on a fresh store holding one job already recorded done; closes and drops it after. */
export async function withDoneJob(
  options: { deleteDoneJobs: boolean },
  test: (done: DoneJob) => Promise<void>,
): Promise<void> {
  const clock = new TestClock();
  const t = await openTestStore({ clock, deleteDoneJobs: options.deleteDoneJobs });
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await t.store.adder().addJob({ target: 't', method: 'run', args: [] });
    const [job] = await t.store.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: LEASE });
    expect(
      await t.store.recordOutcomes([{ kind: 'done', lease: { jobId: job.id, token: job.lease.token } }]),
    ).to.deep.equal(['ok']);
    const stmt = buildStatements(t.schema).recordOutcomes;
    const rerunOutcome = async (retrying: boolean, token = job.lease.token) =>
      (
        await client.query<{ id: string }>(stmt.text, [
          clock.now(),
          [job.id],
          [token],
          ['done'],
          [null],
          [null],
          retrying,
          options.deleteDoneJobs,
          null,
          null,
          null,
          false,
        ])
      ).rows.map((r) => r.id);
    await test({ store: t.store, clock, client, job, rerunOutcome });
  } finally {
    await client.end();
    await t.close();
  }
}
