import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { Retry, type JobLogger } from '@oddjob/core';
import { InversifyContainerFactory, JobExecutorShell } from '@oddjob/executor-actors';
import { PostgresJobStore, type TransientRetryOptions } from '@oddjob/storage-postgres';
import { expect } from 'chai';
import { Container } from 'inversify';
import type pg from 'pg';
import { ExecutionLog, RecordingJob, registry } from './fixtures/recording-job.js';
import { adminPool, dropSchema, PG_URL, requirePostgres, terminateBackends, uniqueSchema } from './pg.js';
import { sleep, waitFor } from './wait.js';

const run = promisify(execFile);
const QUEUE = 'it';
const WORKERS = 8;
const MAX_PENDING = 16;
/** Short enough that a claim whose answer was lost with its connection comes back within the test. */
const LEASE_MS = 3_000;
/** Infrastructure trouble may cost a job attempts (a lost claim answer counts one); keep it far from the limit. */
const RETRY = Retry.fixed(10, 100);

/** Counts executions per job; the in-process tests read it directly. */
class MemoryExecutionLog extends ExecutionLog {
  readonly runs = new Map<string, number>();
  async started(jobId: string): Promise<void> {
    this.runs.set(jobId, (this.runs.get(jobId) ?? 0) + 1);
  }
}

/** Keeps the executor's complaints out of the test output, but countable and shown on failure. */
class CountingLogger implements JobLogger {
  errors = 0;
  warnings = 0;
  last: string[] = [];
  /** How often each message was logged, e.g. "claiming jobs failed; backing off". */
  readonly byMessage = new Map<string, number>();
  debug(): void {}
  info(): void {}
  warn(_obj: object, msg?: string): void {
    this.warnings++;
    this.keep(`warn: ${msg}`);
  }
  error(obj: object, msg?: string): void {
    this.errors++;
    const err = (obj as { err?: unknown }).err;
    this.keep(`error: ${msg}${err instanceof Error ? ` (${err.message})` : ''}`);
  }
  child(): JobLogger {
    return this;
  }
  summary(): string {
    return [...this.byMessage].map(([m, n]) => `${n}x "${m.replace('oddjob: ', '')}"`).join(', ') || 'nothing';
  }
  private keep(line: string): void {
    const msg = line.replace(/ \(.*$/, '');
    this.byMessage.set(msg, (this.byMessage.get(msg) ?? 0) + 1);
    this.last.push(line);
    if (this.last.length > 10) this.last.shift();
  }
}

/** The local cluster serving PG_URL's port, if this machine can restart it (root, Debian's pg_ctlcluster). */
async function restartableCluster(): Promise<{ version: string; name: string } | string> {
  if (process.env.ODDJOB_TEST_PG_RESTART === '0') return 'ODDJOB_TEST_PG_RESTART=0';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root';
  const onPath = (cmd: string) => (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, cmd)));
  if (!onPath('pg_ctlcluster') || !onPath('pg_lsclusters') || !onPath('pg_isready'))
    return 'pg_ctlcluster / pg_lsclusters / pg_isready not found';
  const url = new URL(PG_URL);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname))
    return `PostgreSQL at ${url.hostname} is not local`;
  const port = url.port || '5432';
  // Lines: "15  main    5432 online postgres /var/lib/postgresql/15/main ..."
  const { stdout } = await run('pg_lsclusters', ['--no-header']);
  for (const line of stdout.split('\n')) {
    const [version, name, clusterPort] = line.trim().split(/\s+/);
    if (clusterPort === port && version && name && existsSync(join('/etc/postgresql', version)))
      return { version, name };
  }
  return `no local cluster on port ${port} under /etc/postgresql`;
}

async function isReady(): Promise<boolean> {
  const url = new URL(PG_URL);
  try {
    await run('pg_isready', ['-q', '-h', url.hostname, '-p', url.port || '5432']);
    return true;
  } catch {
    return false;
  }
}

/**
 * One executor in this process against a PostgreSQL that misbehaves: its connections are cut again
 * and again, or the server restarts. The executor must ride it out: no crash, no job lost, every
 * job done, and a job run twice only when its completion could not be written before its lease ran
 * out.
 */
