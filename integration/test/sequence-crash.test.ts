import 'reflect-metadata';
import { getSequenceRun, listSequenceRuns, sequenceJob, type SequenceRun } from '@oddjob/core';
import { expect } from 'chai';
import { SEQUENCE_QUEUE } from './fixtures/crash-sequence.js';
import { registry } from './fixtures/recording-job.js';
import type { WorkerConfig } from './fixtures/worker.js';
import { PG_URL } from './pg.js';
import { pgWorkerSuite } from './pg-suite.js';
import { waitFor } from './wait.js';
import { startWorkers, waitReady, stopGracefully, type WorkerProcess } from './workers.js';

/**
 * A sequence run survives the death of the process running one of its steps: the store holds the
 * whole run (its steps and their dependencies), so another executor process picks the step up when
 * its lease expires, and the store releases the next step when it ends. Needs a PostgreSQL store
 * that implements dependencies (JobOptions.after).
 */
describe('a sequence on PostgreSQL, its executor killed mid-step (worker processes)', function () {
  const t = pgWorkerSuite();

  function worker(label: string): WorkerConfig {
    return {
      url: PG_URL,
      schema: t.schema!,
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

  it('a step whose process was SIGKILLed runs again elsewhere once its lease expires; the run completes, each step once more at most', async function () {
    this.timeout(120_000);
    const s = await t.setUp('seq_crash');
    const [victim] = (t.workers = startWorkers([worker('victim')])) as [WorkerProcess];
    await waitReady(t.workers);

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
        const { rows } = await t.admin.query(`SELECT 1 FROM ${t.schema}.ran WHERE job_id = $1`, [step.jobId]);
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
    t.workers.push(survivor);
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

    const ran = await t.executions();
    const [one, , three] = ended.steps;
    expect(ran.get(one.jobId), 'step one').to.deep.equal(['victim']);
    // The killed attempt, then exactly one more, on the survivor, under a second claim.
    expect(ran.get(two), 'step two').to.deep.equal(['victim', 'survivor']);
    expect(ended.steps[1].attempts).to.equal(2);
    expect(ran.get(three.jobId), 'step three').to.deep.equal(['survivor']);
    expect([...ran.keys()].sort()).to.deep.equal(ended.steps.map((x) => x.jobId).sort());
  });
});
