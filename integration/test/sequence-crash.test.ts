import 'reflect-metadata';
import { getSequenceRun, listSequenceRuns, sequenceJob, type SequenceRun } from '@oddjob/core';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { expect } from 'chai';
import type pg from 'pg';
import { SEQUENCE_QUEUE } from './fixtures/crash-sequence.js';
import { registry } from './fixtures/recording-job.js';
import type { WorkerConfig } from './fixtures/worker.js';
import { adminPool, dropSchema, PG_URL, requirePostgres, uniqueSchema } from './pg.js';
import { waitFor } from './wait.js';
import { killAll, startWorkers, waitReady, stopGracefully, type WorkerProcess } from './workers.js';

/**
 * A sequence run survives the death of the process running one of its steps: the store holds the
 * whole run (its steps and their dependencies), so another executor process picks the step up when
 * its lease expires, and the store releases the next step when it ends. Needs a PostgreSQL store
 * that implements dependencies (JobOptions.after).
 */
describe('a sequence on PostgreSQL, its executor killed mid-step (worker processes)', function () {
  let admin: pg.Pool;
  let workers: WorkerProcess[] = [];
  let store: PostgresJobStore | null = null;
  let schema: string | null = null;

  before(async function () {
    await requirePostgres(this);
    admin = adminPool();
  });

  after(async function () {
    await admin?.end();
  });

  afterEach(async function () {
    await killAll(workers);
    workers = [];
    await store?.close();
    store = null;
    if (schema !== null) await dropSchema(admin, schema);
    schema = null;
  });

  function worker(label: string): WorkerConfig {
    return {
      url: PG_URL,
      schema: schema!,
      label,
      owner: `it-seq-${label}-${process.pid}`,
      queue: SEQUENCE_QUEUE,
      workers: 2,
      maxPending: 4,
      leaseMs: 2_000,
      pulseMs: 100,
      sequences: true,
    };
  }

  /** Executions per job id, in order, from the log the workers wrote. */
  async function executions(): Promise<Map<string, string[]>> {
    const { rows } = await admin.query<{ job_id: string; worker: string }>(
      `SELECT job_id, worker FROM ${schema}.ran ORDER BY at`,
    );
    const byJob = new Map<string, string[]>();
    for (const r of rows) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r.worker]);
    return byJob;
  }

  it('a step whose process was SIGKILLed runs again elsewhere once its lease expires; the run completes, each step once more at most', async function () {
    this.timeout(120_000);
    schema = uniqueSchema('seq_crash');
    store = await PostgresJobStore.open({
      connection: { connectionString: PG_URL, max: 2, application_name: 'oj-it-producer' },
      schema,
      onBackgroundError: () => undefined,
    });
    const s = store;
    // No primary key: a step that runs twice must show up twice.
    await admin.query(
      `CREATE TABLE ${schema}.ran (job_id uuid NOT NULL, worker text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    const [victim] = (workers = startWorkers([worker('victim')])) as [WorkerProcess];
    await waitReady(workers);

    // A starter job, as a schedule makes: the victim starts the run (its id is the starter's id).
    const run = await s.adder({ registry }).addJob(sequenceJob('it.crash'), { queue: SEQUENCE_QUEUE });
    let read: SequenceRun | null = null;
    const two = await waitFor(
      'step two to run on the victim',
      async () => {
        victim.assertAlive();
        read = await getSequenceRun(s, run);
        const step = read?.steps.find((x) => x.step === 'two');
        if (step?.status !== 'running') return undefined;
        const { rows } = await admin.query(`SELECT 1 FROM ${schema}.ran WHERE job_id = $1`, [step.jobId]);
        return rows.length > 0 ? step.jobId : undefined;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 20,
        status: () => `steps ${JSON.stringify(read?.steps.map((x) => [x.step, x.status]))}; victim: ${victim.tail(5)}`,
      },
    );
    victim.kill('SIGKILL');
    expect((await victim.exited).signal).to.equal('SIGKILL');
    expect((await getSequenceRun(s, run))!.status).to.equal('running');

    const [survivor] = startWorkers([worker('survivor')]) as [WorkerProcess];
    workers.push(survivor);
    await waitReady([survivor]);
    await waitFor(
      'the run to end',
      async () => {
        survivor.assertAlive();
        read = await getSequenceRun(s, run);
        return read !== null && read.status !== 'running';
      },
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        status: () => `${JSON.stringify(read?.steps.map((x) => [x.step, x.status]))}; ${survivor.tail(5)}`,
      },
    );
    await stopGracefully([survivor]);

    const ended = (await getSequenceRun(s, run))!;
    expect(ended.status).to.equal('succeeded');
    expect(ended.steps.map((x) => [x.step, x.status])).to.deep.equal([
      ['one', 'succeeded'],
      ['two', 'succeeded'],
      ['three', 'succeeded'],
    ]);
    // One run, whatever the starter went through: its steps and the starter are all the jobs.
    expect((await listSequenceRuns(s)).map((r) => r.run)).to.deep.equal([run]);
    expect(await s.listJobs()).to.have.length(4);

    const ran = await executions();
    const [one, , three] = ended.steps;
    expect(ran.get(one.jobId), 'step one').to.deep.equal(['victim']);
    // The killed attempt, then exactly one more, on the survivor, under a second claim.
    expect(ran.get(two), 'step two').to.deep.equal(['victim', 'survivor']);
    expect(ended.steps[1].attempts).to.equal(2);
    expect(ran.get(three.jobId), 'step three').to.deep.equal(['survivor']);
    expect([...ran.keys()].sort()).to.deep.equal(ended.steps.map((x) => x.jobId).sort());
  });
});