describe('executor on PostgreSQL through connection loss and a server restart', function () {
  let admin: pg.Pool;
  let schema: string | null = null;
  let stores: PostgresJobStore[] = [];
  let shell: JobExecutorShell | null = null;
  let restarted: { version: string; name: string } | null = null;

  before(async function () {
    await requirePostgres(this);
    admin = adminPool();
  });

  afterEach(async function () {
    await shell?.shutdown({ timeoutMs: 5_000 });
    shell = null;
    for (const st of stores) await st.close();
    stores = [];
    if (schema !== null) {
      if (restarted !== null) {
        await waitFor('PostgreSQL to answer before dropping the schema', () => isReady(), {
          timeoutMs: 60_000,
          intervalMs: 250,
        }).catch(() => undefined);
      }
      await dropSchema(admin, schema);
    }
    schema = null;
  });

  after(async function () {
    this.timeout(120_000);
    // Whatever the restart test did, PostgreSQL is left running.
    if (restarted !== null && !(await isReady())) {
      const { version, name } = restarted;
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'start']).catch(() =>
        run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'restart']),
      );
      await waitFor('PostgreSQL to be back', () => isReady(), { timeoutMs: 60_000, intervalMs: 250 });
    }
    await admin?.end();
  });

  /** A fresh schema and an executor on it whose connections all carry `app` as application_name. */
  async function setUp(
    label: string,
    app: string,
    transientRetry?: TransientRetryOptions,
  ): Promise<{ store: PostgresJobStore; log: MemoryExecutionLog; logger: CountingLogger }> {
    schema = uniqueSchema(label);
    const store = await PostgresJobStore.open({
      connection: { connectionString: PG_URL, max: 4, application_name: app },
      schema,
      transientRetry,
      onBackgroundError: () => undefined, // the LISTEN connection's reconnects; polling covers them
    });
    stores.push(store);
    const log = new MemoryExecutionLog();
    const logger = new CountingLogger();
    const container = new Container();
    container.bind(ExecutionLog).toConstantValue(log);
    shell = new JobExecutorShell({
      manager: store,
      registry,
      containers: new InversifyContainerFactory(container, { registry }),
      logger,
      owner: `it-${label}-${process.pid}`,
    });
    shell.startJobQueue(QUEUE, { workers: WORKERS, maxPending: MAX_PENDING, leaseMs: LEASE_MS, pulseMs: 250 });
    return { store, log, logger };
  }

  function specs(count: number, durationMs: number) {
    return Array.from({ length: count }, () => ({
      target: RecordingJob,
      call: (j: RecordingJob) => j.run(durationMs),
      options: { queue: QUEUE, retry: RETRY },
    }));
  }

  async function doneCount(s: PostgresJobStore): Promise<number> {
    return (await s.countJobs({ queue: QUEUE })).find((c) => c.status === 'done')?.count ?? 0;
  }

  /**
   * Every job done, every one executed, none more often than it was claimed, and duplicates within
   * `maxDuplicates`. Answers the number of duplicated executions.
   */
  async function assertAllDoneOnce(
    s: PostgresJobStore,
    ids: readonly string[],
    log: MemoryExecutionLog,
    maxDuplicates: number,
  ): Promise<number> {
    expect(new Set(ids).size, 'distinct ids enqueued').to.equal(ids.length);
    // Counted on the test's own connection: the store under test may still hold a pooled connection
    // that the last kill round cut, and (with no retries) would fail this read instead of the test's point.
    const counts = await admin.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM ${schema}.jobs WHERE queue = $1 GROUP BY status`,
      [QUEUE],
    );
    expect(counts.rows.map((r) => ({ status: r.status, count: Number(r.n) }))).to.deep.equal([
      { status: 'done', count: ids.length },
    ]);
    const { rows } = await admin.query<{ id: string; attempts: number }>(`SELECT id, attempts FROM ${schema}.jobs`);
    const attempts = new Map(rows.map((r) => [r.id, r.attempts]));
    expect(attempts.size, 'jobs stored').to.equal(ids.length);
    let duplicates = 0;
    for (const id of ids) {
      const runs = log.runs.get(id) ?? 0;
      expect(runs, `executions of ${id}`).to.be.at.least(1);
      // A job runs at most once per claim (a claim whose answer was lost counts an attempt and runs nothing).
      expect(runs, `executions of ${id} vs its attempts`).to.be.at.most(attempts.get(id)!);
      duplicates += runs - 1;
    }
    expect(log.runs.size, 'no execution of a job that was never enqueued').to.equal(ids.length);
    expect(duplicates, 'extra executions').to.be.at.most(maxDuplicates);
    return duplicates;
  }

  it('resumes after its backends are terminated again and again; no job is lost', async function () {
    this.timeout(120_000);
    const app = `oj-it-loss-${process.pid}`;
    // The executor's store gets no retry of its own (one try per statement), so that failures reach
    // the executor (failed claims, outcome writes, lease renewals) instead of being absorbed below it.
    const { store: exec, log, logger } = await setUp('conn_loss', app, { maxAttempts: 1 });
    // The producer's connections are cut too, but it keeps the default retries: an enqueue whose
    // connection dropped is re-run and must neither fail nor duplicate a job. The test counts through it.
    const s = await PostgresJobStore.open({
      connection: { connectionString: PG_URL, max: 2, application_name: app },
      schema: schema!,
      notify: true,
      onBackgroundError: () => undefined,
    });
    stores.push(s);
    const TOTAL = 4_000;
    const adder = s.adder({ registry });

    // Half up front; the other half is enqueued during the run.
    const ids = await adder.addJobs(specs(TOTAL / 2, 5));
    let stop = false;
    let terminated = 0;
    let rounds = 0;
    const killer = (async () => {
      while (!stop) {
        await sleep(100);
        terminated += await terminateBackends(admin, app);
        rounds++;
      }
    })();
    try {
      for (let i = 0; i < TOTAL / 2; i += 250) {
        ids.push(...(await adder.addJobs(specs(250, 5))));
        await sleep(100);
      }
      let done = 0;
      await waitFor(
        `all ${TOTAL} jobs to be done`,
        async () => {
          done = await doneCount(s);
          return done === TOTAL;
        },
        { timeoutMs: 90_000, intervalMs: 250, status: () => `${done} done; executor said: ${logger.last.join(' | ')}` },
      );
    } finally {
      stop = true;
      await killer;
    }
    expect(rounds, 'kill rounds').to.be.at.least(5);
    expect(terminated, 'backends really terminated').to.be.greaterThan(rounds / 2);
    expect(logger.errors, 'storage failures that reached the executor').to.be.greaterThan(0);
    await shell!.shutdown({ timeoutMs: 10_000 });
    const duplicates = await assertAllDoneOnce(exec, ids, log, MAX_PENDING);
    console.log(
      `      ${rounds} kill rounds terminated ${terminated} backends; ${TOTAL} done, ${duplicates} extra executions; ` +
        `executor logged: ${logger.summary()}`,
    );
  });

  it('resumes after a real PostgreSQL restart in the middle of a run; no job is lost', async function () {
    this.timeout(120_000);
    const cluster = await restartableCluster();
    if (typeof cluster === 'string') {
      console.warn(`    skipping the PostgreSQL restart test: ${cluster}`);
      this.skip();
    }
    const app = `oj-it-restart-${process.pid}`;
    // The store gives up on a statement after ~0.3 s instead of its default ~10 s, so the outage
    // (seconds) reaches the executor: its claims and outcome writes fail and it must back off and
    // come back by itself, over refused connections and "the database system is starting up".
    const { store: s, log, logger } = await setUp('restart', app, { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 });
    const TOTAL = 3_000;
    const ids = await s.adder({ registry }).addJobs(specs(TOTAL, 5));

    let done = 0;
    await waitFor('a quarter of the jobs to be done', async () => (done = await doneCount(s)) >= TOTAL / 4, {
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    expect(done, 'jobs left when the restart begins').to.be.lessThan(TOTAL);
    restarted = cluster;
    const began = Date.now();
    // `restart` stops the server (fast mode: every session is terminated) and waits until it accepts
    // connections again.
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, cluster.name, 'restart']);
    await waitFor('PostgreSQL to accept connections again', () => isReady(), { timeoutMs: 60_000, intervalMs: 100 });
    const restartMs = Date.now() - began;

    await waitFor(
      `all ${TOTAL} jobs to be done`,
      async () => {
        done = await doneCount(s).catch(() => done);
        return done === TOTAL;
      },
      { timeoutMs: 90_000, intervalMs: 250, status: () => `${done} done; executor said: ${logger.last.join(' | ')}` },
    );
    await shell!.shutdown({ timeoutMs: 10_000 });
    expect(logger.errors, 'storage failures that reached the executor').to.be.greaterThan(0);
    // While the server is down nothing is claimed, so the jobs that can run twice are those the
    // executor held then: at most MAX_PENDING claimed plus the outcomes finished but not yet written.
    const duplicates = await assertAllDoneOnce(s, ids, log, 2 * MAX_PENDING);
    console.log(
      `      restart took ${restartMs} ms; ${TOTAL} done, ${duplicates} extra executions; ` +
        `executor logged: ${logger.summary()}`,
    );
  });
});
