import sql from 'mssql';
import type {
  ClaimedJob,
  ClaimRequest,
  ExecutorEntry,
  ExecutorInfo,
  IExecutorRegistry,
  IJobQueueAdmin,
  IJobQueueManager,
  IJobWriter,
  IAttemptedJobWriter,
  AttemptedJob,
  IScheduleStore,
  JobCount,
  JobFilter,
  JobLease,
  JobOutcome,
  JobProgress,
  JobRecord,
  JobRegistry,
  JobRun,
  LeaseCheck,
  ListExecutorsOptions,
  LogAppend,
  LogFilter,
  NewJob,
  PurgeFilter,
  RunFilter,
  ScheduleRecord,
  StoredLogLine,
  WaitOptions,
} from '@oddjob/core';
import { SqlServerJobQueueAdmin } from './admin.js';
import { connectionFactory, engineOf, type IJobQueueDbConnectionFactory, type SqlServerEngine } from './connection.js';
import { toStorageError } from './transient.js';
import type { SqlServerContext } from './context.js';
import { SqlServerExecutorRegistry } from './executors.js';
import { schemaNames, type SchemaNames } from './identifiers.js';
import { SqlServerJobQueueManager } from './manager.js';
import { MappedStatementRunner } from './mapped-runner.js';
import { applyMigrations, verifySchemaVersion } from './migrate.js';
import { resolveOptions, type ResolvedOptions, type SqlServerStoreOptions } from './options.js';
import { RetentionTimer } from './retention.js';
import { SqlServerScheduleStore } from './schedule-store.js';
import { SqlServerJobQueueAdder, SqlServerJobWriter } from './writer.js';

/**
 * The SQL Server store: one object with the same shape as every other store — `adder()`, the
 * executor's manager operations, the admin operations (run history, logs, waitForJob included),
 * schedule storage and the executor registry.
 *
 *   const store = await SqlServerJobStore.open({ connection: process.env.DATABASE_URL!, schema: 'jobs' });
 *   await store.adder().addJob(EmailJob, (j) => j.send('a@b.c', 'hi'));
 *   new OddJobExecutor({ manager: store, ... });
 *
 * Inside, each concern lives in its own part (writer.ts, manager.ts, admin.ts, schedule-store.ts,
 * executors.ts); this class only delegates.
 */
