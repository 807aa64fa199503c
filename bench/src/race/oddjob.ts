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
 * - ODDJOB_OBSERVE=1 adds metrics (collectMetrics) and run spans (instrumentShell, no SDK).
 * - `deleteDoneJobs: true` (env ODDJOB_KEEP_DONE=1 turns it off): a completed job is deleted in the
 *   completion statement, as graphile-worker always does; pg-boss keeps completed jobs.
 * - The schema is race_oddjob; env RACE_ODDJOB_SCHEMA names another, so two checkouts can race on one
 *   shared database without dropping each other's schema.
 * - The cost of flow features (not in the default race): ODDJOB_RACE_PRIORITIES=P spreads the
 *   processing jobs over priorities 0..P-1; ODDJOB_RACE_KEYS=K gives them concurrency keys k0..k(K-1)
 *   with limit ODDJOB_RACE_KEY_LIMIT (default 1: each key runs its jobs one at a time).
 */
import 'reflect-metadata';
import { JobRegistry } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { collectMetrics, instrumentShell } from '@oddjob/metrics';
import type { RaceContender, RaceOptions, RaceResult } from './types.js';
import { nowMs, ranges } from './measure.js';
import { inOwnSchema, measureLatency, measureProcessing, raceResult, raceSettings, timed } from './phases.js';
import { queryCount } from './schema.js';
import { intFromEnv } from './env.js';

const SCHEMA = process.env.RACE_ODDJOB_SCHEMA || 'race_oddjob';
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

/** Jobs held at once (env ODDJOB_MAX_PENDING, default 500). */
const maxPending = (): number => intFromEnv('ODDJOB_MAX_PENDING', 500, 1);
/** Claims out at once per queue (env ODDJOB_CLAIMS_IN_FLIGHT, default 1). */
const claimsInFlight = (): number => intFromEnv('ODDJOB_CLAIMS_IN_FLIGHT', 1, 1);

/** Per-job priority and key options for the flow variants of the race (none by default). */
function flowOptions(): (i: number) => { priority?: number; concurrencyKey?: string; concurrencyLimit?: number } {
  const priorities = intFromEnv('ODDJOB_RACE_PRIORITIES', 0, 0);
  const keys = intFromEnv('ODDJOB_RACE_KEYS', 0, 0);
  const limit = intFromEnv('ODDJOB_RACE_KEY_LIMIT', 1, 1);
  return (i) => ({
    ...(priorities > 1 ? { priority: i % priorities } : {}),
    ...(keys > 0 ? { concurrencyKey: `k${i % keys}`, concurrencyLimit: limit } : {}),
  });
}

function flowNote(): string {
  const p = intFromEnv('ODDJOB_RACE_PRIORITIES', 0, 0);
  const k = intFromEnv('ODDJOB_RACE_KEYS', 0, 0);
  return (
    (p > 1 ? `${p} priorities, ` : '') +
    (k > 0 ? `${k} concurrency keys of limit ${intFromEnv('ODDJOB_RACE_KEY_LIMIT', 1, 1)}, ` : '')
  );
}

export const raceOddJob: RaceContender = (opts: RaceOptions): Promise<RaceResult> => {
  const s = raceSettings(opts);
  const { connectionString, jobs, workers, enqueueOneJobs } = s;
  const pending = Math.max(workers, maxPending());
  const deleteDoneJobs = process.env.ODDJOB_KEEP_DONE !== '1';
  handled = 0;
  latencies.length = 0;
  const registry = new JobRegistry().register('race', RaceJob);

  return inOwnSchema(connectionString, SCHEMA, async (probe) => {
    let store: PostgresJobStore | undefined;
    let shell: JobExecutorShell | undefined;
    try {
      const migrateStart = nowMs();
      const opened = await PostgresJobStore.open({ connection: connectionString, schema: SCHEMA, deleteDoneJobs });
      store = opened;
      const migrateMs = nowMs() - migrateStart;
      const adder = opened.adder({ registry });

      // Phase 1: one job per call, awaited one after another (a queue nobody works, as for the others).
      const oneMs = await timed(async () => {
        for (let i = 0; i < enqueueOneJobs; i++)
          await adder.addJob(RaceJob, (j) => j.run(i, null), { queue: ONE_BY_ONE_QUEUE });
      });

      // Phase 2: `jobs` jobs through addJobs, BATCH per call (one INSERT ... unnest each).
      const flow = flowOptions();
      const batchMs = await timed(async () => {
        for (const [from, to] of ranges(jobs, BATCH)) {
          const specs = [];
          for (let i = from; i < to; i++)
            specs.push({
              target: RaceJob,
              call: (j: RaceJob) => j.run(i, null),
              options: { queue: QUEUE, ...flow(i) },
            });
          await adder.addJobs(specs);
        }
      });

      // Phase 3: start the executor on the pre-filled queue; done = every job recorded `done`.
      const notDone = `SELECT count(*) AS n FROM "${SCHEMA}".jobs WHERE queue = '${QUEUE}' AND status <> 'done'`;
      const processing = await measureProcessing({
        library: 'oddjob',
        jobs,
        start: async () => {
          shell = new JobExecutorShell({ manager: opened, registry, logger: silentLogger });
          // ODDJOB_OBSERVE=1: the race with @oddjob/metrics' counters and histograms and run spans (no
          // OpenTelemetry SDK registered), for the "within 5% of without" check of metrics and tracing.
          if (process.env.ODDJOB_OBSERVE === '1') {
            collectMetrics({ shell });
            instrumentShell(shell);
          }
          shell.startJobQueue(QUEUE, { workers, maxPending: pending, pulseMs: 1000, claimsInFlight: claimsInFlight() });
        },
        handled: () => handled,
        // With deleteDoneJobs a finished job is gone; without it, it stays as `done`: either way "not done" counts what is left.
        finished: 'record every job done',
        allFinished: async () => (await queryCount(probe, notDone)) === 0,
      });

      // Phase 4: the executor is idle and LISTENing; probes arrive at a steady rate.
      await measureLatency('oddjob', s, latencies, async (i) => {
        await adder.addJob(RaceJob, (j) => j.run(i, nowMs()), { queue: QUEUE });
      });

      return raceResult({
        name: 'oddjob',
        settings: s,
        oneMs,
        batchMs,
        processing,
        latencies,
        notes:
          flowNote() +
          `workers ${workers}, maxPending ${pending}, claimsInFlight ${claimsInFlight()}, addJobs batches of ${BATCH}, LISTEN/NOTIFY, ` +
          `${deleteDoneJobs ? 'deleteDoneJobs (done jobs deleted at completion, as graphile-worker does)' : 'done jobs kept'}; ` +
          `migration ${Math.round(migrateMs)} ms (not counted)`,
      });
    } finally {
      await shell?.shutdown({ timeoutMs: 5000 });
      await store?.close();
    }
  });
};
