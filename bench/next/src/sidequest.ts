/**
 * Sidequest (a TypeScript job processor with several backends and a dashboard; needs Node 22+) as a
 * race contender, on its PostgreSQL backend.
 *
 * Settings, from the EngineConfig docs in @sidequest/engine's engine.d.ts:
 * - `maxConcurrentJobs: workers` and the queue's `concurrency: workers` (10): the race's concurrency;
 * - `fork: false` and `runner: 'inline'`: the engine and the jobs run in this process, with no child
 *   process and no worker-thread hop per job — documented for single-process setups, and the
 *   fastest for no-op jobs (the default thread runner pays a message round trip per job);
 * - `jobPollingInterval` 10 ms (env SIDEQUEST_POLL_MS; default 100): Sidequest has no LISTEN/NOTIFY,
 *   its dispatcher polls, so this bounds both latency and how soon a freed slot is refilled;
 * - the maintenance routines (stale-job release, cleanup) off, the dashboard off, no signal handlers;
 * - its own schema through the backend's `searchPath`;
 * - Sidequest has no batch enqueue: the batch phase sends `enqueue()` calls 100 at a time
 *   concurrently (env SIDEQUEST_ENQUEUE_CONCURRENCY), which is what a user would do.
 */
import { Sidequest } from 'sidequest';
import type { RaceContender, RaceOptions, RaceResult } from '../../dist/src/race/types.js';
import { nowMs, ranges } from '../../dist/src/race/measure.js';
import {
  inOwnSchema,
  measureLatency,
  measureProcessing,
  raceResult,
  raceSettings,
  timed,
} from '../../dist/src/race/phases.js';
import { queryCount } from '../../dist/src/race/schema.js';
import { intFromEnv } from '../../dist/src/race/env.js';
import { RaceJob, seen } from './sidequest-job.js';
import { versionOf } from './versions.js';

const SCHEMA = 'race_sidequest';
const QUEUE = 'race';
const ONE_BY_ONE_QUEUE = 'race_one';

export const raceSidequest: RaceContender = (opts: RaceOptions): Promise<RaceResult> => {
  const s = raceSettings(opts);
  const { connectionString, jobs, workers, enqueueOneJobs } = s;
  const pollMs = intFromEnv('SIDEQUEST_POLL_MS', 10, 1);
  const enqueueConcurrency = intFromEnv('SIDEQUEST_ENQUEUE_CONCURRENCY', 100, 1);
  const max = Math.max(10, workers + 2);
  const version = versionOf('sidequest');
  seen.handled = 0;
  seen.latencies = [];

  return inOwnSchema(connectionString, SCHEMA, async (probe) => {
    const backend = {
      driver: '@sidequest/postgres-backend',
      config: { connection: connectionString, searchPath: [SCHEMA], pool: { min: 2, max } },
    };
    let started = false;
    try {
      // configure() migrates and allows enqueueing without processing; start() later begins work.
      const common = {
        backend,
        maxConcurrentJobs: workers,
        fork: false,
        runner: 'inline' as const,
        jobPollingInterval: pollMs,
        releaseStaleJobsIntervalMin: false as const,
        cleanupFinishedJobsIntervalMin: false as const,
        gracefulShutdown: false,
        logger: { level: 'error' as const },
        queues: [
          { name: QUEUE, concurrency: workers },
          { name: ONE_BY_ONE_QUEUE, concurrency: 1, state: 'paused' as const },
        ],
      };
      const migrateMs = await timed(async () => {
        await Sidequest.configure(common);
        started = true;
      });

      const oneMs = await timed(async () => {
        for (let i = 0; i < enqueueOneJobs; i++)
          await Sidequest.build(RaceJob).queue(ONE_BY_ONE_QUEUE).enqueue(i, null);
      });
      await probe.query(`DELETE FROM "${SCHEMA}".sidequest_jobs WHERE queue = $1`, [ONE_BY_ONE_QUEUE]);

      const batchMs = await timed(async () => {
        for (const [from, to] of ranges(jobs, enqueueConcurrency)) {
          const calls = [];
          for (let i = from; i < to; i++) calls.push(Sidequest.build(RaceJob).queue(QUEUE).enqueue(i, null));
          await Promise.all(calls);
        }
      });
      await Sidequest.stop();
      started = false;

      const completed = `SELECT count(*) AS n FROM "${SCHEMA}".sidequest_jobs WHERE queue = $1 AND state = 'completed'`;
      const processing = await measureProcessing({
        library: 'Sidequest',
        jobs,
        start: async () => {
          await Sidequest.start({ ...common, skipMigration: true, dashboard: { enabled: false } });
          started = true;
        },
        handled: () => seen.handled,
        finished: 'mark every job completed',
        allFinished: async () => (await queryCount(probe, completed, [QUEUE])) >= jobs,
      });

      await measureLatency('Sidequest', s, seen.latencies, async (i) => {
        await Sidequest.build(RaceJob).queue(QUEUE).enqueue(i, nowMs());
      });

      return raceResult({
        name: `Sidequest ${version}`,
        settings: s,
        oneMs,
        batchMs,
        processing,
        latencies: seen.latencies,
        notes:
          `maxConcurrentJobs ${workers}, queue concurrency ${workers}, fork false, runner inline, jobPollingInterval ${pollMs} ms (no LISTEN/NOTIFY), ` +
          `pool max ${max}, maintenance off, batch phase = ${enqueueConcurrency} concurrent enqueue() calls (no batch API); ` +
          `migration ${Math.round(migrateMs)} ms (not counted)`,
      });
    } finally {
      if (started) await Sidequest.stop();
    }
  });
};
