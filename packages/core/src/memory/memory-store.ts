import type { IJobQueueAdmin, JobCount, JobFilter, PurgeFilter } from '../admin.js';
import type { IJobWriter } from '../adder.js';
import { attemptedRunAt, type AttemptedJob, type IAttemptedJobWriter } from '../attempted.js';
import { checkAttemptedJobs } from '../checks/attempted-checks.js';
import { JobQueueAdder } from '../adder.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { leaseTakeoverError } from '../errors.js';
import { checkLogAppends, checkLogFilter, checkRunFilter } from '../checks/history-checks.js';
import type { ExecutorEntry, ExecutorInfo, IExecutorRegistry, ListExecutorsOptions } from '../executors.js';
import type { JobRun, LogFilter, RunFilter, StoredLogLine, WaitOptions } from '../history.js';
import { withDerivedRun } from '../runs.js';
import { waitForFinalJob } from '../wait.js';
import { checkCountFilter, checkJobFilter, checkPurgeFilter, checkRequeueOptions } from '../checks/admin-checks.js';
import { checkClaimRequest, checkExtendLeases, checkOutcomes, checkProgress } from '../checks/manager-checks.js';
import { QueueListeners } from '../listeners.js';
import { newLeaseToken } from '../ids.js';
import type { ClaimedJob, JobLease, JobProgress, JobRecord, NewJob } from '../job.js';
import type { ClaimRequest, IJobQueueManager, JobOutcome, LeaseCheck, LogAppend } from '../manager.js';
import type { JobRegistry } from '../registry.js';
import type { IScheduleStore, ScheduleRecord } from '../schedule-store.js';
import { isFinalStatus } from '../status.js';
import { ExecutorTable } from './executor-table.js';
import { FinishWatchers } from './finish-watchers.js';
import { JobHistory } from './job-history.js';
import { JobTable } from './job-table.js';
import { LeaseHeap } from './lease-heap.js';
import { applyAttempted, applyLeaseExpired, applyOutcome } from './outcomes.js';
import { ReadyJobs } from './ready-jobs.js';
import { ScheduleTable } from './schedule-table.js';
import { copy, type StoredJob } from './stored-job.js';
import { FlowTable } from './flow-table.js';
import { insertBatch } from './insert-batch.js';

/**
 * An in-memory store for tests and single-process use. Nothing survives the process.
 *
 * Concurrency: every operation does its reads and writes synchronously (no await between them), so
 * in Node's single thread two claims can never interleave and never get the same job — the same
 * guarantee SKIP LOCKED gives the SQL stores. Claims cost O(log n) per job: each queue keeps a heap
 * of ready jobs ordered by (runAt, id), and leases sit in a heap ordered by expiry.
 *
 * This class holds the operations and the order their writes happen in; the tables, heaps and
 * per-outcome writes it is made of are in the files beside it, one concern each.
 */
