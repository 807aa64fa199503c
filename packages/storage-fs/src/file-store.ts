import { resolve } from 'node:path';
import {
  InvalidOptionError,
  JobQueueAdder,
  systemClock,
  type ClaimedJob,
  type ClaimRequest,
  type Clock,
  type IJobQueueAdmin,
  type IJobQueueManager,
  type IJobWriter,
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
import * as admin from './admin.js';
import { claimJobs } from './claim.js';
import { insertJobs } from './insert.js';
import { extendLeases, recordOutcomes, reportProgress } from './lease-ops.js';
import { resolveRetention, sweep, type Retention, type RetentionOptions } from './retention.js';
import * as schedules from './schedules.js';
import { createStoreDir, verifyStoreDir } from './store-dir.js';
import { StoreContext, type CorruptFile } from './store-context.js';

export interface FileStoreOptions {
  /** The store's directory. Several processes on one host may share it. */
  dir: string;
  /**
   * Create the store if `dir` is missing or empty (default false: a missing or foreign directory is
   * an error, so a typo in a path does not silently start an empty queue).
   */
  create?: boolean;
  /** Every "now" (runAt, lease expiry, retention) is read from it. Default: the system clock. */
  clock?: Clock;
  /** How long finished jobs are kept; `false` keeps them until `purgeJobs`. See RetentionOptions. */
  retention?: RetentionOptions | false;
}

/**
 * A durable job store in a directory: one file per job, every transition a rename, safe for several
 * processes on one host (see layout.ts for the layout and why each step is safe).
 *
 * The directory is checked on first use (or by `open()`): a missing directory, one that is not an
 * OddJob store, or one this process cannot write gives a StoreSetupError saying which.
 */
export class FileJobStore implements IJobWriter, IJobQueueManager, IJobQueueAdmin, IScheduleStore {
  readonly dir: string;
  readonly clock: Clock;
  private readonly ctx: StoreContext;
  private readonly retention: Retention | null;
  private readonly create: boolean;
  private opened: Promise<void> | undefined;
  private lastSweepAt = Number.NEGATIVE_INFINITY;
  private sweeping: Promise<void> | undefined;
  private closed = false;
  /** The last error of a background sweep, for diagnostics (sweeps never throw into claims). */
  lastSweepError: unknown = null;

  constructor(options: FileStoreOptions) {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new InvalidOptionError('dir', 'the file store needs a directory path');
    }
    this.dir = resolve(options.dir);
    this.clock = options.clock ?? systemClock;
    this.create = options.create ?? false;
    this.retention = resolveRetention(options.retention);
    this.ctx = new StoreContext(this.dir, this.clock);
  }

  /** Makes `dir` an empty store (creating the directory if needed). An existing store is left as it is. */
  static async create(dir: string): Promise<void> {
    await createStoreDir(resolve(dir));
  }

  /** Constructs a store and checks its directory at once. */
  static async open(options: FileStoreOptions): Promise<FileJobStore> {
    const store = new FileJobStore(options);
    await store.open();
    return store;
  }

  /** Checks (or, with `create: true`, creates) the directory. Called by every operation; idempotent. */
  open(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`file store ${this.dir} is closed`));
    this.opened ??= (this.create ? createStoreDir(this.dir) : verifyStoreDir(this.dir)).catch((err: unknown) => {
      this.opened = undefined; // let a later call try again, e.g. after the directory was created
      throw err;
    });
    return this.opened;
  }

  /** An adder writing to this store. */
  adder(options: { registry?: JobRegistry } = {}): FileJobQueueAdder {
    return new FileJobQueueAdder(this, options);
  }

  // ---- writer ----

  async insertJobs(jobs: readonly NewJob[]): Promise<string[]> {
    await this.open();
    return insertJobs(this.ctx, jobs);
  }

  // ---- manager ----

  async getJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    await this.open();
    this.maybeSweep();
    return claimJobs(this.ctx, request);
  }

  async recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    await this.open();
    return recordOutcomes(this.ctx, outcomes);
  }

  async extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    await this.open();
    return extendLeases(this.ctx, leases, leaseMs);
  }

  async reportProgress(lease: JobLease, progress: JobProgress): Promise<LeaseCheck> {
    await this.open();
    return reportProgress(this.ctx, lease, progress);
  }

  /**
   * Told when jobs were added, released or requeued *by this process*. Other processes' jobs are
   * found by polling (getJobs), which stays the fallback.
   */
  onJobsAvailable(listener: (queue: string) => void): () => void {
    return this.ctx.onJobsAvailable(listener);
  }

  // ---- admin ----

  async getJob(id: string): Promise<JobRecord | null> {
    await this.open();
    return admin.getJob(this.ctx, id);
  }

  async listJobs(filter?: JobFilter): Promise<JobRecord[]> {
    await this.open();
    return admin.listJobs(this.ctx, filter);
  }

  async countJobs(filter?: { queue?: string }): Promise<JobCount[]> {
    await this.open();
    return admin.countJobs(this.ctx, filter);
  }

  async cancelJob(id: string): Promise<boolean> {
    await this.open();
    return admin.cancelJob(this.ctx, id);
  }

  async requeueJob(id: string, options?: { runAt?: Date }): Promise<boolean> {
    await this.open();
    return admin.requeueJob(this.ctx, id, options);
  }

  async purgeJobs(filter: PurgeFilter): Promise<number> {
    await this.open();
    return admin.purgeJobs(this.ctx, filter);
  }

  /** Files that could not be read as jobs, moved to corrupt/, with the reason recorded for each. */
  async listCorrupt(): Promise<CorruptFile[]> {
    await this.open();
    return this.ctx.listCorrupt();
  }

  /**
   * Removes finished jobs past their retention, and temp files left by dead writers; returns how
   * many jobs were removed. Claims run this in the background every `sweepIntervalMs`.
   */
  async sweep(): Promise<number> {
    await this.open();
    return this.retention ? sweep(this.ctx, this.retention) : 0;
  }

  // ---- schedules ----

  async insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
    await this.open();
    return schedules.insertSchedule(this.ctx, schedule);
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    await this.open();
    return schedules.getSchedule(this.ctx, name);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    await this.open();
    return schedules.listSchedules(this.ctx);
  }

  async updateSchedule(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
    await this.open();
    return schedules.updateSchedule(this.ctx, schedule, expectedVersion);
  }

  async deleteSchedule(name: string): Promise<boolean> {
    await this.open();
    return schedules.deleteSchedule(this.ctx, name);
  }

  async listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
    await this.open();
    return schedules.listDueSchedules(this.ctx, now, limit);
  }

  /** Waits for a running sweep, closes the directory handles kept for fsync. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sweeping;
    await this.ctx.close();
  }

  private maybeSweep(): void {
    if (!this.retention || this.sweeping) return;
    const now = this.clock.now().getTime();
    if (now - this.lastSweepAt < this.retention.sweepIntervalMs) return;
    this.lastSweepAt = now;
    this.sweeping = sweep(this.ctx, this.retention)
      .then(
        () => {
          this.lastSweepError = null;
        },
        (err: unknown) => {
          this.lastSweepError = err; // retried at the next interval; a claim must not fail for it
        },
      )
      .finally(() => {
        this.sweeping = undefined;
      });
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
