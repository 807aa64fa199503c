/**
 * graphile-worker as a race contender: 0.17.3 here (Node 20), the newest release in bench/next (Node 24).
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
import * as graphileWorker from 'graphile-worker';
import type { Runner, Task, WorkerUtils } from 'graphile-worker';
import type { RaceContender, RaceOptions, RaceResult } from './types.js';
import { nowMs, ranges } from './measure.js';
import { inOwnSchema, measureLatency, measureProcessing, raceResult, raceSettings, timed } from './phases.js';
import { queryCount } from './schema.js';
import { intFromEnv } from './env.js';

const SCHEMA = 'race_graphile';
const TASK = 'race';
const ONE_BY_ONE_TASK = 'race_one';
const BATCH = 1000;

/** Payload of a race job: `t` (enqueue time) marks a latency probe. */
interface RacePayload {
  i: number;
  t?: number;
}

/**
 * What the race uses of graphile-worker. The Node 24 race (bench/next) hands in the newest release
 * through this same shape, so both releases are measured by one piece of code.
 */
export type GraphileLib = Pick<typeof graphileWorker, 'Logger' | 'makeWorkerUtils' | 'run'>;

/** graphile's local queue (env GRAPHILE_LOCAL_QUEUE_SIZE, default 500; -1 turns it off). */
const localQueueSize = (): number => intFromEnv('GRAPHILE_LOCAL_QUEUE_SIZE', 500, -1);

/** A contender for the given release of graphile-worker (`version` only names it in the table). */
export function graphileContender(lib: GraphileLib, version: string): RaceContender {
  const { makeWorkerUtils, run } = lib;
  /** Only errors reach the console: graphile's info lines would interleave with the table. */
  // `level` taken as a string: LogLevel is a const enum, and this code serves two releases' declarations of it.
  const quietLogger = new lib.Logger(() => (level: string, message) => {
    if (level === 'error') console.error(`[graphile-worker] ${message}`);
  });
  return (opts: RaceOptions): Promise<RaceResult> => {
    const s = raceSettings(opts);
    const { connectionString, jobs, workers, enqueueOneJobs } = s;
    const queueSize = localQueueSize();
    const maxPoolSize = Math.max(10, workers + 2);

    return inOwnSchema(connectionString, SCHEMA, async (probe) => {
      let utils: WorkerUtils | undefined;
      let runner: Runner | undefined;
      try {
        // makeWorkerUtils already installs the schema; migrate() makes it explicit. Both are timed.
        const migrateMs = await timed(async () => {
          utils = await makeWorkerUtils({ connectionString, schema: SCHEMA, logger: quietLogger });
          await utils.migrate();
        });
        const producer = utils!;

        // Phase 1: one job per call, awaited one after another.
        const oneIds: string[] = [];
        const oneMs = await timed(async () => {
          for (let i = 0; i < enqueueOneJobs; i++) {
            const job = await producer.addJob(ONE_BY_ONE_TASK, { i } satisfies RacePayload);
            oneIds.push(job.id);
          }
        });
        // These jobs have no handler; remove them so they do not sit in the index the workers scan.
        for (const [from, to] of ranges(oneIds.length, BATCH)) await producer.completeJobs(oneIds.slice(from, to));

        // Phase 2: `jobs` jobs through add_jobs, BATCH per call.
        const batchMs = await timed(async () => {
          for (const [from, to] of ranges(jobs, BATCH)) {
            const specs = [];
            for (let i = from; i < to; i++) specs.push({ identifier: TASK, payload: { i } satisfies RacePayload });
            await producer.addJobs(specs);
          }
        });

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
        const pending = `SELECT count(*) AS n FROM "${SCHEMA}"._private_jobs`;
        const processing = await measureProcessing({
          library: 'graphile-worker',
          jobs,
          start: async () => {
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
          },
          handled: () => handled,
          finished: 'delete every completed job',
          allFinished: async () => (await queryCount(probe, pending)) === 0,
        });

        // Phase 4: the pool is idle and LISTENing; probes arrive at a steady rate.
        await measureLatency('graphile-worker', s, latencies, async (i) => {
          await producer.addJob(TASK, { i, t: nowMs() } satisfies RacePayload);
        });

        return raceResult({
          name: `graphile-worker ${version}`,
          settings: s,
          oneMs,
          batchMs,
          processing,
          latencies,
          notes:
            `concurrency ${workers}, maxPoolSize ${maxPoolSize}, localQueue.size ${queueSize}, ` +
            `completeJobBatchDelay 0, addJobs batches of ${BATCH}, LISTEN/NOTIFY; migration ${Math.round(migrateMs)} ms (not counted)`,
        });
      } finally {
        await runner?.stop();
        await utils?.release();
      }
    });
  };
}

export const raceGraphile: RaceContender = graphileContender(graphileWorker, '0.17.3');
