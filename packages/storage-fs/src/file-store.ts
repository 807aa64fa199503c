import { resolve } from 'node:path';
import {
  checkClaimRequest,
  checkCountFilter,
  checkExecutorInfo,
  checkListExecutorsOptions,
  checkLogAppends,
  checkLogFilter,
  checkRunFilter,
  checkDueSchedules,
  checkExpectedVersion,
  checkExtendLeases,
  checkJobFilter,
  checkOutcomes,
  checkProgress,
  checkPurgeFilter,
  checkRequeueOptions,
  checkScheduleRecord,
  InvalidOptionError,
  JobQueueAdder,
  StorageOperationError,
  systemClock,
  waitForFinalJob,
  DEFAULT_EXECUTOR_STALE_MS,
  type ClaimedJob,
  type ClaimRequest,
  type Clock,
  type ExecutorEntry,
  type ExecutorInfo,
  type IExecutorRegistry,
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
  type ListExecutorsOptions,
  type LogAppend,
  type LogFilter,
  type NewJob,
  type JobRun,
  type RunFilter,
  type StoredLogLine,
  type WaitOptions,
  type PurgeFilter,
  type ResolvedRetention,
  type ScheduleRecord,
} from '@oddjob/core';
import * as admin from './admin.js';
import { claimJobs } from './claim.js';
import { insertJobs } from './insert.js';
import { insertAttempted } from './attempted.js';
import { PROVIDER, toStoreError } from './errors.js';
import * as executors from './executor-registry.js';
import { appendLogs, extendLeases, reportProgress } from './lease-ops.js';
import { recordOutcomes } from './outcomes.js';
import { warnProblem, type StoreProblem } from './problems.js';
import { BackgroundSweep } from './background-sweep.js';
import type { FileStoreOptions } from './store-options.js';
import { resolveRetention, sweep } from './retention.js';
import * as schedules from './schedules.js';
import { createStoreDir, verifyStoreDir } from './store-dir.js';
import { WakeUps } from './wake-ups.js';
import { recoverAtOpen } from './recovery.js';
import { StoreContext, type CorruptFile } from './store-context.js';

export type { FileStoreOptions } from './store-options.js';

/**
 * A durable job store in a directory: one file per job, every transition a rename, safe for several
 * processes on one host (see layout.ts for the layout and why each step is safe).
 *
 * The directory is checked on first use (or by `open()`): a missing directory, one that is not an
 * OddJob store, or one this process cannot write gives a StoreSetupError saying which.
 */