export class MemoryJobStore
  implements IJobWriter, IAttemptedJobWriter, IJobQueueManager, IJobQueueAdmin, IScheduleStore, IExecutorRegistry
{
  private readonly jobs = new JobTable();
  private readonly history = new JobHistory();
  private readonly finishWatchers = new FinishWatchers();
  private readonly executors = new ExecutorTable();
  private readonly ready = new ReadyJobs();
  private readonly leases = new LeaseHeap();
  private readonly schedules = new ScheduleTable();
  private readonly listeners = new QueueListeners();
  /** Queues that got a claimable job during the current operation, told to listeners at its end. */
  private readonly woken = new Set<string>();
  private readonly flow = new FlowTable(this.jobs, this.ready, {
    claimable: (queue) => this.woken.add(queue),
    final: (id) => this.wakeWaiters(id),
  });
  readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** An adder writing to this store. */
  adder(options: { registry?: JobRegistry } = {}): JobQueueAdder {
    return new JobQueueAdder(this, { ...options, clock: this.clock });
  }

  async insertJobs(jobs: readonly NewJob[]): Promise<string[]> {
    const ids = insertBatch(jobs, this.clock.now(), this.jobs, this.flow);
    this.flushWoken();
    return ids;
  }

  async insertAttempted(entries: readonly AttemptedJob[]): Promise<string[]> {
    checkAttemptedJobs(entries);
    const now = this.clock.now();
    const ids = entries.map((e) => {
      const { job } = e;
      const stored = this.jobs.insert(job, now);
      if (typeof stored === 'string') return stored;
      stored.runAt = attemptedRunAt(e);
      stored.attempts = 1;
      stored.startedAt = e.startedAt;
      stored.executorId = e.owner;
      stored.host = e.host ?? null;
      if (e.logs !== undefined) this.history.appendLines(stored, e.logs);
      applyAttempted(stored, e, this.history, this.ready);
      if (stored.uniqueScope === 'queued') this.jobs.releaseUniqueKey(stored); // attempt 1 was its claim
      if (isFinalStatus(stored.status)) this.flow.ended(stored, now);
      if (e.outcome.kind === 'retry') this.woken.add(job.queue);
      return job.id;
    });
    this.flushWoken();
    return ids;
  }

  // ---- manager ----

  onJobsAvailable(listener: (queue: string) => void): () => void {
    return this.listeners.add(listener);
  }

  async claimJobs(claim: ClaimRequest): Promise<ClaimedJob[]> {
    const request = checkClaimRequest(claim);
    const now = this.clock.now();
    const nowMs = now.getTime();
    this.reapExpiredLeases(now);
    const expiresAtMs = nowMs + request.leaseMs;
    const candidates = this.ready.candidates(request.queues, request.host, nowMs, nowMs - request.takeoverAfterMs - 1);
    const claimed: ClaimedJob[] = [];
    while (claimed.length < request.limit) {
      const job = this.ready.takeNext(candidates, nowMs);
      if (job === undefined) break;
      if (job.status === 'processing')
        this.history.endRun(job, 'lease-lost', leaseTakeoverError(job.lease!.owner), now);
      job.status = 'processing';
      if (job.uniqueScope === 'queued') this.jobs.releaseUniqueKey(job);
      job.attempts += 1;
      job.lease = { owner: request.owner, token: newLeaseToken(), expiresAt: new Date(expiresAtMs) };
      job.startedAt = now;
      job.executorId = request.owner;
      job.host = request.host ?? null;
      job.progress = null;
      job.progressMessage = null;
      job.result = null;
      job.updatedAt = now;
      this.leases.add(job, expiresAtMs, job.lease.token);
      claimed.push(copy(job) as ClaimedJob);
    }
    this.flushWoken(); // children and keyed jobs admitted by a reap above
    return claimed;
  }

  async recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    checkOutcomes(outcomes);
    const now = this.clock.now();
    const results = outcomes.map((outcome): LeaseCheck => {
      const job = this.held(outcome.lease, now);
      if (!job) return 'lease-lost';
      if (outcome.logs !== undefined) this.history.appendLines(job, outcome.logs);
      applyOutcome(job, outcome, now, this.history, this.ready);
      if (outcome.kind === 'released') this.woken.add(job.queue);
      if (isFinalStatus(job.status)) this.flow.ended(job, now);
      return 'ok';
    });
    this.flushWoken();
    return results;
  }

  async appendLogs(entries: readonly LogAppend[]): Promise<LeaseCheck[]> {
    checkLogAppends(entries);
    const now = this.clock.now();
    return entries.map((entry): LeaseCheck => {
      const job = this.held(entry.lease, now);
      if (!job) return 'lease-lost';
      this.history.appendLines(job, entry.lines);
      return 'ok';
    });
  }

  async extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    checkExtendLeases(leases, leaseMs);
    const now = this.clock.now();
    return leases.map((lease): LeaseCheck => {
      const job = this.held(lease, now);
      if (!job) return 'lease-lost';
      const expiresAt = now.getTime() + leaseMs;
      job.lease!.expiresAt = new Date(expiresAt); // its heap entry is moved when it surfaces
      return 'ok';
    });
  }

  async reportProgress(lease: JobLease, progress: JobProgress, message?: string | null): Promise<LeaseCheck> {
    const text = checkProgress(progress, message);
    const now = this.clock.now();
    const job = this.held(lease, now);
    if (!job) return 'lease-lost';
    job.progress = typeof progress === 'number' ? progress : (JSON.parse(JSON.stringify(progress)) as JobProgress);
    job.progressMessage = text;
    job.updatedAt = now;
    return 'ok';
  }

  // ---- admin ----

  async getJob(id: string, options: { runs?: boolean } = {}): Promise<JobRecord | null> {
    const job = this.jobs.get(id);
    if (!job) return null;
    const record = copy(job);
    if (options.runs === true) record.runs = await this.listRuns(id, { limit: 1000 });
    return record;
  }

  async listRuns(jobId: string, filter?: RunFilter): Promise<JobRun[]> {
    const { limit, offset } = checkRunFilter(filter);
    const job = this.jobs.get(jobId);
    if (!job) return [];
    return withDerivedRun(this.history.runs(jobId), copy(job))
      .slice(offset, offset + limit)
      .map((r) => structuredClone(r));
  }

  async listLogs(jobId: string, filter?: LogFilter): Promise<StoredLogLine[]> {
    return this.history.logs(jobId, checkLogFilter(filter));
  }

  async waitForJob(id: string, options?: WaitOptions): Promise<JobRecord> {
    return waitForFinalJob(
      (jobId) => this.getJob(jobId),
      id,
      options,
      async (jobId, wake) => this.finishWatchers.watch(jobId, wake),
    );
  }

  async listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    return this.jobs.list(checkJobFilter(filter));
  }

  async countJobs(filter: { queue?: string } = {}): Promise<JobCount[]> {
    return this.jobs.count(checkCountFilter(filter));
  }

  async cancelJob(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job || isFinalStatus(job.status)) return false;
    const now = this.clock.now();
    if (job.status === 'processing') this.history.endRun(job, 'cancelled', null, now);
    job.status = 'cancelled';
    job.waitingFor = null;
    job.lease = null;
    job.finishedAt = now;
    job.updatedAt = now;
    this.flow.ended(job, now);
    this.flushWoken();
    return true;
  }

  async requeueJob(id: string, options: { runAt?: Date } = {}): Promise<boolean> {
    const runAt = checkRequeueOptions(options);
    const job = this.jobs.get(id);
    if (!job || !isFinalStatus(job.status)) return false;
    const now = this.clock.now();
    if (job.status === 'done') this.history.endRun(job, 'done', null, job.finishedAt ?? now);
    job.status = 'new';
    job.attempts = 0;
    job.result = null;
    job.runAt = runAt ?? now;
    job.finishedAt = null;
    job.updatedAt = now;
    this.flow.reopen(job);
    this.flushWoken();
    return true;
  }

  async purgeJobs(purge: PurgeFilter): Promise<number> {
    const filter = checkPurgeFilter(purge);
    const statuses: ReadonlySet<string> = new Set(filter.statuses);
    let n = 0;
    for (const job of [...this.jobs.values()]) {
      if (
        statuses.has(job.status) &&
        (filter.queue === undefined || job.queue === filter.queue) &&
        (filter.finishedBefore === undefined || (job.finishedAt !== null && job.finishedAt < filter.finishedBefore))
      ) {
        this.jobs.delete(job);
        this.history.delete(job.id);
        this.wakeWaiters(job.id);
        n++;
      }
    }
    return n;
  }

  // ---- executors ----

  async heartbeatExecutor(info: ExecutorInfo): Promise<void> {
    this.executors.heartbeat(info, this.clock.now());
  }

  async removeExecutor(id: string): Promise<boolean> {
    return this.executors.remove(id);
  }

  async listExecutors(options?: ListExecutorsOptions): Promise<ExecutorEntry[]> {
    return this.executors.list(options, this.clock.now());
  }

  // ---- schedules ----

  async insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
    return this.schedules.insert(schedule);
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    return this.schedules.get(name);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.schedules.list();
  }

  async updateSchedule(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
    return this.schedules.update(schedule, expectedVersion);
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.schedules.delete(name);
  }

  async listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
    return this.schedules.due(now, limit);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  // ---- internals ----

  private wakeWaiters(id: string): void {
    this.finishWatchers.wake(id);
  }

  /** The job if `lease` still holds it: processing, same token, not expired. */
  private held(lease: JobLease, now: Date): StoredJob | undefined {
    const job = this.jobs.get(lease.jobId);
    if (!job || job.status !== 'processing' || job.lease === null) return undefined;
    if (job.lease.token !== lease.token || job.lease.expiresAt.getTime() <= now.getTime()) return undefined;
    return job;
  }

  /** Moves jobs whose lease expired back into their ready heap, or fails them if no attempt is left. */
  private reapExpiredLeases(now: Date): void {
    const nowMs = now.getTime();
    for (let job = this.leases.takeExpired(nowMs); job; job = this.leases.takeExpired(nowMs)) {
      const owner = job.lease!.owner; // takeExpired returns only jobs still under their lease
      if (job.attempts >= job.retry.maxAttempts) {
        applyLeaseExpired(job, owner, now, this.history);
        this.flow.ended(job, now);
      } else {
        this.ready.add(job);
      }
    }
  }

  private flushWoken(): void {
    if (this.woken.size === 0) return;
    const queues = new Set(this.woken);
    this.woken.clear();
    this.listeners.notify(queues);
  }
}
