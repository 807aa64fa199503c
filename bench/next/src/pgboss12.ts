/**
 * pg-boss 12 (the newest release; needs Node 22+) as a race contender.
 *
 * pg-boss 12 is a different animal from the 10.4.2 that the Node 20 race pins: it has LISTEN/NOTIFY
 * (`useListenNotify` on the instance, `notify: true` per queue), a burst mode that fetches again at
 * once while fetches come back full (`burstWhenBatchFull`), and `localConcurrency` (several pollers
 * from one `work()` call). Its best throughput configuration for no-op jobs, from the option docs
 * in its types.d.ts and tried here (see the README for what else was tried):
 * - one `work()` call with `localConcurrency: workers` (10): the race's concurrency;
 * - `batchSize` 500 (env PGBOSS_BATCH_SIZE): each poller fetches that many, runs them one after
 *   another; burst mode keeps it fetching while the backlog lasts. Larger batches change little;
 *   smaller ones lower the ceiling (every fetch is a round trip and a completion statement);
 * - `useListenNotify` + a `notify` queue, so idle workers wake on enqueue instead of polling
 *   (latency), with `pollingIntervalSeconds` 0.5 (the minimum) as the backstop;
 * - `max: max(10, workers + 2)` pool clients: the same database budget as the other contenders;
 * - `supervise: false`, `schedule: false`: no maintenance or cron loops mid-measurement;
 * - batches through `insert()` (one statement per 1000), single jobs through `send()`.
 * Completion is fire-and-forget after the handler returns, so processing ends when the database
 * shows every job completed.
 */
import { PgBoss, type Job } from 'pg-boss';
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
import { versionOf } from './versions.js';

const SCHEMA = 'race_pgboss12';
const QUEUE = 'race';
const ONE_BY_ONE_QUEUE = 'race-one';
const BATCH = 1000;
const POLLING_INTERVAL_SECONDS = 0.5;

interface RacePayload {
  i: number;
  t?: number;
}

/** Jobs one poller fetches (env PGBOSS_BATCH_SIZE, default 500). */
const batchSize = (): number => intFromEnv('PGBOSS_BATCH_SIZE', 500, 1);

export const racePgBoss12: RaceContender = (opts: RaceOptions): Promise<RaceResult> => {
  const s = raceSettings(opts);
  const { connectionString, jobs, workers, enqueueOneJobs } = s;
  const fetchSize = batchSize();
  const max = Math.max(10, workers + 2);
  const version = versionOf('pg-boss');

  return inOwnSchema(connectionString, SCHEMA, async (probe) => {
    const boss = new PgBoss({
      connectionString,
      schema: SCHEMA,
      max,
      migrate: true,
      supervise: false,
      schedule: false,
      useListenNotify: true,
    });
    let stopping = false;
    boss.on('error', (error: Error) => {
      if (!stopping) console.error(`[pg-boss] ${error.message}`);
    });
    let started = false;
    try {
      const migrateMs = await timed(async () => {
        await boss.start();
        started = true;
        await boss.createQueue(QUEUE, { notify: true });
        await boss.createQueue(ONE_BY_ONE_QUEUE);
      });

      const oneMs = await timed(async () => {
        for (let i = 0; i < enqueueOneJobs; i++) await boss.send(ONE_BY_ONE_QUEUE, { i } satisfies RacePayload);
      });
      await boss.deleteQueue(ONE_BY_ONE_QUEUE);

      const batchMs = await timed(async () => {
        for (const [from, to] of ranges(jobs, BATCH)) {
          const batch = [];
          for (let i = from; i < to; i++) batch.push({ data: { i } satisfies RacePayload });
          await boss.insert(QUEUE, batch);
        }
      });

      let handled = 0;
      const latencies: number[] = [];
      const completed = `SELECT count(*) AS n FROM "${SCHEMA}".job WHERE name = $1 AND state = 'completed'`;
      const processing = await measureProcessing({
        library: 'pg-boss',
        jobs,
        start: async () => {
          await boss.work<RacePayload>(
            QUEUE,
            {
              batchSize: fetchSize,
              localConcurrency: workers,
              pollingIntervalSeconds: POLLING_INTERVAL_SECONDS,
              burstWhenBatchFull: true,
            },
            async (batch: Job<RacePayload>[]) => {
              for (const job of batch) {
                const startedAt = nowMs();
                const { t } = job.data;
                if (t === undefined) handled++;
                else latencies.push(startedAt - t);
              }
            },
          );
        },
        handled: () => handled,
        finished: 'mark every job completed',
        allFinished: async () => (await queryCount(probe, completed, [QUEUE])) >= jobs,
      });

      await measureLatency('pg-boss', s, latencies, async (i) => {
        await boss.send(QUEUE, { i, t: nowMs() } satisfies RacePayload);
      });

      return raceResult({
        name: `pg-boss ${version}`,
        settings: s,
        oneMs,
        batchMs,
        processing,
        latencies,
        notes:
          `one work() with localConcurrency ${workers}, batchSize ${fetchSize}, burstWhenBatchFull, LISTEN/NOTIFY (notify queue), ` +
          `pollingIntervalSeconds ${POLLING_INTERVAL_SECONDS}, max ${max}, supervise/schedule off, insert() batches of ${BATCH}; ` +
          `migration + createQueue ${Math.round(migrateMs)} ms (not counted)`,
      });
    } finally {
      stopping = true;
      if (started) await boss.stop({ graceful: true, timeout: 5000 });
    }
  });
};