export class FileJobStore
  implements IJobWriter, IAttemptedJobWriter, IJobQueueManager, IJobQueueAdmin, IScheduleStore, IExecutorRegistry
{
  readonly dir: string;
  readonly clock: Clock;
  /**
   * A claim costs the same listing of the queue's ready/ backlog and the same two directory fsyncs
   * whatever its limit, so executors are asked to claim about this many jobs at a time (core's
   * IJobQueueManager.claimBatchHint: a queue without its own maxPending holds up to 200). With the
   * executor's plain 20 the claims, one at a time, bounded the file store (bench/src/fs.ts).
   */
  readonly claimBatchHint = 100;
  private readonly ctx: StoreContext;
  private readonly retention: ResolvedRetention;
  private readonly create: boolean;
  private opened: Promise<void> | undefined;
  private readonly background: BackgroundSweep;
  private closed = false;
  private readonly wakeUps: WakeUps;

  constructor(options: FileStoreOptions) {
    if (
      options === null ||
      typeof options !== 'object' ||
      typeof options.dir !== 'string' ||
      options.dir.length === 0
    ) {
      throw new InvalidOptionError('dir', 'the file store needs a directory path');
    }
    this.dir = resolve(options.dir);
    this.clock = options.clock ?? systemClock;
    this.create = options.create ?? false;
    this.retention = resolveRetention(options.retention);
    if (options.onProblem !== undefined && typeof options.onProblem !== 'function')
      throw new InvalidOptionError('onProblem', 'must be a function');
    this.ctx = new StoreContext(this.dir, this.clock, options.onProblem ?? warnProblem);
    this.background = new BackgroundSweep(this.ctx, this.retention);
    this.wakeUps = new WakeUps(this.ctx, () => this.open());
  }

  /** Makes `dir` an empty store (creating the directory if needed). An existing store is left as it is. */
  static async create(dir: string): Promise<void> {
    const root = resolve(dir);
    await createStoreDir(root).catch((err: unknown) => {
      throw toStoreError(root, 'create', err);
    });
  }

  /** Constructs a store and checks its directory at once. */
  static async open(options: FileStoreOptions): Promise<FileJobStore> {
    const store = new FileJobStore(options);
    await store.open();
    return store;
  }

  /** Checks (or, with `create: true`, creates) the directory. Called by every operation; idempotent. */
  open(): Promise<void> {
    if (this.closed)
      return Promise.reject(new StorageOperationError(PROVIDER, 'open', `file store ${this.dir} is closed`));
    this.opened ??= (this.create ? createStoreDir(this.dir) : verifyStoreDir(this.dir))
      .then(() => recoverAtOpen(this.ctx))
      .catch((err: unknown) => {
        this.opened = undefined; // let a later call try again, e.g. after the directory was created
        throw toStoreError(this.dir, 'open', err);
      });
    return this.opened;
  }

  /** An adder writing to this store. */
  adder(options: { registry?: JobRegistry } = {}): FileJobQueueAdder {
    return new FileJobQueueAdder(this, options);
  }

  // ---- writer ----

  async insertJobs(jobs: readonly NewJob[]): Promise<string[]> {
    return this.run('addJobs', () => insertJobs(this.ctx, jobs));
  }

  /** Jobs whose attempt 1 already ran, stored as it left them (see attempted.ts). */
  async insertAttempted(entries: readonly AttemptedJob[]): Promise<string[]> {
    return this.run('insertAttempted', () => insertAttempted(this.ctx, entries));
  }

  // ---- manager ----

  async claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    const checked = checkClaimRequest(request);
    return this.run('claim', () => {
      this.background.maybeRun();
      return claimJobs(this.ctx, checked);
    });
  }

  async recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    checkOutcomes(outcomes);
    return this.run('recordOutcomes', () => recordOutcomes(this.ctx, outcomes));
  }

  async extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    checkExtendLeases(leases, leaseMs);
    return this.run('extendLeases', () => extendLeases(this.ctx, leases, leaseMs));
  }

  async reportProgress(lease: JobLease, progress: JobProgress, message?: string | null): Promise<LeaseCheck> {
    const text = checkProgress(progress, message);
    return this.run('reportProgress', () => reportProgress(this.ctx, lease, progress, text));
  }

  /** Log lines go to logs/<id>.jsonl, fenced by each lease, appended without fsync (see logs-file.ts). */
  async appendLogs(entries: readonly LogAppend[]): Promise<LeaseCheck[]> {
    checkLogAppends(entries);
    if (entries.length === 0) return [];
    return this.run('appendLogs', () => appendLogs(this.ctx, entries));
  }

  /**
   * Told when jobs may have become available: at once for jobs added, released or requeued by this
   * store object, and through a watch on the queues' ready/ directories for those of other
   * processes (see watch.ts). Polling (claimJobs) stays the fallback where a watch cannot be made.
   */
  onJobsAvailable(listener: (queue: string) => void): () => void {
    return this.wakeUps.add(listener);
  }

  // ---- admin ----

  async getJob(id: string, options?: { runs?: boolean }): Promise<JobRecord | null> {
    return this.run('getJob', () => admin.getJob(this.ctx, id, options));
  }

  async listRuns(jobId: string, filter?: RunFilter): Promise<JobRun[]> {
    const checked = checkRunFilter(filter);
    return this.run('listRuns', () => admin.listRuns(this.ctx, jobId, checked));
  }

  async listLogs(jobId: string, filter?: LogFilter): Promise<StoredLogLine[]> {
    const checked = checkLogFilter(filter);
    return this.run('listLogs', () => admin.listLogs(this.ctx, jobId, checked));
  }

  /**
   * Polls the job (core's waitForFinalJob: 20 ms backing off to 1 s); outcomes and cancels made
   * through this store object wake its waiters at once. Other processes' are found by the poll.
   */
  async waitForJob(id: string, options?: WaitOptions): Promise<JobRecord> {
    return waitForFinalJob(
      (jobId) => this.getJob(jobId),
      id,
      options,
      async (jobId, wake) => this.ctx.onJobFinished(jobId, wake),
    );
  }

  async listJobs(filter?: JobFilter): Promise<JobRecord[]> {
    const checked = checkJobFilter(filter);
    return this.run('listJobs', () => admin.listJobs(this.ctx, checked));
  }

  async countJobs(filter?: { queue?: string }): Promise<JobCount[]> {
    const queue = checkCountFilter(filter);
    return this.run('countJobs', () => admin.countJobs(this.ctx, queue));
  }

  async cancelJob(id: string): Promise<boolean> {
    return this.run('cancelJob', () => admin.cancelJob(this.ctx, id));
  }

  async requeueJob(id: string, options?: { runAt?: Date }): Promise<boolean> {
    const runAt = checkRequeueOptions(options);
    return this.run('requeueJob', () => admin.requeueJob(this.ctx, id, runAt));
  }

  async purgeJobs(filter: PurgeFilter): Promise<number> {
    const checked = checkPurgeFilter(filter);
    return this.run('purgeJobs', () => admin.purgeJobs(this.ctx, checked));
  }

  /** Files that could not be read as jobs, moved to corrupt/, with the reason recorded for each. */
  async listCorrupt(): Promise<CorruptFile[]> {
    return this.run('listCorrupt', () => this.ctx.listCorrupt());
  }

  /**
   * Removes finished jobs past their retention, and temp files left by dead writers; returns how
   * many jobs were removed. Claims run this in the background every `retention.intervalMs`; without
   * one, they still clear temp files every minute, but remove no job.
   */
  async sweep(): Promise<number> {
    return this.run('sweep', () => sweep(this.ctx, this.retention));
  }

  // ---- executors ----

  async heartbeatExecutor(info: ExecutorInfo): Promise<void> {
    checkExecutorInfo(info);
    return this.run('heartbeatExecutor', () => executors.heartbeatExecutor(this.ctx, info));
  }

  async removeExecutor(id: string): Promise<boolean> {
    if (typeof id !== 'string') throw new InvalidOptionError('id', 'must be a string');
    return this.run('removeExecutor', () => executors.removeExecutor(this.ctx, id));
  }

  async listExecutors(options?: ListExecutorsOptions): Promise<ExecutorEntry[]> {
    const staleAfterMs = checkListExecutorsOptions(options).staleAfterMs ?? DEFAULT_EXECUTOR_STALE_MS;
    return this.run('listExecutors', () => executors.listExecutors(this.ctx, staleAfterMs));
  }

  // ---- schedules ----

  async insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
    checkScheduleRecord(schedule);
    return this.run('insertSchedule', () => schedules.insertSchedule(this.ctx, schedule));
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    return this.run('getSchedule', () => schedules.getSchedule(this.ctx, name));
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.run('listSchedules', () => schedules.listSchedules(this.ctx));
  }

  async updateSchedule(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
    checkScheduleRecord(schedule);
    checkExpectedVersion(expectedVersion);
    return this.run('updateSchedule', () => schedules.updateSchedule(this.ctx, schedule, expectedVersion));
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.run('deleteSchedule', () => schedules.deleteSchedule(this.ctx, name));
  }

  async listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
    checkDueSchedules(now, limit);
    return this.run('listDueSchedules', () => schedules.listDueSchedules(this.ctx, now, limit));
  }

  /** Waits for a running sweep, closes the directory handles kept for fsync. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeUps.close();
    await this.background.settled();
    await this.ctx.close();
  }

  /**
   * What the store met and worked around (entries quarantined or skipped, failed sweeps), most
   * recent last; a frozen copy. Also told as they happen to `onProblem`.
   */
  problems(): readonly StoreProblem[] {
    return this.ctx.problems.recent();
  }

  /** Opens the store, runs `fn`, and turns any failure into core's storage error family. */
  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      await this.open();
      return await fn();
    } catch (err) {
      throw toStoreError(this.dir, operation, err);
    }
  }
}

/** The adder applications use with the file store (validation is core's; the write is the store's). */
export class FileJobQueueAdder extends JobQueueAdder {
  constructor(
    readonly store: FileJobStore,
    options: { registry?: JobRegistry } = {},
  ) {
    super(store, { ...options, clock: store.clock });
  }
}
