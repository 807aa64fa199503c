import 'reflect-metadata';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { expect } from 'chai';
import { RecordingJob, registry } from './fixtures/recording-job.js';
import type { WorkerConfig } from './fixtures/worker.js';
import { PG_URL } from './pg.js';
import { pgWorkerSuite } from './pg-suite.js';
import { waitFor } from './wait.js';
import { startWorkers, stopGracefully, waitReady, type WorkerProcess } from './workers.js';

const QUEUE = 'it';
const TOTAL = 10_000;
const BATCH = 1_000;

/**
 * Several executor processes on one PostgreSQL schema: the database is the distributed engine, so
 * these tests prove the claim / lease / fencing design end to end, through the real executor, with
 * real processes that share nothing but the database.
 */
describe('distributed executors on PostgreSQL (worker processes)', function () {
  const t = pgWorkerSuite();

  function workerConfigs(
    count: number,
    options: Pick<WorkerConfig, 'workers' | 'maxPending' | 'leaseMs' | 'pulseMs'>,
  ): WorkerConfig[] {
    return Array.from({ length: count }, (_, i) => ({
      url: PG_URL,
      schema: t.schema!,
      label: `w${i}`,
      owner: `it-w${i}-${process.pid}`,
      queue: QUEUE,
      ...options,
    }));
  }

  /** Enqueues TOTAL jobs in batches of BATCH (one statement each); answers their ids. */
  async function enqueue(s: PostgresJobStore, durationMs: number): Promise<string[]> {
    const adder = s.adder({ registry });
    const ids: string[] = [];
    for (let i = 0; i < TOTAL; i += BATCH) {
      const specs = Array.from({ length: BATCH }, () => ({
        target: RecordingJob,
        call: (j: RecordingJob) => j.run(durationMs),
        options: { queue: QUEUE },
      }));
      ids.push(...(await adder.addJobs(specs)));
    }
    return ids;
  }

  async function doneCount(s: PostgresJobStore): Promise<number> {
    return (await s.countJobs({ queue: QUEUE })).find((c) => c.status === 'done')?.count ?? 0;
  }

  /** Waits until every job is done, failing at once if a worker that should be running died. */
  async function waitAllDone(s: PostgresJobStore, running: readonly WorkerProcess[], timeoutMs: number): Promise<void> {
    let last = 0;
    await waitFor(
      `all ${TOTAL} jobs to be done`,
      async () => {
        for (const w of running) w.assertAlive();
        last = await doneCount(s);
        return last === TOTAL;
      },
      {
        timeoutMs,
        intervalMs: 250,
        status: () => `${last} done; worker stderr: ${JSON.stringify(running.map((w) => [w.label, w.tail(3)]))}`,
      },
    );
  }

  it('runs 10,000 jobs from 3 processes exactly once while no lease expires', async function () {
    this.timeout(120_000);
    const s = await t.setUp('exactly_once');
    // A 60 s lease cannot expire during the run, so any second execution would be a claim bug.
    t.workers = startWorkers(workerConfigs(3, { workers: 8, maxPending: 16, leaseMs: 60_000, pulseMs: 500 }));
    await waitReady(t.workers);

    const ids = await enqueue(s, 0);
    expect(new Set(ids).size).to.equal(TOTAL);
    await waitAllDone(s, t.workers, 90_000);
    await stopGracefully(t.workers);

    const ran = await t.executions();
    const twice = [...ran].filter(([, by]) => by.length > 1);
    expect(twice, 'jobs executed more than once').to.deep.equal([]);
    expect(ran.size).to.equal(TOTAL);
    for (const id of ids) expect(ran.has(id), `job ${id} never ran`).to.equal(true);

    const counts = await s.countJobs({ queue: QUEUE });
    expect(counts).to.deep.equal([{ queue: QUEUE, status: 'done', count: TOTAL }]);
    const { rows: attempts } = await t.admin.query<{ attempts: number; n: number }>(
      `SELECT attempts, count(*)::int AS n FROM ${t.schema}.jobs GROUP BY attempts`,
    );
    expect(attempts, 'every job was claimed exactly once').to.deep.equal([{ attempts: 1, n: TOTAL }]);

    const perWorker = new Map<string, number>();
    for (const [, by] of ran) perWorker.set(by[0], (perWorker.get(by[0]) ?? 0) + 1);
    const busy = [...perWorker.values()].filter((n) => n > 0).length;
    expect(busy, `work spread: ${JSON.stringify([...perWorker])}`).to.be.greaterThan(1);
    // Each worker's own count (printed at graceful shutdown) agrees with the table.
    for (const w of t.workers) expect(w.reportedExecutions, w.label).to.equal(perWorker.get(w.label) ?? 0);
    console.log(`      executions per worker: ${JSON.stringify(Object.fromEntries(perWorker))}`);
  });

  it("after a SIGKILL, the killed worker's jobs run again once their leases expire; no job is lost", async function () {
    this.timeout(120_000);
    const s = await t.setUp('sigkill');
    const maxPending = 8;
    t.workers = startWorkers(workerConfigs(3, { workers: 4, maxPending, leaseMs: 2_000, pulseMs: 250 }));
    await waitReady(t.workers);
    const [victim, ...survivors] = t.workers as [WorkerProcess, ...WorkerProcess[]];

    const ids = await enqueue(s, 3);
    // Mid-run: the victim has done real work and much remains for the survivors.
    let progress = { victim: 0, total: 0 };
    await waitFor(
      'the victim to be busy mid-run',
      async () => {
        for (const w of t.workers) w.assertAlive();
        const { rows } = await t.admin.query<{ victim: number; total: number }>(
          `SELECT count(*) FILTER (WHERE worker = $1)::int AS victim, count(*)::int AS total FROM ${t.schema}.ran`,
          [victim.label],
        );
        progress = rows[0]!;
        return progress.victim >= 200 && progress.total >= TOTAL * 0.25;
      },
      { timeoutMs: 60_000, intervalMs: 20, status: () => JSON.stringify(progress) },
    );
    victim.kill('SIGKILL');
    expect((await victim.exited).signal).to.equal('SIGKILL');
    // The jobs whose lease the victim held when it died: frozen now (a dead process writes nothing)
    // until the leases expire, at least ~1.3 s from here (renewed a third into a 2 s lease).
    const { rows: heldRows } = await t.admin.query<{ id: string }>(
      `SELECT id FROM ${t.schema}.jobs WHERE status = 'processing' AND lease_owner = $1`,
      [victim.config.owner],
    );
    const heldAtKill = new Set(heldRows.map((r) => r.id));

    await waitAllDone(s, survivors, 90_000);
    await stopGracefully(survivors);

    const ran = await t.executions();
    expect(ran.size, 'distinct jobs executed').to.equal(TOTAL);
    for (const id of ids) expect(ran.has(id), `job ${id} never ran`).to.equal(true);
    expect(await s.countJobs({ queue: QUEUE })).to.deep.equal([{ queue: QUEUE, status: 'done', count: TOTAL }]);

    const { rows: finals } = await t.admin.query<{ id: string; lease_owner: string; attempts: number }>(
      `SELECT id, lease_owner, attempts FROM ${t.schema}.jobs`,
    );
    const final = new Map(finals.map((r) => [r.id, r]));
    const duplicated = [...ran].filter(([, by]) => by.length > 1);
    for (const [id, by] of duplicated) {
      // Only the killed worker's unfinished jobs may run again, and then exactly once more, by a
      // survivor, under a second claim.
      expect(by, `executions of ${id}`).to.have.length(2);
      expect(by[0], `first execution of ${id}`).to.equal(victim.label);
      expect(by[1], `second execution of ${id}`).to.not.equal(victim.label);
      expect(heldAtKill.has(id), `${id} ran twice but the victim did not hold it when killed`).to.equal(true);
      expect(final.get(id)!.attempts, `attempts of ${id}`).to.equal(2);
    }
    // Every job the survivors finished ran on them alone, and every job whose done the victim
    // managed to write ran once (on it).
    for (const [id, by] of ran) {
      const owner = final.get(id)!.lease_owner;
      if (owner === victim.config.owner) expect(by, `job ${id} completed by the victim`).to.deep.equal([victim.label]);
    }
    // A job the victim held is either unstarted (claimed, waiting for a worker), running, or finished
    // with its outcome not yet written. The executor claims only while fewer than maxPending are
    // unstarted or running, but finished runs keep their leases until their outcome is stored, so on a
    // loaded machine, where outcome writes lag, the victim can hold (and lose) more than maxPending:
    // CI once saw 11 held with maxPending 8, 9 of them run twice. What holds at any load is that only
    // jobs it held run again, each exactly once more (checked above), so no more than it held.
    expect(duplicated.length, 'jobs executed twice').to.be.at.most(heldAtKill.size);
    console.log(
      `      victim held ${heldAtKill.size} jobs at the kill (maxPending ${maxPending}); ${duplicated.length} ran twice; ` +
        `killed after ${progress.total} executions (${progress.victim} by the victim)`,
    );
  });
});
