import { expect } from 'chai';
import pg from 'pg';
import { StorageUnavailableError } from '@oddjob/core';
import { PostgresJobStore } from '../src/index.js';
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from './pg-helpers.js';

const call = (n: number) => ({ target: 't', method: 'run', args: [n] });

/** Resolves with the first queue the listener hears about; the caller unsubscribes. */
function nextWakeUp(store: PostgresJobStore, queue: string): { heard: Promise<string>; stop(): void } {
  let stop = () => undefined as void;
  const heard = new Promise<string>((resolve) => {
    stop = store.onJobsAvailable((q) => q === queue && resolve(q));
  });
  return { heard, stop };
}

/** Whether `p` settles within `ms` (used only to retry a step, never as a pass/fail timing). */
function within<T>(p: Promise<T>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('postgres LISTEN/NOTIFY wake-up', function () {
  let schema: string;
  let listening: PostgresJobStore;
  let producing: PostgresJobStore;
  let backgroundErrors: Error[];
  const app = `oj-listen-${process.pid}-${Date.now()}`;

  before(async function () {
    await requirePostgres(this);
  });
  beforeEach(async function () {
    schema = uniqueSchema('listen');
    // Two stores on two pools: the wake-up has to travel through the database.
    backgroundErrors = [];
    listening = await PostgresJobStore.open({
      connection: { connectionString: PG_URL, application_name: app },
      schema,
      onBackgroundError: (err) => backgroundErrors.push(err),
    });
    producing = await PostgresJobStore.open({ connection: PG_URL, schema });
  });
  afterEach(async function () {
    await listening?.close();
    await producing?.close();
    if (schema) await dropSchema(schema);
  });

  it('an enqueue in one pool wakes a listener of the same queue in another', async function () {
    const wake = nextWakeUp(listening, 'mail');
    await listening.whenListening();
    await producing.adder().addJob(call(1), { queue: 'mail' });
    expect(await wake.heard).to.equal('mail');
    wake.stop();
  });

  it('a job enqueued in a transaction wakes listeners only when it commits', async function () {
    const heard: string[] = [];
    const stop = listening.onJobsAvailable((q) => heard.push(q));
    await listening.whenListening();
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    try {
      const client = await pool.connect();
      await client.query('BEGIN');
      await producing.adder().addJob(call(1), { queue: 'rolled-back', tx: client });
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      const committed = nextWakeUp(listening, 'committed');
      await producing.adder().addJob(call(2), { queue: 'committed', tx: client });
      await client.query('COMMIT');
      client.release();
      await committed.heard;
      committed.stop();
      // NOTIFYs from one session arrive in commit order, so by now the rolled-back one would be here.
      expect(heard).to.not.include('rolled-back');
    } finally {
      stop();
      await pool.end();
    }
  });

  it('does not wake for a job that is not due yet', async function () {
    const heard: string[] = [];
    const stop = listening.onJobsAvailable((q) => heard.push(q));
    await listening.whenListening();
    await producing.adder().addJob(call(1), { queue: 'later', delayMs: 3_600_000 });
    const now = nextWakeUp(listening, 'now');
    await producing.adder().addJob(call(2), { queue: 'now' });
    await now.heard;
    now.stop();
    stop();
    expect(heard).to.not.include('later');
  });

  it('reconnects after its LISTEN connection is killed, and hears enqueues again', async function () {
    const stop = listening.onJobsAvailable(() => undefined);
    await listening.whenListening();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'`,
        [app],
      );
      expect(killed.rowCount).to.equal(1);
    } finally {
      await admin.end();
    }
    // Notifications sent while it is away are lost by design (polling covers them), so keep
    // enqueueing until one is heard: this only ends once the listener is back.
    const wake = nextWakeUp(listening, 'after');
    for (let i = 0; !(await within(wake.heard, 250)); i++) await producing.adder().addJob(call(i), { queue: 'after' });
    wake.stop();
    stop();
    // The loss was told to onBackgroundError as a storage error, the driver's error as its cause.
    const lost = backgroundErrors.find((e) => e.message.includes('LISTEN connection lost'));
    expect(lost, backgroundErrors.map((e) => e.message).join('; ')).to.be.instanceOf(StorageUnavailableError);
    expect((lost as StorageUnavailableError).cause).to.be.instanceOf(Error);
  });

  it('an idle pooled connection killed by the server is told to onBackgroundError as a StorageUnavailableError', async function () {
    await listening.countJobs(); // leaves an idle connection in the pool
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle' AND query NOT ILIKE 'LISTEN%'`,
        [app],
      );
    } finally {
      await admin.end();
    }
    for (let i = 0; i < 100 && !backgroundErrors.some((e) => e.message.includes('idle connection lost')); i++)
      await new Promise((r) => setTimeout(r, 20));
    const lost = backgroundErrors.find((e) => e.message.includes('idle connection lost'));
    expect(lost, backgroundErrors.map((e) => e.message).join('; ')).to.be.instanceOf(StorageUnavailableError);
    expect((lost as StorageUnavailableError).cause).to.be.instanceOf(Error);
    expect(await listening.countJobs(), 'the next call gets a fresh connection').to.deep.equal([]);
  });

  it('wakes for jobs given back at shutdown (released)', async function () {
    await producing.adder().addJob(call(1), { queue: 'handover' });
    const [job] = await producing.claimJobs({ queues: ['handover'], limit: 1, owner: 'leaving', leaseMs: 60_000 });
    const wake = nextWakeUp(listening, 'handover');
    await listening.whenListening();
    expect(
      await producing.recordOutcomes([{ kind: 'released', lease: { jobId: job.id, token: job.lease.token } }]),
    ).to.deep.equal(['ok']);
    expect(await wake.heard).to.equal('handover');
    wake.stop();
  });
});
