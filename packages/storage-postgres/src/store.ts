import {
  byRunAtThenId,
  checkClaimRequest,
  checkExtendLeases,
  checkProgress,
  InvalidOptionError,
  leaseExpiredErrorParts,
  leaseTakeoverError,
  resolveMigrationMode,
  waitForFinalJob,
  type MigrationMode,
  systemClock,
  type ClaimedJob,
  type ClaimRequest,
  type Clock,
  type ExecutorEntry,
  type ExecutorInfo,
  type IExecutorRegistry,
  type JobRun,
  type ListExecutorsOptions,
  type LogAppend,
  type LogFilter,
  type RunFilter,
  type StoredLogLine,
  type WaitOptions,
  type FinalJobStatus,
  type IJobQueueAdmin,
  type IJobQueueManager,
  type IJobWriter,
  type IAttemptedJobWriter,
  type AttemptedJob,
  type IScheduleStore,
  type JobCount,
  type JobFilter,
  type JobLease,
  type JobOutcome,
  type JobProgress,
  type JobRecord,
  type JobRegistry,
  type LeaseCheck,
  type NewJob,
  type PurgeFilter,
  type ScheduleRecord,
} from '@oddjob/core';
import { randomUUID } from 'node:crypto';
import type { ClientBase, ClientConfig, Pool, PoolConfig } from 'pg';
import pg from 'pg';
import { PostgresJobQueueAdder } from './adder.js';
import * as ops from './admin-ops.js';
import * as executorOps from './executor-ops.js';
import * as history from './history-ops.js';
import { recordOutcomes, type OutcomeOps } from './outcome-ops.js';
import { Database } from './db.js';
import { insertJobs } from './insert-jobs.js';
import { insertAttempted } from './insert-attempted.js';
import { isUuid } from './uuid.js';
import { backgroundError } from './errors.js';
import { JobsAvailableListener } from './listener.js';
import { checkSchemaVersion, migrate, type MigrationResult } from './migrate.js';
import {
  DEFAULT_SCHEMA,
  resolveRetention,
  resolveTransientRetry,
  validateSchemaName,
  type PostgresStoreOptions,
  type RetentionOptions,
} from './options.js';
import { Coalescer } from './coalesce.js';
import { jsonText, toClaimedJob, toJobRecord, type JobRow } from './rows.js';
import { buildStatements, channelName, finishedChannelName, type Statements } from './sql/index.js';
import type { ResolvedTransientRetry } from './transient.js';

/** core's LeaseExpiredError, split around the owner so the claim statement can build it per row. */
const LEASE_EXPIRED = leaseExpiredErrorParts();

/** core's takeover error (the run record of an attempt whose expired lease a claim took over), split the same way. */
const LEASE_TAKEOVER = (() => {
  const mark = '\u0001owner\u0001';
  const { message } = leaseTakeoverError(mark);
  const at = message.indexOf(mark);
  return { before: message.slice(0, at), after: message.slice(at + mark.length) };
})();

/**
 * How long waitForJob waits for the LISTEN connection before it relies on polling alone (the
 * connection may be down; it wakes every waiter once it is back).
 */
const LISTEN_WAIT_MS = 2_000;

/**
 * Connection option for pools the store makes itself. Every statement is prepared once per
 * connection (see sql/context.ts), and PostgreSQL then plans it anew on every execution unless its
 * generic plan looks no dearer than a custom one. For the claim it never does: with the limit and
 * the queue list unknown, the estimates are ten times the real batch, so each claim was planned
 * again (~0.8 ms, a fifth of the claim's server time for 250 jobs). Every statement here is written
 * to use its index whatever the parameters (measured with force_generic_plan on 20,000 jobs), so the
 * generic plan is the right one. With a pool of your own, add `-c plan_cache_mode=force_generic_plan`
 * to its `options` for the same effect.
 */
const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

function isPool(value: unknown): value is Pool {
  if (value instanceof pg.Pool) return true;
  // A pool from another copy of pg fails instanceof; recognise it by shape.
  const v = value as Partial<Pool> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.connect === 'function' &&
    typeof v.query === 'function' &&
    'totalCount' in v
  );
}

/**
 * OddJob's storage on PostgreSQL: the writer (enqueue), the executor's manager (claim, outcomes,
 * leases), the admin side and schedule storage, all on one pool. Open it with `PostgresJobStore.open`.
 *
 * Concurrency lives in the SQL (see src/sql/): claims use FOR UPDATE SKIP LOCKED, every write after a
 * claim is fenced by the lease token, unique keys are arbitrated by a unique index. Any number of
 * stores in any number of processes may share one schema.
 */
