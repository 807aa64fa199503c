import {
  InvalidOptionError,
  resolveMigrationMode,
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
import type { ClientBase, Pool } from 'pg';
import { PostgresJobQueueAdder } from './adder.js';
import * as ops from './admin-ops.js';
import * as claimOps from './claim-ops.js';
import { openPool } from './connection.js';
import * as executorOps from './executor-ops.js';
import * as history from './history-ops.js';
import { recordOutcomes, type OutcomeOps } from './outcome-ops.js';
import { Database } from './db.js';
import { insertJobs } from './insert-jobs.js';
import { insertAttempted } from './insert-attempted.js';
import { backgroundError } from './errors.js';
import { JobWaiter } from './job-waiter.js';
import { JobsAvailableListener } from './listener.js';
import { RetentionTimer } from './retention-timer.js';
import { checkSchemaVersion, migrate, type MigrationResult } from './migrate.js';
import {
  DEFAULT_SCHEMA,
  resolveRetention,
  resolveTransientRetry,
  validateSchemaName,
  type PostgresStoreOptions,
  type RetentionOptions,
} from './options.js';
import { buildStatements, channelName, finishedChannelName, type Statements } from './sql/index.js';
import type { ResolvedTransientRetry } from './transient.js';

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
  private readonly retentionTimer: RetentionTimer;
  private closed = false;
  private readonly ops: ops.PgOps;
  private readonly outcomeOps: OutcomeOps;
  private readonly waiter: JobWaiter;

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
    store.retentionTimer.start();
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

    const { pool, ownsPool, listenConfig } = openPool(options.connection);
    this.pool = pool;
    this.ownsPool = ownsPool;
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
    this.retentionTimer = new RetentionTimer(
      this.retention.intervalMs,
      () => this.purgeExpired(),
      (err) => this.onBackgroundError(err),
    );
    this.waiter = new JobWaiter(this.db, this.sql, this.listener, this.notify);
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

  claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    return claimOps.claimJobs(this.ops, request);
  }

  recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    return recordOutcomes(this.outcomeOps, outcomes);
  }

  extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    return claimOps.extendLeases(this.ops, leases, leaseMs);
  }

  reportProgress(lease: JobLease, progress: JobProgress, message?: string | null): Promise<LeaseCheck> {
    return claimOps.reportProgress(this.ops, lease, progress, message);
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
    return this.waiter.wait(id, options);
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
    this.retentionTimer.stop();
    this.db.close();
    await this.listener.close();
    if (this.ownsPool) await this.pool.end();
  }

  /** "now" for a statement's $1: the injected clock's time, or NULL for the database's now(). */
  private now(): Date | null {
    return this.injectedClock ? this.injectedClock.now() : null;
  }
}
