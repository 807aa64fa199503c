/**
 * OddJob (executor-actors on storage-postgres) as a race contender, measured exactly like the others.
 *
 * Settings:
 * - `workers: opts.workers` (10): the race fixes concurrency for everybody.
 * - `maxPending` 500 (env ODDJOB_MAX_PENDING): claims up to 500 jobs per statement, the same prefetch
 *   graphile-worker's localQueue.size 500 and pg-boss's batchSize × work() calls get. The default
 *   (workers * 2) suits long jobs; no-op jobs need big batches to amortise the claim's round trip.
 * - LISTEN/NOTIFY on (the store's default), pulse 1 s as the fallback.
 * - The pool: the store's default (pg's 10 connections) — the executor uses at most two at once
 *   (one claim and one outcome batch in flight).
 * - Jobs are classes resolved per run by the default container factory (a new instance per job).
 * - `deleteDoneJobs: true` (env ODDJOB_KEEP_DONE=1 turns it off): a completed job is deleted in the
 *   completion statement, as graphile-worker always does; pg-boss keeps completed jobs.
 */
import 'reflect-metadata';
import pg from 'pg';
import { JobRegistry } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import type { RaceContender, RaceOptions, RaceResult } from './types.js';
import { DEFAULT_LATENCY_INTERVAL_MS, DEFAULT_LATENCY_JOBS } from './types.js';
import { nowMs, paced, percentile, perSec, ranges, startCpuMeter, waitFor } from './measure.js';
import { dropSchema, queryCount } from './schema.js';

const SCHEMA = 'race_oddjob';
const QUEUE = 'race';
const ONE_BY_ONE_QUEUE = 'race_one';
const BATCH = 1000;

let handled = 0;
const latencies: number[] = [];

class RaceJob {
  /**
   * `t` (enqueue time) marks a latency probe. It is declared non-optional (null when absent) because
   * the executor passes the JobContext after the recorded arguments.
   */
  run(_i: number, t: number | null): void {
    const started = nowMs();
    if (t === null) handled++;
    else latencies.push(started - t);
  }
}

function maxPending(): number {
  const raw = process.env.ODDJOB_MAX_PENDING;
  const n = raw === undefined ? 500 : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`ODDJOB_MAX_PENDING must be an integer >= 1, got "${raw}"`);
  return n;
}

export const raceOddJob: RaceContender = async (opts: RaceOptions): Promise<RaceResult> => {
  const { connectionString, jobs, workers, enqueueOneJobs } = opts;
  const latencyJobs = opts.latencyJobs ?? DEFAULT_LATENCY_JOBS;
  const latencyIntervalMs = opts.latencyIntervalMs ?? DEFAULT_LATENCY_INTERVAL_MS;
  const pending = Math.max(workers, maxPending());
  const deleteDoneJobs = process.env.ODDJOB_KEEP_DONE !== '1';
  handled = 0;
  latencies.length = 0;

  await dropSchema(connectionString, SCHEMA);
  const registry = new JobRegistry().register('race', RaceJob);
  const probe = new pg.Client({ connectionString });
  await probe.connect();
  let store: PostgresJobStore | undefined;
  let shell: JobExecutorShell | undefined;
  try {
    const migrateStart = nowMs();
    store = await PostgresJobStore.open({ connection: connectionString, schema: SCHEMA, deleteDoneJobs });
    const migrateMs = nowMs() - migrateStart;
    const adder = store.adder({ registry });

    // Phase 1: one job per call, awaited one after another (a queue nobody works, as for the others).
    const oneStart = nowMs();
    for (let i = 0; i < enqueueOneJobs; i++) await adder.addJob(RaceJob, (j) => j.run(i, null), { queue: ONE_BY_ONE_QUEUE });
    const oneMs = nowMs() - oneStart;

    // Phase 2: `jobs` jobs through addJobs, BATCH per call (one INSERT ... unnest each).
    const batchStart = nowMs();
    for (const [from, to] of ranges(jobs, BATCH)) {
      const specs = [];
      for (let i = from; i < to; i++) specs.push({ target: RaceJob, call: (j: RaceJob) => j.run(i, null), options: { queue: QUEUE } });
      await adder.addJobs(specs);
    }
    const batchMs = nowMs() - batchStart;

    // Phase 3: start the executor on the pre-filled queue; done = every job recorded `done`.
    const cpu = startCpuMeter();
    const processStart = nowMs();
    shell = new JobExecutorShell({ manager: store, registry, logger: silentLogger });
    shell.startJobQueue(QUEUE, { workers, maxPending: pending, pulseMs: 1000 });
    await waitFor('oddjob handlers to see every job', () => handled >= jobs, { intervalMs: 5 });
    const notDone = `SELECT count(*) AS n FROM "${SCHEMA}".jobs WHERE queue = '${QUEUE}' AND status <> 'done'`;
    // With deleteDoneJobs a finished job is gone; without it, it stays as `done`: either way "not done" counts what is left.
    await waitFor('oddjob to record every job done', async () => (await queryCount(probe, notDone)) === 0, { intervalMs: 2 });
    const processMs = nowMs() - processStart;
    const processCpuUsPerJob = cpu.stop(jobs);

    // Phase 4: the executor is idle and LISTENing; probes arrive at a steady rate.
    await paced(latencyJobs, latencyIntervalMs, async (i) => {
      await adder.addJob(RaceJob, (j) => j.run(i, nowMs()), { queue: QUEUE });
    });
    await waitFor('oddjob to start every latency probe', () => latencies.length >= latencyJobs);

    return {
      name: 'oddjob',
      enqueueOneJobsPerSec: perSec(enqueueOneJobs, oneMs),
      enqueueBatchJobsPerSec: perSec(jobs, batchMs),
      processJobsPerSec: perSec(jobs, processMs),
      processCpuUsPerJob,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      notes:
        `workers ${workers}, maxPending ${pending}, addJobs batches of ${BATCH}, LISTEN/NOTIFY, ` +
        `${deleteDoneJobs ? 'deleteDoneJobs (done jobs deleted at completion, as graphile-worker does)' : 'done jobs kept'}; ` +
        `migration ${Math.round(migrateMs)} ms (not counted)`,
    };
  } finally {
    await shell?.shutdown({ timeoutMs: 5000 });
    await store?.close();
    await probe.end();
    await dropSchema(connectionString, SCHEMA);
  }
};