export class PostgresJobStore
  implements
    IJobWriter<ClientBase>,
    IAttemptedJobWriter,
    IJobQueueManager,
    IJobQueueAdmin,
    IScheduleStore,
    IExecutorRegistry
{
  readonly schema: string;
  /** The clock adders use for `delayMs`: the injected one, or the system clock. */
  readonly clock: Clock;
  readonly pool: Pool;
  private readonly injectedClock: Clock | undefined;
  private readonly ownsPool: boolean;
  private readonly db: Database;
  private readonly sql: Statements;
  private readonly notify: boolean;
  private readonly deleteDoneJobs: boolean;
  private readonly listener: JobsAvailableListener;
  private readonly retention: RetentionOptions & { batchSize: number };
  private readonly transientRetry: ResolvedTransientRetry;
  private readonly migrations: MigrationMode;
  private readonly onBackgroundError: (err: Error) => void;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionRunning = false;
  private closed = false;
  private readonly ops: ops.PgOps;
  private readonly outcomeOps: OutcomeOps;
  /** waitForJob's reads and marks, one statement per event-loop turn (see coalesce.ts). */
  private readonly waitReads = new Coalescer<JobRow | null>(async (ids) => {
    const rows = await this.db.run<JobRow>('get jobs', this.sql.getJobs, [ids]);
    return new Map(rows.map((r) => [r.id, r]));
  }, null);
  private readonly waitMarks = new Coalescer<null>(async (ids) => {
    await this.db.run('mark jobs waited', this.sql.markWaited, [ids]);
    return new Map();
  }, null);

  /**
   * Opens a store: makes (or adopts) the pool, applies pending migrations under the advisory lock
   * (or, with `migrate: false`, checks the schema version) and starts the retention timer if asked.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresJobStore> {
    const store = new PostgresJobStore(options);
    try {
      if (store.migrations === 'verify') await checkSchemaVersion(store.pool, store.schema, store.transientRetry);
      else await migrate(store.pool, store.schema, store.transientRetry);
    } catch (err) {
      await store.close();
      throw err;
    }
    store.startRetentionTimer();
    return store;
  }

  private constructor(options: PostgresStoreOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
    this.schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA);
    this.injectedClock = options.clock;
    this.clock = options.clock ?? systemClock;
    this.retention = resolveRetention(options.retention);
    this.transientRetry = resolveTransientRetry(options.retry ?? options.transientRetry);
    this.migrations =
      options.migrations !== undefined
        ? resolveMigrationMode(options.migrations)
        : options.migrate === false
          ? 'verify'
          : 'apply';
    this.notify = options.notify ?? true;
    this.deleteDoneJobs = options.deleteDoneJobs ?? false;
    if (typeof this.deleteDoneJobs !== 'boolean') throw new InvalidOptionError('deleteDoneJobs', 'must be a boolean');
    this.onBackgroundError = options.onBackgroundError ?? ((err) => console.warn(`[oddjob/postgres] ${err.message}`));

    const { connection } = options;
    let listenConfig: ClientConfig;
    if (isPool(connection)) {
      this.pool = connection;
      this.ownsPool = false;
      // pg-pool keeps its config (password included, non-enumerable) on `options`: pass it as is.
      listenConfig = (connection as Pool & { options: PoolConfig }).options;
    } else if (typeof connection === 'string' || (typeof connection === 'object' && connection !== null)) {
      const given: PoolConfig = typeof connection === 'string' ? { connectionString: connection } : connection;
      const config: PoolConfig = { ...given, options: [given.options, GENERIC_PLANS].filter(Boolean).join(' ') };
      this.pool = new pg.Pool(config);
      this.ownsPool = true;
      listenConfig = config;
    } else {
      throw new InvalidOptionError('connection', 'must be a connection string, a pg PoolConfig or a pg.Pool');
    }
    // pg emits 'error' on the pool when an idle connection dies (server restart, terminated backend);
    // unhandled, that event would crash the process. The next query simply gets a fresh connection.
    if (this.pool.listenerCount('error') === 0) {
      this.pool.on('error', (err) => this.onBackgroundError(backgroundError('pool', 'idle connection lost', err)));
    }
    this.db = new Database(this.pool, this.schema, this.transientRetry);
    this.sql = buildStatements(this.schema);
    this.listener = new JobsAvailableListener(
      listenConfig,
      channelName(this.schema),
      finishedChannelName(this.schema),
      this.onBackgroundError,
    );
    this.ops = {
      db: this.db,
      sql: this.sql,
      now: () => this.now(),
      notify: this.notify,
      retention: this.retention,
      isClosed: () => this.closed,
    };
    this.outcomeOps = {
      db: this.db,
      sql: this.sql,
      now: () => this.now(),
      notify: this.notify,
      deleteDoneJobs: this.deleteDoneJobs,
      onBackgroundError: (err) => this.onBackgroundError(err),
    };
  }

  /** An adder writing to this store; pass `{ tx: client }` to enqueue inside your transaction. */
  adder(options: { registry?: JobRegistry } = {}): PostgresJobQueueAdder {
    return new PostgresJobQueueAdder(this, options);
  }

  /** Applies pending migrations now (the store does this on open unless `migrate: false`). */
  migrate(): Promise<MigrationResult> {
    return migrate(this.pool, this.schema, this.transientRetry);
  }

  // ---- writer ----

  insertJobs(jobs: readonly NewJob[], tx?: ClientBase): Promise<string[]> {
    return this.insert(jobs, tx);
  }

  private insert(jobs: readonly NewJob[], tx: ClientBase | undefined): Promise<string[]> {
    return insertJobs(this.ops, jobs, tx);
  }

  /** Jobs whose attempt 1 already ran, stored as it left them, in one transaction (see insert-attempted.ts). */
  insertAttempted(entries: readonly AttemptedJob[]): Promise<string[]> {
    return insertAttempted(this.ops, entries);
  }

  // ---- manager ----

  onJobsAvailable(listener: (queue: string) => void): () => void {
    if (typeof listener !== 'function') throw new InvalidOptionError('listener', 'must be a function');
    if (!this.notify || this.closed) return () => undefined;
    return this.listener.subscribe(listener);
  }

  /**
   * Resolves once the LISTEN connection is up (it opens with the first onJobsAvailable subscription),
   * or when the store closes. Rejects at once if the store was opened with `notify: false`.
   */
  whenListening(): Promise<void> {
    if (!this.notify) return Promise.reject(new InvalidOptionError('notify', 'is false, so this store never listens'));
    if (this.closed) return Promise.resolve();
    return this.listener.whenListening();
  }

  async claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    const { queues: wanted, limit, owner, leaseMs, host, takeoverAfterMs } = checkClaimRequest(request);
    if (wanted.length === 0) return [];
    const claimed: ClaimedJob[] = [];
    // A claim that met spent jobs (lease expired, no attempt left) failed them and came back short
    // by as many: ask again for the rest, so a short answer still means the queues ran dry. Each
    // round fails such jobs for good, so this ends.
    for (;;) {
      const token = randomUUID();
      const rows = await this.db.runText('claim jobs', this.sql.claim, [
        this.now(),
        wanted,
        limit - claimed.length,
        owner,
        leaseMs,
        LEASE_EXPIRED.before,
        LEASE_EXPIRED.after,
        LEASE_EXPIRED.name,
        token,
        host ?? null,
        LEASE_TAKEOVER.before,
        LEASE_TAKEOVER.after,
        takeoverAfterMs,
      ]);
      let reaped = 0;
      for (const row of rows) {
        if (row[1] === null) reaped++;
        else claimed.push(toClaimedJob(row, owner, token, host ?? null));
      }
      if (reaped === 0 || claimed.length === limit) break;
    }
    return claimed.sort(byRunAtThenId);
  }

  recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    return recordOutcomes(this.outcomeOps, outcomes);
  }

  async extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    checkExtendLeases(leases, leaseMs);
    const valid = leases.filter((l) => l && isUuid(l.jobId) && typeof l.token === 'string');
    if (valid.length === 0) return leases.map(() => 'lease-lost');
    const rows = await this.db.run<{ id: string; token: string }>('extend leases', this.sql.extendLeases, [
      this.now(),
      valid.map((l) => l.jobId),
      valid.map((l) => l.token),
      leaseMs,
    ]);
    const held = new Set(rows.map((r) => `${r.id}/${r.token}`));
    return leases.map((l) => (l && held.has(`${l.jobId}/${l.token}`) ? 'ok' : 'lease-lost'));
  }

  async reportProgress(lease: JobLease, progress: JobProgress, message?: string | null): Promise<LeaseCheck> {
    const text = checkProgress(progress, message);
    const json = jsonText(progress, 'progress');
    if (!lease || !isUuid(lease.jobId) || typeof lease.token !== 'string') return 'lease-lost';
    const rows = await this.db.run('report progress', this.sql.reportProgress, [
      this.now(),
      lease.jobId,
      lease.token,
      json,
      text,
    ]);
    return rows.length === 1 ? 'ok' : 'lease-lost';
  }

  appendLogs(entries: readonly LogAppend[]): Promise<LeaseCheck[]> {
    return history.appendLogs(this.ops, entries);
  }

  // ---- admin ----

  getJob(id: string, options: { runs?: boolean } = {}): Promise<JobRecord | null> {
    return options?.runs === true ? history.getJobWithRuns(this.ops, id) : ops.getJob(this.ops, id);
  }

  listRuns(jobId: string, filter?: RunFilter): Promise<JobRun[]> {
    return history.listRuns(this.ops, jobId, filter);
  }

  listLogs(jobId: string, filter?: LogFilter): Promise<StoredLogLine[]> {
    return history.listLogs(this.ops, jobId, filter);
  }

  /**
   * Resolves with the job once it is final (core's waitForFinalJob). With `notify` on, a waiter is
   * woken by the NOTIFY of the statement that finishes the job, in any process: the job is marked
   * `waited` first, and only marked jobs are announced, so jobs nobody waits on cost nothing.
   * Polling (every 5 s, then) covers a lost notification or a LISTEN connection that is down.
   */
  waitForJob(id: string, options?: WaitOptions): Promise<JobRecord> {
    const watch = this.notify ? (jobId: string, wake: () => void) => this.watchFinish(jobId, wake) : undefined;
    return waitForFinalJob((jobId) => this.waitRead(jobId), id, options, watch);
  }

  /** getJob for waiters, coalesced; each waiter gets its own copy (rows of one batch are shared). */
  private async waitRead(id: string): Promise<JobRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.waitReads.get(id);
    return row === null ? null : toJobRecord(structuredClone(row));
  }

  /**
   * waitForJob's FinishWatch: LISTEN (bounded: polling covers a connection that is down), then mark
   * the job waited. Both happen before the waiter's first read, so a finish is either seen by that
   * read or committed after the mark and announced to a connection already listening.
   */
  private async watchFinish(id: string, wake: () => void): Promise<() => void> {
    const unwatch = this.listener.watchFinished(id, wake);
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.listener.whenListening(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, LISTEN_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (isUuid(id)) await this.waitMarks.get(id);
    } catch (err) {
      unwatch();
      throw err;
    }
    return unwatch;
  }

  listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    return ops.listJobs(this.ops, filter);
  }

  countJobs(filter: { queue?: string } = {}): Promise<JobCount[]> {
    return ops.countJobs(this.ops, filter);
  }

  cancelJob(id: string): Promise<boolean> {
    return ops.cancelJob(this.ops, id);
  }

  requeueJob(id: string, options: { runAt?: Date } = {}): Promise<boolean> {
    return ops.requeueJob(this.ops, id, options);
  }

  purgeJobs(filter: PurgeFilter): Promise<number> {
    return ops.purgeJobs(this.ops, filter);
  }

  /**
   * Retention: deletes final jobs older than the configured `retention` times, in batches. Runs on
   * the retention timer when `retention.intervalMs` is set; call it yourself otherwise. Returns how
   * many jobs of each status were deleted.
   */
  purgeExpired(): Promise<Record<FinalJobStatus, number>> {
    return ops.purgeExpired(this.ops);
  }

  // ---- executors ----

  heartbeatExecutor(info: ExecutorInfo): Promise<void> {
    return executorOps.heartbeatExecutor(this.ops, info);
  }

  removeExecutor(id: string): Promise<boolean> {
    return executorOps.removeExecutor(this.ops, id);
  }

  listExecutors(options?: ListExecutorsOptions): Promise<ExecutorEntry[]> {
    return executorOps.listExecutors(this.ops, options);
  }

  // ---- schedules ----

  insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
    return ops.insertSchedule(this.ops, schedule);
  }

  getSchedule(name: string): Promise<ScheduleRecord | null> {
    return ops.getSchedule(this.ops, name);
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return ops.listSchedules(this.ops);
  }

  updateSchedule(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
    return ops.updateSchedule(this.ops, schedule, expectedVersion);
  }

  deleteSchedule(name: string): Promise<boolean> {
    return ops.deleteSchedule(this.ops, name);
  }

  listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
    return ops.listDueSchedules(this.ops, now, limit);
  }

  // ---- lifecycle ----

  /**
   * Stops the retention timer and the LISTEN connection, fails waiting infrastructure retries, and
   * ends the pool if the store made it (a pool you passed in stays yours to end).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.db.close();
    await this.listener.close();
    if (this.ownsPool) await this.pool.end();
  }

  /** "now" for a statement's $1: the injected clock's time, or NULL for the database's now(). */
  private now(): Date | null {
    return this.injectedClock ? this.injectedClock.now() : null;
  }

  private startRetentionTimer(): void {
    const every = this.retention.intervalMs;
    if (every === undefined) return;
    this.retentionTimer = setInterval(() => {
      if (this.retentionRunning) return; // a slow purge is never run twice at once
      this.retentionRunning = true;
      this.purgeExpired()
        .catch((err: unknown) => this.onBackgroundError(backgroundError('retention', 'retention purge failed', err)))
        .finally(() => (this.retentionRunning = false));
    }, every);
    // Retention alone must not keep a process alive.
    this.retentionTimer.unref();
  }
}
