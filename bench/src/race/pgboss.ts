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
import PgBoss from 'pg-boss';
import type { RaceContender, RaceOptions, RaceResult } from './types.js';
import { nowMs, ranges } from './measure.js';
import { inOwnSchema, measureLatency, measureProcessing, raceResult, raceSettings, timed } from './phases.js';
import { queryCount } from './schema.js';
import { intFromEnv } from './env.js';

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

/** Jobs one poll fetches (env PGBOSS_BATCH_SIZE, default 50). */
const batchSize = (): number => intFromEnv('PGBOSS_BATCH_SIZE', 50, 1);

export const racePgBoss: RaceContender = (opts: RaceOptions): Promise<RaceResult> => {
  const s = raceSettings(opts);
  const { connectionString, jobs, workers, enqueueOneJobs } = s;
  const fetchSize = batchSize();
  const max = Math.max(10, workers + 2);

  return inOwnSchema(connectionString, SCHEMA, async (probe) => {
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
      const migrateMs = await timed(async () => {
        await boss.start();
        started = true;
        await boss.createQueue(QUEUE);
        await boss.createQueue(ONE_BY_ONE_QUEUE);
      });

      // Phase 1: one job per call, awaited one after another (own queue = own partition, never worked).
      const oneMs = await timed(async () => {
        for (let i = 0; i < enqueueOneJobs; i++) {
          await boss.send(ONE_BY_ONE_QUEUE, { i } satisfies RacePayload);
        }
      });
      // purgeQueue, not deleteQueue: in 10.4.2 deleteQueue of a queue that still
      // holds jobs fails on the partition's foreign key (q_fkey).
      await boss.purgeQueue(ONE_BY_ONE_QUEUE);

      // Phase 2: `jobs` jobs through insert(), BATCH per call.
      const batchMs = await timed(async () => {
        for (const [from, to] of ranges(jobs, BATCH)) {
          const batch: PgBoss.JobInsert<RacePayload>[] = [];
          for (let i = from; i < to; i++) batch.push({ name: QUEUE, data: { i } });
          await boss.insert(batch);
        }
      });

      // Phase 3: `workers` polling workers on the pre-filled queue.
      let handled = 0;
      const latencies: number[] = [];
      const runOne = async (job: PgBoss.Job<RacePayload>): Promise<void> => {
        const startedAt = nowMs();
        const { t } = job.data;
        if (t === undefined) handled++;
        else latencies.push(startedAt - t);
      };
      const completed = `SELECT count(*) AS n FROM "${SCHEMA}".job WHERE name = $1 AND state = 'completed'`;
      const processing = await measureProcessing({
        library: 'pg-boss',
        jobs,
        start: async () => {
          for (let w = 0; w < workers; w++) {
            await boss.work<RacePayload>(
              QUEUE,
              { batchSize: fetchSize, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS },
              async (batch) => {
                for (const job of batch) await runOne(job);
              },
            );
          }
        },
        handled: () => handled,
        finished: 'mark every job completed',
        allFinished: async () => (await queryCount(probe, completed, [QUEUE])) >= jobs,
      });

      // Phase 4: the workers are idle and polling; probes arrive at a steady rate.
      await measureLatency('pg-boss', s, latencies, async (i) => {
        await boss.send(QUEUE, { i, t: nowMs() } satisfies RacePayload);
      });

      return raceResult({
        name: 'pg-boss 10.4.2',
        settings: s,
        oneMs,
        batchMs,
        processing,
        latencies,
        notes:
          `${workers} work() pollers, batchSize ${fetchSize} (run in sequence), pollingIntervalSeconds ${POLLING_INTERVAL_SECONDS} (minimum), ` +
          `max ${max}, supervise/schedule off, insert() batches of ${BATCH}, no LISTEN/NOTIFY; ` +
          `migration + createQueue ${Math.round(migrateMs)} ms (not counted)`,
      });
    } finally {
      stopping = true;
      // graceful stop waits for in-flight handlers, then closes pg-boss's pool.
      if (started) await boss.stop({ graceful: true, wait: true, timeout: 5000 });
    }
  });
};