export class SqlServerJobStore
  implements
    IJobWriter<sql.Transaction>,
    IAttemptedJobWriter,
    IJobQueueManager,
    IJobQueueAdmin,
    IScheduleStore,
    IExecutorRegistry
{
  readonly names: SchemaNames;
  /** The engine behind the connection, read once at open: 'sqlserver' or 'babelfish' (see the README). */
  readonly engine: SqlServerEngine;
  private readonly writerPart: SqlServerJobWriter;
  private readonly managerPart: SqlServerJobQueueManager;
  private readonly adminPart: SqlServerJobQueueAdmin;
  private readonly schedulesPart: SqlServerScheduleStore;
  private readonly executorsPart: SqlServerExecutorRegistry;
  private readonly retention: RetentionTimer;

  private constructor(
    /** @internal The tables and the statement runner; for this package's `./testing` helpers only. */
    readonly context: SqlServerContext,
    private readonly connections: IJobQueueDbConnectionFactory,
    private readonly options: ResolvedOptions,
    engine: SqlServerEngine,
  ) {
    this.names = context.names;
    this.engine = engine;
    this.writerPart = new SqlServerJobWriter(context);
    this.managerPart = new SqlServerJobQueueManager(context);
    this.adminPart = new SqlServerJobQueueAdmin(context);
    this.schedulesPart = new SqlServerScheduleStore(context);
    this.executorsPart = new SqlServerExecutorRegistry(context);
    this.retention = new RetentionTimer(this.adminPart, options.retention, options.onBackgroundError, options.clock);
  }

  /** Validates the options, connects, applies (or verifies) the schema's migrations, starts retention. */
  static async open(options: SqlServerStoreOptions): Promise<SqlServerJobStore> {
    const resolved = resolveOptions(options);
    const connections = connectionFactory(options.connection, resolved.pool, { logger: resolved.logger });
    const runner = new MappedStatementRunner(connections, resolved.retry, resolved.clock);
    const ctx: SqlServerContext = { names: schemaNames(resolved.schema), runner };
    let engine: SqlServerEngine;
    try {
      if (resolved.migrations === 'apply') await applyMigrations(runner, ctx.names);
      else await verifySchemaVersion(runner, ctx.names);
      // The default factory read it at connect (this only answers it); a factory of your own is asked now.
      engine = (
        await engineOf(connections, resolved.logger).catch((err: unknown) => {
          throw toStorageError('open', err);
        })
      ).engine;
    } catch (err) {
      await connections.close().catch(() => undefined);
      throw err;
    }
    const store = new SqlServerJobStore(ctx, connections, resolved, engine);
    store.retention.start();
    return store;
  }

  /** @deprecated The store is one object now: use the store itself. */
  get writer(): this {
    return this;
  }
  /** @deprecated The store is one object now: use the store itself. */
  get manager(): this {
    return this;
  }
  /** @deprecated The store is one object now: use the store itself. */
  get admin(): this {
    return this;
  }
  /** @deprecated The store is one object now: use the store itself. */
  get schedules(): this {
    return this;
  }

  /**
   * An adder writing to this store; `addJob(..., { tx })` enlists in your mssql Transaction. Like
   * every store's `adder()`, it takes the registry to check typed enqueues against (default: the
   * store's option, else core's defaultRegistry).
   */
  adder(options: { registry?: JobRegistry } = {}): SqlServerJobQueueAdder {
    return new SqlServerJobQueueAdder(this.writerPart, {
      registry: options.registry ?? this.options.registry,
      clock: this.options.clock,
    });
  }

  /** The pool the store uses, e.g. to begin a Transaction to enqueue in. */
  pool(): Promise<sql.ConnectionPool> {
    return this.connections.getPool();
  }

  // ---- writer ----
  insertJobs(jobs: readonly NewJob[], tx?: sql.Transaction): Promise<string[]> {
    return this.writerPart.insertJobs(jobs, tx);
  }

  /** Jobs whose attempt 1 already ran, stored as it left them, in one transaction (see writer.ts). */
  insertAttempted(entries: readonly AttemptedJob[]): Promise<string[]> {
    return this.writerPart.insertAttempted(entries);
  }

  // ---- manager ----
  claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    return this.managerPart.claimJobs(request);
  }
  recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    return this.managerPart.recordOutcomes(outcomes);
  }
  extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    return this.managerPart.extendLeases(leases, leaseMs);
  }
  reportProgress(lease: JobLease, progress: JobProgress, message?: string | null): Promise<LeaseCheck> {
    return this.managerPart.reportProgress(lease, progress, message);
  }
  appendLogs(entries: readonly LogAppend[]): Promise<LeaseCheck[]> {
    return this.managerPart.appendLogs(entries);
  }

  // ---- admin ----
  getJob(id: string, options?: { runs?: boolean }): Promise<JobRecord | null> {
    return this.adminPart.getJob(id, options);
  }
  listRuns(jobId: string, filter?: RunFilter): Promise<JobRun[]> {
    return this.adminPart.listRuns(jobId, filter);
  }
  listLogs(jobId: string, filter?: LogFilter): Promise<StoredLogLine[]> {
    return this.adminPart.listLogs(jobId, filter);
  }
  /** Polls (SQL Server has no wake-up channel); see the README. */
  waitForJob(id: string, options?: WaitOptions): Promise<JobRecord> {
    return this.adminPart.waitForJob(id, options);
  }
  listJobs(filter?: JobFilter): Promise<JobRecord[]> {
    return this.adminPart.listJobs(filter);
  }
  countJobs(filter?: { queue?: string }): Promise<JobCount[]> {
    return this.adminPart.countJobs(filter);
  }
  cancelJob(id: string): Promise<boolean> {
    return this.adminPart.cancelJob(id);
  }
  requeueJob(id: string, options?: { runAt?: Date }): Promise<boolean> {
    return this.adminPart.requeueJob(id, options);
  }
  purgeJobs(filter: PurgeFilter): Promise<number> {
    return this.adminPart.purgeJobs(filter);
  }
  /** Retention: purges final jobs older than the configured `retention` times; returns how many went. */
  purgeExpired(): Promise<number> {
    return this.retention.runOnce();
  }

  // ---- executors ----
  heartbeatExecutor(info: ExecutorInfo): Promise<void> {
    return this.executorsPart.heartbeatExecutor(info);
  }
  removeExecutor(id: string): Promise<boolean> {
    return this.executorsPart.removeExecutor(id);
  }
  listExecutors(options?: ListExecutorsOptions): Promise<ExecutorEntry[]> {
    return this.executorsPart.listExecutors(options);
  }

  // ---- schedules ----
  insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
    return this.schedulesPart.insertSchedule(schedule);
  }
  getSchedule(name: string): Promise<ScheduleRecord | null> {
    return this.schedulesPart.getSchedule(name);
  }
  listSchedules(): Promise<ScheduleRecord[]> {
    return this.schedulesPart.listSchedules();
  }
  updateSchedule(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
    return this.schedulesPart.updateSchedule(schedule, expectedVersion);
  }
  deleteSchedule(name: string): Promise<boolean> {
    return this.schedulesPart.deleteSchedule(name);
  }
  listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
    return this.schedulesPart.listDueSchedules(now, limit);
  }

  /** Stops the retention timer and closes the pool if the store created it. */
  async close(): Promise<void> {
    this.retention.stop();
    await this.connections.close();
  }
}
