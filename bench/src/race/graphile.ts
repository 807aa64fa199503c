/**
 * graphile-worker 0.17.3 as a race contender.
 *
 * Settings, from worker.graphile.org/docs/performance and the option docs
 * shipped in the package's index.d.ts:
 * - `concurrency: workers` (10): the race fixes concurrency for everybody.
 * - `maxPoolSize: max(10, workers + 2)`: the documented recommendation ("10 or
 *   concurrentJobs + 2, whichever is larger") so no job waits for a client.
 * - `localQueue.size` (default 500, env GRAPHILE_LOCAL_QUEUE_SIZE): the
 *   documented throughput lever ("if you have very high throughput and extremely
 *   fast tasks then a much higher number may make sense"); the published perf
 *   run uses 500. The pool locks a batch and hands jobs to workers without a
 *   round trip per job.
 * - `completeJobBatchDelay: 0`, `failJobBatchDelay: 0`: batch job completion
 *   within one tick, as in the published perf configuration (completions of
 *   several jobs become one statement).
 * - LISTEN/NOTIFY is always on in graphile-worker (`jobs:insert`), so latency
 *   does not depend on `pollInterval`; it stays at its default (2000 ms), which
 *   only matters for future-dated jobs and retries.
 * - `useNodeTime` stays false: Node and PostgreSQL share this machine's clock,
 *   the docs call the setting moot then.
 * - Enqueueing goes through `makeWorkerUtils` (its own pool), as a producer in
 *   another part of an app would; batches use `addJobs` (one `add_jobs` call).
 * The schema is migrated before any phase and the migration time is reported
 * in the notes, not in any rate.
 */
import pg from 'pg';
import { Logger, makeWorkerUtils, run, type Runner, type Task, type WorkerUtils } from 'graphile-worker';
import type { RaceContender, RaceOptions, RaceResult } from './types.js';
import { DEFAULT_LATENCY_INTERVAL_MS, DEFAULT_LATENCY_JOBS } from './types.js';
import { nowMs, paced, percentile, perSec, ranges, startCpuMeter, waitFor } from './measure.js';
import { dropSchema, queryCount } from './schema.js';

const SCHEMA = 'race_graphile';
const TASK = 'race';
const ONE_BY_ONE_TASK = 'race_one';
const BATCH = 1000;

/** Payload of a race job: `t` (enqueue time) marks a latency probe. */
interface RacePayload {
  i: number;
  t?: number;
}

/** Only errors reach the console: graphile's info lines would interleave with the table. */
const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error') console.error(`[graphile-worker] ${message}`);
});

function localQueueSize(): number {
  const raw = process.env.GRAPHILE_LOCAL_QUEUE_SIZE;
  const size = raw === undefined ? 500 : Number(raw);
  if (!Number.isInteger(size) || size < -1) throw new Error(`GRAPHILE_LOCAL_QUEUE_SIZE must be an integer ≥ -1, got "${raw}"`);
  return size;
}

export const raceGraphile: RaceContender = async (opts: RaceOptions): Promise<RaceResult> => {
  const { connectionString, jobs, workers, enqueueOneJobs } = opts;
  const latencyJobs = opts.latencyJobs ?? DEFAULT_LATENCY_JOBS;
  const latencyIntervalMs = opts.latencyIntervalMs ?? DEFAULT_LATENCY_INTERVAL_MS;
  const queueSize = localQueueSize();
  const maxPoolSize = Math.max(10, workers + 2);

  await dropSchema(connectionString, SCHEMA);
  const probe = new pg.Client({ connectionString });
  await probe.connect();
  let utils: WorkerUtils | undefined;
  let runner: Runner | undefined;
  try {
    // makeWorkerUtils already installs the schema; migrate() makes it explicit. Both are timed.
    const migrateStart = nowMs();
    utils = await makeWorkerUtils({ connectionString, schema: SCHEMA, logger: quietLogger });
    await utils.migrate();
    const migrateMs = nowMs() - migrateStart;

    // Phase 1: one job per call, awaited one after another.
    const oneStart = nowMs();
    const oneIds: string[] = [];
    for (let i = 0; i < enqueueOneJobs; i++) {
      const job = await utils.addJob(ONE_BY_ONE_TASK, { i } satisfies RacePayload);
      oneIds.push(job.id);
    }
    const oneMs = nowMs() - oneStart;
    // These jobs have no handler; remove them so they do not sit in the index the workers scan.
    for (const [from, to] of ranges(oneIds.length, BATCH)) await utils.completeJobs(oneIds.slice(from, to));

    // Phase 2: `jobs` jobs through add_jobs, BATCH per call.
    const batchStart = nowMs();
    for (const [from, to] of ranges(jobs, BATCH)) {
      const specs = [];
      for (let i = from; i < to; i++) specs.push({ identifier: TASK, payload: { i } satisfies RacePayload });
      await utils.addJobs(specs);
    }
    const batchMs = nowMs() - batchStart;

    // Phase 3: start the pool on the pre-filled queue; done = no job row left
    // (graphile deletes a job when it completes, possibly in a batched statement
    // after the handler returned, hence the database check after the handler count).
    let handled = 0;
    const latencies: number[] = [];
    const task: Task = async (payload) => {
      const started = nowMs();
      const { t } = payload as RacePayload;
      if (t === undefined) handled++;
      else latencies.push(started - t);
    };
    const cpu = startCpuMeter();
    const processStart = nowMs();
    runner = await run({
      connectionString,
      schema: SCHEMA,
      concurrency: workers,
      maxPoolSize,
      noHandleSignals: true,
      logger: quietLogger,
      taskList: { [TASK]: task },
      preset: { worker: { localQueue: { size: queueSize }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
    await waitFor('graphile-worker handlers to see every job', () => handled >= jobs, { intervalMs: 5 });
    const pending = `SELECT count(*) AS n FROM "${SCHEMA}"._private_jobs`;
    await waitFor('graphile-worker to delete every completed job', async () => (await queryCount(probe, pending)) === 0, { intervalMs: 2 });
    const processMs = nowMs() - processStart;
    const processCpuUsPerJob = cpu.stop(jobs);

    // Phase 4: the pool is idle and LISTENing; probes arrive at a steady rate.
    await paced(latencyJobs, latencyIntervalMs, async (i) => {
      await utils!.addJob(TASK, { i, t: nowMs() } satisfies RacePayload);
    });
    await waitFor('graphile-worker to start every latency probe', () => latencies.length >= latencyJobs);

    return {
      name: 'graphile-worker 0.17.3',
      enqueueOneJobsPerSec: perSec(enqueueOneJobs, oneMs),
      enqueueBatchJobsPerSec: perSec(jobs, batchMs),
      processJobsPerSec: perSec(jobs, processMs),
      processCpuUsPerJob,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      notes:
        `concurrency ${workers}, maxPoolSize ${maxPoolSize}, localQueue.size ${queueSize}, ` +
        `completeJobBatchDelay 0, addJobs batches of ${BATCH}, LISTEN/NOTIFY; migration ${Math.round(migrateMs)} ms (not counted)`,
    };
  } finally {
    await runner?.stop();
    await utils?.release();
    await probe.end();
    await dropSchema(connectionString, SCHEMA);
  }
};
