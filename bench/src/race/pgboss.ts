/**
 * pg-boss 10.4.2 as a race contender.
 *
 * pg-boss 10 removed `teamSize`/`teamConcurrency`/`teamRefill` and
 * `newJobCheckInterval`; what is left (types.d.ts, and the maintainer in
 * timgit/pg-boss#483 and #542) is: each `work()` call adds one polling worker,
 * `batchSize` is how many jobs one poll fetches, and concurrency inside a batch
 * is the handler's business (`Promise.allSettled(jobs.map(...))`). There is no
 * LISTEN/NOTIFY: a worker that finds nothing sleeps `pollingIntervalSeconds`
 * (0.5 s is the enforced minimum), and — read in src/worker.js — it also sleeps
 * the rest of the interval after a poll that DID find jobs, so one worker's
 * ceiling is batchSize jobs per interval.
 *
 * Settings:
 * - `workers` (10) `work()` calls on the queue: the race's concurrency.
 * - `pollingIntervalSeconds: 0.5`: the minimum allowed; both throughput and
 *   latency are bounded by it.
 * - `batchSize` (default 50, env PGBOSS_BATCH_SIZE): the only per-worker
 *   throughput lever. The handler runs a batch's jobs one after another, so at
 *   most `workers` handlers are ever in flight — the race's concurrency — and
 *   batchSize acts as prefetch. 50 × 10 workers = 500 jobs locked in the
 *   process, the same as graphile's localQueue.size 500: both get the same
 *   prefetch. (Running a batch with Promise.allSettled, as #542 suggests, would
 *   make concurrency batchSize × workers; with no-op handlers it changes
 *   nothing but the honesty of "10 workers".) Larger batches raise pg-boss's
 *   ceiling of workers × batchSize / 0.5 s; see the report for 500.
 * - `max: max(10, workers + 2)` pool clients: same database budget as graphile.
 * - `supervise: false` (no maintenance: expiry/archive/drop loops and their
 *   queries), `schedule: false` (no cron and clock-skew monitor),
 *   `monitorStateIntervalSeconds` unset (no state monitor): none of these does
 *   anything the race needs and they would add queries mid-measurement.
 *   `migrate: true` builds the schema at start (timed separately, in notes).
 * - Batches use `insert()` (one INSERT from a JSON array); single jobs `send()`.
 * - A queue must exist before `send()` in v10 (`createQueue`, standard policy:
 *   its own partition).
 * `work()` completes jobs fire-and-forget after the handler returns, so the
 * processing phase ends when the database shows every job completed.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { RaceContender, RaceOptions, RaceResult } from './types.js';
import { DEFAULT_LATENCY_INTERVAL_MS, DEFAULT_LATENCY_JOBS } from './types.js';
import { nowMs, paced, percentile, perSec, ranges, startCpuMeter, waitFor } from './measure.js';
import { dropSchema, queryCount } from './schema.js';

const SCHEMA = 'race_pgboss';
const QUEUE = 'race';
const ONE_BY_ONE_QUEUE = 'race-one';
const BATCH = 1000;
const POLLING_INTERVAL_SECONDS = 0.5;

/** Payload of a race job: `t` (enqueue time) marks a latency probe. */
interface RacePayload {
  i: number;
  t?: number;
}

function batchSize(): number {
  const raw = process.env.PGBOSS_BATCH_SIZE;
  const size = raw === undefined ? 50 : Number(raw);
  if (!Number.isInteger(size) || size < 1) throw new Error(`PGBOSS_BATCH_SIZE must be an integer ≥ 1, got "${raw}"`);
  return size;
}

