/**
 * `npm run bench -- wait`: what `waitForJob` costs on PostgreSQL with 1,000 concurrent waiters.
 *
 * Each round enqueues WAIT_JOBS (1,000) no-op jobs. In the `waited` round a second store (its own
 * pool, as a producer process would have) starts one waitForJob per job and the round waits until
 * every job is marked `waited`; then an executor shell drains the queue. Reported:
 * - last completion → last waiter resolved, and p50/p99 of completion → resolve per job, where
 *   "completion" is the job's finished_at (the database's now() in the done statement, i.e. its
 *   start; so the figures include that statement and its commit);
 * - CPU of this process (both stores, the shell, the waiters) and of every local postgres process
 *   over the drain (PostgreSQL is shared: other work on it is counted too), and the queries each
 *   store's pool sent during the drain.
 * The waiters share this process with the executor (one event loop), as an application that
 * enqueues, runs and awaits its own jobs would; their wake-ups queue behind its work.
 * The `plain` round drains the same jobs with nobody waiting, and LISTENs on the finished channel
 * itself to show that such jobs send no NOTIFY. WAIT_ROUNDS (default 3) pairs of rounds; medians.
 */
import 'reflect-metadata';
import pg from 'pg';
import { JobRegistry, type JobRecord } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { median, nowMs, percentile, postgresCpuUs, waitFor } from './race/measure.js';
import { dropSchema, queryCount } from './race/schema.js';
import { intFromEnv } from './race/env.js';

const PG_URL = process.env.RACE_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'bench_wait';
const QUEUE = 'wait';

class NoopJob {
  run(_i: number): void {}
}

interface Round {
  kind: 'waited' | 'plain';
  /** Executor start → every job done (seen by the probe). */
  doneMs: number;
  /** Executor start → every job done and every waiter resolved. */
  drainMs: number;
  lastDoneToLastResolvedMs: number;
  resolveP50Ms: number;
  resolveP99Ms: number;
  nodeCpuMs: number;
  postgresCpuMs: number;
  executorQueries: number;
  waiterQueries: number;
  notifies: number;
}

/** Counts the queries a store's pool sends (pg.Pool#query is what the store calls for each statement). */
function countQueries(pool: pg.Pool): { count(): number } {
  let n = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    n++;
    return query(...args);
  };
  return { count: () => n };
}

