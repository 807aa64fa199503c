import { JobNotFoundError, type JobRecord } from '@oddjob/core';
import { expect } from 'chai';
import pg from 'pg';
import { PostgresJobStore } from '../src/index.js';
import { finishedChannelName } from '../src/sql/index.js';
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from './pg-helpers.js';

const call = (n: number) => ({ target: 't', method: 'run', args: [n] });
const LEASE = 60_000;

/** waitForFinalJob's safety poll when the store can wake waiters (core's wait.ts): a waiter resolved sooner was woken. */
const WATCHED_POLL_MS = 5_000;

/** Resolves once `job` is marked waited (the watch's UPDATE ran), read through the test's own connection. */
async function markedWaited(client: pg.Client, schema: string, id: string): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ waited: boolean }>(
      `SELECT waited FROM ${pg.escapeIdentifier(schema)}.jobs WHERE id = $1`,
      [id],
    );
    if (rows[0]?.waited) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('postgres waitForJob', function () {
  let schema: string;
  let waiting: PostgresJobStore;
  let working: PostgresJobStore;
  let observer: pg.Client;
  let heard: string[];

  before(async function () {
    await requirePostgres(this);
  });
  beforeEach(async function () {
    schema = uniqueSchema('wait');
    // Two stores on two pools, as a producer process and an executor process would have.
    waiting = await PostgresJobStore.open({ connection: PG_URL, schema, onBackgroundError: () => undefined });
    working = await PostgresJobStore.open({ connection: PG_URL, schema, onBackgroundError: () => undefined });
    observer = new pg.Client({ connectionString: PG_URL });
    await observer.connect();
    heard = [];
    observer.on('notification', (msg) => {
      if (msg.channel === finishedChannelName(schema)) heard.push(...(msg.payload ?? '').split(','));
    });
    await observer.query(`LISTEN ${pg.escapeIdentifier(finishedChannelName(schema))}`);
  });
  afterEach(async function () {
    await observer?.end();
    await waiting?.close();
    await working?.close();
    if (schema) await dropSchema(schema);
  });

  /** Until `n` ids were heard on the finished channel (delivery is asynchronous); the test's timeout bounds it. */
  async function waitHeard(n: number): Promise<void> {
    while (heard.length < n) await new Promise((r) => setTimeout(r, 10));
  }

  async function expectRejection(p: Promise<unknown>, type: new (...args: never[]) => Error): Promise<void> {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(type);
      return;
    }
    throw new Error('expected a rejection');
  }

  /**
   * Starts waiting for `id` in the waiting store, noting the times of the waiters' job reads (the
   * store batches them into its get_jobs statement, seen here on its pool).
   */
  function startWait(id: string): { done: Promise<JobRecord>; reads: number[] } {
    const reads: number[] = [];
    const pool = waiting.pool as unknown as { query: (config: unknown, ...rest: unknown[]) => unknown };
    const query = pool.query.bind(pool);
    pool.query = (config: unknown, ...rest: unknown[]) => {
      const name = (config as { name?: unknown } | null)?.name;
      if (typeof name === 'string' && name.endsWith('_get_jobs')) reads.push(Date.now());
      return query(config, ...rest);
    };
    return { done: waiting.waitForJob(id, { timeoutMs: 50_000 }), reads };
  }

  it('a waiter in one store is woken by a completion written through another, before its safety poll', async function () {
    const id = await working.adder().addJob(call(1));
    const [job] = await working.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: LEASE });
    const wait = startWait(id);
    await markedWaited(observer, schema, id);
    expect(
      await working.recordOutcomes([
        { kind: 'done', lease: { jobId: id, token: job.lease.token }, result: '{"json":1}' },
      ]),
    ).to.deep.equal(['ok']);
    const final = await wait.done;
    expect(final.status).to.equal('done');
    expect(final.result).to.equal('{"json":1}');
    // The first read saw it running; the second came from the NOTIFY, not from the 5 s poll.
    expect(wait.reads).to.have.length(2);
    expect(wait.reads[1] - wait.reads[0]).to.be.lessThan(WATCHED_POLL_MS);
    expect(heard).to.deep.equal([id]);
  });

  it('wakes waiters on failure, cancel and a lease spent on its last attempt; a purge announces the waited jobs it deletes', async function () {
    const adder = working.adder();
    const failing = await adder.addJob(call(1), { retry: { maxAttempts: 1, backoff: { kind: 'fixed', delayMs: 0 } } });
    const claimed = await working.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: LEASE });
    let wait = startWait(failing);
    await markedWaited(observer, schema, failing);
    await working.recordOutcomes([
      {
        kind: 'failed',
        lease: { jobId: failing, token: claimed[0].lease.token },
        error: { name: 'Error', message: 'no' },
      },
    ]);
    expect((await wait.done).status).to.equal('failed');

    const cancelled = await adder.addJob(call(2), { queue: 'other' });
    wait = startWait(cancelled);
    await markedWaited(observer, schema, cancelled);
    expect(await working.cancelJob(cancelled)).to.equal(true);
    expect((await wait.done).status).to.equal('cancelled');

    const spent = await adder.addJob(call(3), {
      queue: 'spent',
      retry: { maxAttempts: 1, backoff: { kind: 'fixed', delayMs: 0 } },
    });
    await working.claimJobs({ queues: ['spent'], limit: 1, owner: 'dies', leaseMs: 1 });
    wait = startWait(spent);
    await markedWaited(observer, schema, spent);
    await new Promise((r) => setTimeout(r, 5));
    expect(await working.claimJobs({ queues: ['spent'], limit: 1, owner: 'next', leaseMs: LEASE })).to.have.length(0);
    const reaped = await wait.done;
    expect([reaped.status, reaped.lastError!.name]).to.deep.equal(['failed', 'LeaseExpiredError']);

    // A purge announces the jobs it deletes that were waited on (a waiter would wake to JobNotFoundError).
    const unwatched = await adder.addJob(call(4), { queue: 'unwatched' });
    await working.cancelJob(unwatched);
    await waitHeard(3);
    heard = [];
    expect(await working.purgeJobs({ statuses: ['done', 'cancelled', 'failed'] })).to.equal(4);
    await waitHeard(3);
    expect([...heard].sort()).to.deep.equal([failing, cancelled, spent].sort());
    await expectRejection(waiting.waitForJob(failing, { timeoutMs: 1_000 }), JobNotFoundError);
  });

  it('a job nobody waits on sends no NOTIFY, whatever ends it', async function () {
    const adder = working.adder();
    const ids = await adder.addJobs(
      [1, 2, 3, 4].map((n) => ({
        call: call(n),
        options: { retry: { maxAttempts: 2, backoff: { kind: 'fixed', delayMs: 0 } } },
      })),
    );
    const jobs = await working.claimJobs({ queues: ['default'], limit: 4, owner: 'o', leaseMs: LEASE });
    const lease = (id: string) => ({ jobId: id, token: jobs.find((j) => j.id === id)!.lease.token });
    await working.recordOutcomes([{ kind: 'done', lease: lease(ids[0]) }]);
    await working.recordOutcomes([
      { kind: 'failed', lease: lease(ids[1]), error: { name: 'Error', message: 'no' } },
      { kind: 'retry', lease: lease(ids[2]), error: { name: 'Error', message: 'again' }, runAt: new Date() },
      {
        kind: 'done',
        lease: lease(ids[3]),
        logs: [{ at: new Date(), level: 'info', message: 'with a log line: the mixed statement' }],
      },
    ]);
    await working.cancelJob(ids[2]);
    await working.purgeJobs({ statuses: ['done', 'failed', 'cancelled'] });

    // Then one job that is waited on. NOTIFYs arrive in commit order, so by the time its own is
    // heard, any sent for the jobs above would have been heard first.
    const watched = await adder.addJob(call(5), { queue: 'watched' });
    const [w] = await working.claimJobs({ queues: ['watched'], limit: 1, owner: 'o', leaseMs: LEASE });
    const wait = startWait(watched);
    await markedWaited(observer, schema, watched);
    await working.recordOutcomes([{ kind: 'done', lease: { jobId: watched, token: w.lease.token } }]);
    await wait.done;
    await waitHeard(1);
    expect(heard).to.deep.equal([watched]);
  });

  it('a completion announced while the LISTEN connection was down still wakes the waiter once it is back', async function () {
    const app = `oj-wait-${process.pid}-${Date.now()}`;
    const store = await PostgresJobStore.open({
      connection: { connectionString: PG_URL, application_name: app },
      schema,
      onBackgroundError: () => undefined,
    });
    try {
      const id = await working.adder().addJob(call(1));
      const [job] = await working.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: LEASE });
      const reads: number[] = [];
      const pool = store.pool as unknown as { query: (config: unknown, ...rest: unknown[]) => unknown };
      const query = pool.query.bind(pool);
      pool.query = (config: unknown, ...rest: unknown[]) => {
        const name = (config as { name?: unknown } | null)?.name;
        if (typeof name === 'string' && name.endsWith('_get_jobs')) reads.push(Date.now());
        return query(config, ...rest);
      };
      const done = store.waitForJob(id, { timeoutMs: 50_000 });
      await markedWaited(observer, schema, id);
      // Kill the waiter's LISTEN connection, then finish the job before it can reconnect (its first retry waits 100 ms).
      const killed = await observer.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'`,
        [app],
      );
      expect(killed.rowCount).to.equal(1);
      await working.recordOutcomes([{ kind: 'done', lease: { jobId: id, token: job.lease.token } }]);
      expect((await done).status).to.equal('done');
      // Woken by the reconnect (which wakes every waiter), not by the 5 s safety poll.
      expect(reads).to.have.length(2);
      expect(reads[1] - reads[0]).to.be.lessThan(WATCHED_POLL_MS);
    } finally {
      await store.close();
    }
  });

  it('without notify, waiting still works by polling', async function () {
    const polling = await PostgresJobStore.open({ connection: PG_URL, schema, notify: false });
    try {
      const id = await working.adder().addJob(call(1));
      const [job] = await working.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: LEASE });
      const done = polling.waitForJob(id, { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 50));
      await working.recordOutcomes([{ kind: 'done', lease: { jobId: id, token: job.lease.token } }]);
      expect((await done).status).to.equal('done');
      // It never asked to be told, so the completion sent nothing.
      expect(heard).to.deep.equal([]);
    } finally {
      await polling.close();
    }
  });
});