export const racePgBoss: RaceContender = async (opts: RaceOptions): Promise<RaceResult> => {
  const { connectionString, jobs, workers, enqueueOneJobs } = opts;
  const latencyJobs = opts.latencyJobs ?? DEFAULT_LATENCY_JOBS;
  const latencyIntervalMs = opts.latencyIntervalMs ?? DEFAULT_LATENCY_INTERVAL_MS;
  const fetchSize = batchSize();
  const max = Math.max(10, workers + 2);

  await dropSchema(connectionString, SCHEMA);
  const probe = new pg.Client({ connectionString });
  await probe.connect();
  const boss = new PgBoss({
    connectionString,
    schema: SCHEMA,
    max,
    migrate: true,
    supervise: false,
    schedule: false,
  });
  // pg-boss reports worker errors as events; without a listener EventEmitter
  // would throw them. A fetch cut short by stop() closing the pool lands here too.
  let stopping = false;
  boss.on('error', (error) => {
    if (!stopping) console.error(`[pg-boss] ${error.message}`);
  });
  let started = false;
  try {
    const migrateStart = nowMs();
    await boss.start();
    started = true;
    await boss.createQueue(QUEUE);
    await boss.createQueue(ONE_BY_ONE_QUEUE);
    const migrateMs = nowMs() - migrateStart;

    // Phase 1: one job per call, awaited one after another (own queue = own partition, never worked).
    const oneStart = nowMs();
    for (let i = 0; i < enqueueOneJobs; i++) {
      await boss.send(ONE_BY_ONE_QUEUE, { i } satisfies RacePayload);
    }
    const oneMs = nowMs() - oneStart;
    // purgeQueue, not deleteQueue: in 10.4.2 deleteQueue of a queue that still
    // holds jobs fails on the partition's foreign key (q_fkey).
    await boss.purgeQueue(ONE_BY_ONE_QUEUE);

    // Phase 2: `jobs` jobs through insert(), BATCH per call.
    const batchStart = nowMs();
    for (const [from, to] of ranges(jobs, BATCH)) {
      const batch: PgBoss.JobInsert<RacePayload>[] = [];
      for (let i = from; i < to; i++) batch.push({ name: QUEUE, data: { i } });
      await boss.insert(batch);
    }
    const batchMs = nowMs() - batchStart;

    // Phase 3: `workers` polling workers on the pre-filled queue.
    let handled = 0;
    const latencies: number[] = [];
    const runOne = async (job: PgBoss.Job<RacePayload>): Promise<void> => {
      const startedAt = nowMs();
      const { t } = job.data;
      if (t === undefined) handled++;
      else latencies.push(startedAt - t);
    };
    const cpu = startCpuMeter();
    const processStart = nowMs();
    for (let w = 0; w < workers; w++) {
      await boss.work<RacePayload>(QUEUE, { batchSize: fetchSize, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS }, async (batch) => {
        for (const job of batch) await runOne(job);
      });
    }
    await waitFor('pg-boss handlers to see every job', () => handled >= jobs, { intervalMs: 5 });
    const completed = `SELECT count(*) AS n FROM "${SCHEMA}".job WHERE name = $1 AND state = 'completed'`;
    await waitFor('pg-boss to mark every job completed', async () => (await queryCount(probe, completed, [QUEUE])) >= jobs, { intervalMs: 2 });
    const processMs = nowMs() - processStart;
    const processCpuUsPerJob = cpu.stop(jobs);

    // Phase 4: the workers are idle and polling; probes arrive at a steady rate.
    await paced(latencyJobs, latencyIntervalMs, async (i) => {
      await boss.send(QUEUE, { i, t: nowMs() } satisfies RacePayload);
    });
    await waitFor('pg-boss to start every latency probe', () => latencies.length >= latencyJobs);

    return {
      name: 'pg-boss 10.4.2',
      enqueueOneJobsPerSec: perSec(enqueueOneJobs, oneMs),
      enqueueBatchJobsPerSec: perSec(jobs, batchMs),
      processJobsPerSec: perSec(jobs, processMs),
      processCpuUsPerJob,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      notes:
        `${workers} work() pollers, batchSize ${fetchSize} (run in sequence), pollingIntervalSeconds ${POLLING_INTERVAL_SECONDS} (minimum), ` +
        `max ${max}, supervise/schedule off, insert() batches of ${BATCH}, no LISTEN/NOTIFY; ` +
        `migration + createQueue ${Math.round(migrateMs)} ms (not counted)`,
    };
  } finally {
    stopping = true;
    // graceful stop waits for in-flight handlers, then closes pg-boss's pool.
    if (started) await boss.stop({ graceful: true, wait: true, timeout: 5000 });
    await probe.end();
    await dropSchema(connectionString, SCHEMA);
  }
};