async function round(kind: Round['kind'], jobs: number): Promise<Round> {
  await dropSchema(PG_URL, SCHEMA);
  const registry = new JobRegistry().register('noop', NoopJob);
  const executorStore = await PostgresJobStore.open({ connection: PG_URL, schema: SCHEMA });
  const waiterStore = await PostgresJobStore.open({ connection: PG_URL, schema: SCHEMA });
  const probe = new pg.Client({ connectionString: PG_URL });
  await probe.connect();
  let notifies = 0;
  probe.on('notification', (msg) => {
    if (msg.channel === `${SCHEMA}_finished`) notifies += (msg.payload ?? '').split(',').length;
  });
  await probe.query(`LISTEN ${SCHEMA}_finished`);
  let shell: JobExecutorShell | undefined;
  try {
    const adder = executorStore.adder({ registry });
    const ids: string[] = [];
    for (let from = 0; from < jobs; from += 1000) {
      const specs = [];
      for (let i = from; i < Math.min(jobs, from + 1000); i++)
        specs.push({ target: NoopJob, call: (j: NoopJob) => j.run(i), options: { queue: QUEUE } });
      ids.push(...(await adder.addJobs(specs)));
    }

    const resolved = new Map<string, { at: number; job: JobRecord }>();
    let waits: Promise<unknown> = Promise.resolve();
    if (kind === 'waited') {
      waits = Promise.all(
        ids.map((id) =>
          waiterStore.waitForJob(id, { timeoutMs: 120_000 }).then((job) => resolved.set(id, { at: Date.now(), job })),
        ),
      );
      const marked = `SELECT count(*) AS n FROM ${SCHEMA}.jobs WHERE waited`;
      await waitFor('every job to be marked waited', async () => (await queryCount(probe, marked)) === jobs, {
        intervalMs: 5,
      });
      // Each waiter then reads its job once; let those reads finish so that the drain counts only what the wake-ups cost.
      const pool = waiterStore.pool;
      await waitFor("the waiters' first reads", () => pool.waitingCount === 0 && pool.idleCount === pool.totalCount, {
        intervalMs: 5,
      });
      await new Promise((r) => setTimeout(r, 200));
    }

    const executorQueries = countQueries(executorStore.pool);
    const waiterQueries = countQueries(waiterStore.pool);
    const pgStart = postgresCpuUs();
    const nodeStart = process.cpuUsage();
    const start = nowMs();
    shell = new JobExecutorShell({ manager: executorStore, registry, logger: silentLogger });
    shell.startJobQueue(QUEUE, { workers: 10, maxPending: 500, pulseMs: 1000 });
    const notDone = `SELECT count(*) AS n FROM ${SCHEMA}.jobs WHERE status <> 'done'`;
    await waitFor('every job done', async () => (await queryCount(probe, notDone)) === 0, { intervalMs: 2 });
    const doneMs = nowMs() - start;
    await waits;
    const drainMs = nowMs() - start;
    const node = process.cpuUsage(nodeStart);
    const postgresCpuMs = (postgresCpuUs() - pgStart) / 1000;

    const latencies = [...resolved.values()].map((r) => r.at - r.job.finishedAt!.getTime());
    const lastDone = Math.max(...[...resolved.values()].map((r) => r.job.finishedAt!.getTime()));
    const lastResolved = Math.max(...[...resolved.values()].map((r) => r.at));
    // Notifications still in flight arrive in commit order: one more round trip lets them land.
    await probe.query('SELECT 1');
    return {
      kind,
      doneMs,
      drainMs,
      lastDoneToLastResolvedMs: kind === 'waited' ? lastResolved - lastDone : Number.NaN,
      resolveP50Ms: percentile(latencies, 50),
      resolveP99Ms: percentile(latencies, 99),
      nodeCpuMs: (node.user + node.system) / 1000,
      postgresCpuMs,
      executorQueries: executorQueries.count(),
      waiterQueries: waiterQueries.count(),
      notifies,
    };
  } finally {
    await shell?.shutdown({ timeoutMs: 5000 });
    await waiterStore.close();
    await executorStore.close();
    await probe.end();
    await dropSchema(PG_URL, SCHEMA);
  }
}

export async function main(): Promise<void> {
  const jobs = intFromEnv('WAIT_JOBS', 1000, 1);
  const rounds = intFromEnv('WAIT_ROUNDS', 3, 1);
  const all: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    all.push(await round('waited', jobs));
    all.push(await round('plain', jobs));
  }
  const fmt = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(1));
  console.log(`waitForJob: ${jobs} jobs, ${rounds} rounds each (medians), executor: 10 workers, maxPending 500`);
  console.log(
    'round   done ms  drain ms  last done→last resolved ms  resolve p50/p99 ms  node CPU ms  pg CPU ms  executor queries  waiter queries  NOTIFYs',
  );
  for (const kind of ['waited', 'plain'] as const) {
    const rs = all.filter((r) => r.kind === kind);
    const m = (read: (r: Round) => number) => median(rs.map(read));
    console.log(
      [
        kind.padEnd(7),
        fmt(m((r) => r.doneMs)).padStart(7),
        fmt(m((r) => r.drainMs)).padStart(9),
        fmt(m((r) => r.lastDoneToLastResolvedMs)).padStart(27),
        `${fmt(m((r) => r.resolveP50Ms))}/${fmt(m((r) => r.resolveP99Ms))}`.padStart(19),
        fmt(m((r) => r.nodeCpuMs)).padStart(12),
        fmt(m((r) => r.postgresCpuMs)).padStart(10),
        String(m((r) => r.executorQueries)).padStart(17),
        String(m((r) => r.waiterQueries)).padStart(15),
        String(m((r) => r.notifies)).padStart(8),
      ].join(' '),
    );
  }
}
