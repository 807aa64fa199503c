import type { IJobQueueAdmin, JobCount, JobFilter, PurgeFilter } from '../admin.js';
import type { IJobWriter } from '../adder.js';
import { attemptedRunAt, type AttemptedJob, type IAttemptedJobWriter } from '../attempted.js';
import { checkAttemptedJobs } from '../checks/attempted-checks.js';
import { JobQueueAdder } from '../adder.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { leaseExpiredError, leaseTakeoverError } from '../errors.js';
import {
  checkExecutorInfo,
  checkListExecutorsOptions,
  checkLogAppends,
  checkLogFilter,
  checkRunFilter,
} from '../checks/history-checks.js';
import {
  DEFAULT_EXECUTOR_STALE_MS,
  EXECUTOR_PRUNE_MS,
  type ExecutorEntry,
  type ExecutorInfo,
  type IExecutorRegistry,
  type ListExecutorsOptions,
} from '../executors.js';
import type { JobLogLine, JobRun, LogFilter, RunFilter, RunState, StoredLogLine, WaitOptions } from '../history.js';
import { endedRun, withDerivedRun } from '../runs.js';
import { waitForFinalJob } from '../wait.js';
import { checkCountFilter, checkJobFilter, checkPurgeFilter, checkRequeueOptions } from '../checks/admin-checks.js';
import { checkClaimRequest, checkExtendLeases, checkOutcomes, checkProgress } from '../checks/manager-checks.js';
import { checkDueSchedules, checkExpectedVersion, checkScheduleRecord } from '../checks/schedule-checks.js';
import { QueueListeners } from '../listeners.js';
import { newLeaseToken } from '../ids.js';
import type { ClaimedJob, JobLease, JobProgress, JobRecord, NewJob } from '../job.js';
import type { ClaimRequest, IJobQueueManager, JobOutcome, LeaseCheck, LogAppend } from '../manager.js';
import type { JobRegistry } from '../registry.js';
import type { IScheduleStore, ScheduleRecord } from '../schedule-store.js';
import { isFinalStatus, isWaitingStatus } from '../status.js';
import { MinHeap } from './heap.js';
import { copy, StoredJob } from './stored-job.js';

/**
 * Heap entries point at the job itself rather than at its id, so a claim or a reap needs no map
 * lookup per entry. A purged job's entries are harmless: only final jobs are purged, and a final
 * job's entries are stale (not waiting, not processing) however long they stay.
 */
interface ReadyEntry {
  job: StoredJob;
  runAt: number;
  order: number;
  seq: number;
}
interface LeaseEntry {
  job: StoredJob;
  expiresAt: number;
  token: string;
}

const byRunAtThenCreation = (a: ReadyEntry, b: ReadyEntry) =>
  a.runAt < b.runAt || (a.runAt === b.runAt && a.order < b.order);

const byExpiry = (a: LeaseEntry, b: LeaseEntry) => a.expiresAt < b.expiresAt;

/**
 * A queue's ready jobs: unpinned ones in one heap, pinned ones in a heap per host, so a claim looks
 * at the tops of its own heaps and at the other hosts' tops only to see whether they are overdue
 * (their tops are their oldest), and never walks past jobs it may not take.
 */
interface QueueHeaps {
  open: MinHeap<ReadyEntry>;
  pinned: Map<string, MinHeap<ReadyEntry>>;
}

/** A heap a claim looks at, and the latest runAt (ms) it may take from it. */
interface Candidate {
  heap: MinHeap<ReadyEntry>;
  dueBy: number;
}

/** What the memory store keeps beside a job: its ended runs and its log. */
interface History {
  runs: JobRun[];
  logs: StoredLogLine[];
}

/**
 * An in-memory store for tests and single-process use. Nothing survives the process.
 *
 * Concurrency: every operation does its reads and writes synchronously (no await between them), so
 * in Node's single thread two claims can never interleave and never get the same job — the same
 * guarantee SKIP LOCKED gives the SQL stores. Claims cost O(log n) per job: each queue keeps a heap
 * of ready jobs ordered by (runAt, id), and leases sit in a heap ordered by expiry.
 */
export class MemoryJobStore
  implements IJobWriter, IAttemptedJobWriter, IJobQueueManager, IJobQueueAdmin, IScheduleStore, IExecutorRegistry
{
  private readonly jobs = new Map<string, StoredJob>();
  /** Runs and logs per job id; only jobs that ever wrote one have an entry (a first-time success never does). */
  private readonly history = new Map<string, History>();
  private logSeq = 0;
  /** Waiters per job id, woken by every write that may make the job final. */
  private readonly finishWatchers = new Map<string, Set<() => void>>();
  private readonly executors = new Map<string, { info: ExecutorInfo; heartbeatAt: Date }>();
  private readonly ready = new Map<string, QueueHeaps>();
  /**
   * One entry per lease handed out, ordered by expiry. An extension does not add an entry (the entry
   * is re-pushed with the new expiry when it surfaces), and entries of leases that ended are swept
   * out once they outnumber the live ones, so this stays proportional to the jobs running now, not
   * to throughput x lease length.
   */
  private leases = new MinHeap<LeaseEntry>(byExpiry);
  private leasesAfterSweep = 0;
  private readonly uniqueKeys = new Map<string, string>();
  private readonly schedules = new Map<string, ScheduleRecord>();
  private readonly listeners = new QueueListeners();
  private inserted = 0;
  readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** An adder writing to this store. */
  adder(options: { registry?: JobRegistry } = {}): JobQueueAdder {
    return new JobQueueAdder(this, { ...options, clock: this.clock });
  }

  // ---- writer ----

  async insertJobs(jobs: readonly NewJob[]): Promise<string[]> {
    const now = this.clock.now();
    const queues = new Set<string>();
    const ids = jobs.map((job) => {
      if (job.uniqueKey !== null) {
        const holder = this.uniqueKeys.get(job.uniqueKey);
        if (holder !== undefined) return holder;
        this.uniqueKeys.set(job.uniqueKey, job.id);
      }
      const stored = new StoredJob(job, now, this.inserted++);
      this.jobs.set(job.id, stored);
      this.makeReady(stored);
      queues.add(job.queue);
      return job.id;
    });
    this.notify(queues);
    return ids;
  }

  async insertAttempted(entries: readonly AttemptedJob[]): Promise<string[]> {
    checkAttemptedJobs(entries);
    const now = this.clock.now();
    const queues = new Set<string>();
    const ids = entries.map((e) => {
      const { job, outcome } = e;
      if (job.uniqueKey !== null) {
        const holder = this.uniqueKeys.get(job.uniqueKey);
        if (holder !== undefined) return holder;
        this.uniqueKeys.set(job.uniqueKey, job.id);
      }
      const stored = new StoredJob(job, now, this.inserted++);
      stored.runAt = attemptedRunAt(e);
      stored.attempts = 1;
      stored.startedAt = e.startedAt;
      stored.executorId = e.owner;
      stored.host = e.host ?? null;
      this.jobs.set(job.id, stored);
      if (e.logs !== undefined) this.appendLines(stored, e.logs);
      switch (outcome.kind) {
        case 'retry':
          this.endRun(stored, 'retry', { ...outcome.error }, e.finishedAt);
          stored.status = 'retry';
          stored.lastError = { ...outcome.error };
          this.makeReady(stored);
          queues.add(job.queue);
          break;
        case 'failed':
          this.endRun(stored, 'failed', { ...outcome.error }, e.finishedAt);
          stored.status = 'failed';
          stored.lastError = { ...outcome.error };
          stored.finishedAt = e.finishedAt;
          break;
        case 'done':
          // Its run is read off the row (runs.ts): nothing else to write.
          stored.status = 'done';
          stored.result = outcome.result ?? null;
          stored.finishedAt = e.finishedAt;
          break;
      }
      return job.id;
    });
    this.notify(queues);
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
    const heaps = this.readyHeaps(request.queues, request.host, nowMs, nowMs - request.takeoverAfterMs - 1);
    const claimed: ClaimedJob[] = [];
    while (claimed.length < request.limit) {
      let bestHeap: MinHeap<ReadyEntry> | undefined;
      let best: ReadyEntry | undefined;
      for (const { heap, dueBy } of heaps) {
        const entry = this.validTop(heap, nowMs);
        if (entry !== undefined && entry.runAt <= dueBy && (best === undefined || byRunAtThenCreation(entry, best))) {
          bestHeap = heap;
          best = entry;
        }
      }
      if (best === undefined) break;
      bestHeap!.pop();
      const job = best.job;
      if (job.status === 'processing') this.endRun(job, 'lease-lost', leaseTakeoverError(job.lease!.owner), now);
      job.status = 'processing';
      job.attempts += 1;
      job.lease = { owner: request.owner, token: newLeaseToken(), expiresAt: new Date(expiresAtMs) };
      job.startedAt = now;
      job.executorId = request.owner;
      job.host = request.host ?? null;
      job.progress = null;
      job.progressMessage = null;
      job.result = null;
      job.updatedAt = now;
      this.pushLease({ job, expiresAt: expiresAtMs, token: job.lease.token });
      claimed.push(copy(job) as ClaimedJob);
    }
    return claimed;
  }

  async recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    checkOutcomes(outcomes);
    const now = this.clock.now();
    const queues = new Set<string>();
    const results = outcomes.map((outcome): LeaseCheck => {
      const job = this.held(outcome.lease, now);
      if (!job) return 'lease-lost';
      if (outcome.logs !== undefined) this.appendLines(job, outcome.logs);
      job.lease = null;
      job.updatedAt = now;
      switch (outcome.kind) {
        case 'done':
          job.status = 'done';
          job.finishedAt = now;
          job.result = outcome.result ?? null;
          break;
        case 'failed':
          this.endRun(job, 'failed', outcome.error, now);
          job.status = 'failed';
          job.lastError = outcome.error;
          job.finishedAt = now;
          break;
        case 'retry':
          this.endRun(job, 'retry', outcome.error, now);
          job.status = 'retry';
          job.lastError = outcome.error;
          job.runAt = outcome.runAt;
          this.makeReady(job);
          break;
        case 'released':
          this.endRun(job, 'released', null, now);
          job.status = job.attempts > 1 ? 'retry' : 'new';
          job.attempts -= 1;
          job.runAt = now;
          this.makeReady(job);
          queues.add(job.queue);
          break;
      }
      this.wakeWaiters(job.id);
      return 'ok';
    });
    this.notify(queues);
    return results;
  }

  async appendLogs(entries: readonly LogAppend[]): Promise<LeaseCheck[]> {
    checkLogAppends(entries);
    const now = this.clock.now();
    return entries.map((entry): LeaseCheck => {
      const job = this.held(entry.lease, now);
      if (!job) return 'lease-lost';
      this.appendLines(job, entry.lines);
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
    const stored = this.history.get(jobId)?.runs ?? [];
    return withDerivedRun(stored, copy(job))
      .slice(offset, offset + limit)
      .map((r) => structuredClone(r));
  }

  async listLogs(jobId: string, filter?: LogFilter): Promise<StoredLogLine[]> {
    const { attempt, afterSeq, limit } = checkLogFilter(filter);
    const logs = this.history.get(jobId)?.logs ?? [];
    return logs
      .filter((l) => l.seq > afterSeq && (attempt === undefined || l.attempt === attempt))
      .slice(0, limit)
      .map((l) => ({ ...l, at: new Date(l.at) }));
  }

  async waitForJob(id: string, options?: WaitOptions): Promise<JobRecord> {
    return waitForFinalJob(
      (jobId) => this.getJob(jobId),
      id,
      options,
      async (jobId, wake) => {
        let set = this.finishWatchers.get(jobId);
        if (!set) this.finishWatchers.set(jobId, (set = new Set()));
        set.add(wake);
        return () => {
          set.delete(wake);
          if (set.size === 0) this.finishWatchers.delete(jobId);
        };
      },
    );
  }

  async listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    const { statuses, queue, target, afterId, limit, offset } = checkJobFilter(filter);
    const matching = [...this.jobs.values()]
      .filter(
        (j) =>
          (afterId === undefined || j.id > afterId) &&
          (statuses === undefined || statuses.includes(j.status)) &&
          (queue === undefined || j.queue === queue) &&
          (target === undefined || j.target === target),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return matching.slice(offset, offset + limit).map(copy);
  }

  async countJobs(filter: { queue?: string } = {}): Promise<JobCount[]> {
    const queue = checkCountFilter(filter);
    const counts = new Map<string, JobCount>();
    for (const j of this.jobs.values()) {
      if (queue !== undefined && j.queue !== queue) continue;
      const key = `${j.queue}\u0000${j.status}`;
      const c = counts.get(key) ?? { queue: j.queue, status: j.status, count: 0 };
      c.count++;
      counts.set(key, c);
    }
    return [...counts.values()];
  }

  async cancelJob(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job || isFinalStatus(job.status)) return false;
    const now = this.clock.now();
    if (job.status === 'processing') this.endRun(job, 'cancelled', null, now);
    job.status = 'cancelled';
    job.lease = null;
    job.finishedAt = now;
    job.updatedAt = now;
    this.wakeWaiters(id);
    return true;
  }

  async requeueJob(id: string, options: { runAt?: Date } = {}): Promise<boolean> {
    const runAt = checkRequeueOptions(options);
    const job = this.jobs.get(id);
    if (!job || !isFinalStatus(job.status)) return false;
    const now = this.clock.now();
    if (job.status === 'done') this.endRun(job, 'done', null, job.finishedAt ?? now);
    job.status = 'new';
    job.attempts = 0;
    job.result = null;
    job.runAt = runAt ?? now;
    job.finishedAt = null;
    job.updatedAt = now;
    this.makeReady(job);
    this.notify(new Set([job.queue]));
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
        this.jobs.delete(job.id);
        this.history.delete(job.id);
        this.wakeWaiters(job.id);
        if (job.uniqueKey !== null && this.uniqueKeys.get(job.uniqueKey) === job.id)
          this.uniqueKeys.delete(job.uniqueKey);
        n++;
      }
    }
    return n;
  }

  // ---- executors ----

  async heartbeatExecutor(info: ExecutorInfo): Promise<void> {
    checkExecutorInfo(info);
    const now = this.clock.now();
    this.pruneExecutors(now);
    this.executors.set(info.id, { info: structuredClone(info), heartbeatAt: now });
  }

  async removeExecutor(id: string): Promise<boolean> {
    return this.executors.delete(id);
  }

  async listExecutors(options?: ListExecutorsOptions): Promise<ExecutorEntry[]> {
    const staleAfterMs = checkListExecutorsOptions(options).staleAfterMs ?? DEFAULT_EXECUTOR_STALE_MS;
    const now = this.clock.now();
    this.pruneExecutors(now);
    return [...this.executors.values()]
      .sort((a, b) => (a.info.id < b.info.id ? -1 : 1))
      .map(({ info, heartbeatAt }) => ({
        ...structuredClone(info),
        heartbeatAt: new Date(heartbeatAt),
        stale: now.getTime() - heartbeatAt.getTime() > staleAfterMs,
      }));
  }

  private pruneExecutors(now: Date): void {
    for (const [id, e] of this.executors)
      if (now.getTime() - e.heartbeatAt.getTime() > EXECUTOR_PRUNE_MS) this.executors.delete(id);
  }

  // ---- schedules ----

  async insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
    checkScheduleRecord(schedule);
    if (this.schedules.has(schedule.name)) return false;
    this.schedules.set(schedule.name, structuredClone(schedule));
    return true;
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    const s = this.schedules.get(name);
    return s ? structuredClone(s) : null;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return [...this.schedules.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => structuredClone(s));
  }

  async updateSchedule(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
    checkScheduleRecord(schedule);
    checkExpectedVersion(expectedVersion);
    const current = this.schedules.get(schedule.name);
    if (!current || current.version !== expectedVersion) return false;
    this.schedules.set(schedule.name, { ...structuredClone(schedule), version: expectedVersion + 1 });
    return true;
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.schedules.delete(name);
  }

  async listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
    checkDueSchedules(now, limit);
    return [...this.schedules.values()]
      .filter((s) => !s.paused && s.nextFireAt !== null && s.nextFireAt <= now)
      .sort((a, b) => a.nextFireAt!.getTime() - b.nextFireAt!.getTime())
      .slice(0, limit)
      .map((s) => structuredClone(s));
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  // ---- internals ----

  /** Writes the run record of the job's current attempt (see runs.ts for when one is written). */
  private endRun(job: StoredJob, state: Exclude<RunState, 'running'>, error: JobRun['error'], finishedAt: Date): void {
    const run = endedRun(copy(job), state, error, finishedAt);
    if (run !== null) this.historyOf(job.id).runs.push(run);
  }

  private appendLines(job: StoredJob, lines: readonly JobLogLine[]): void {
    if (lines.length === 0) return;
    const logs = this.historyOf(job.id).logs;
    for (const l of lines)
      logs.push({
        jobId: job.id,
        attempt: job.attempts,
        seq: ++this.logSeq,
        at: new Date(l.at),
        level: l.level,
        message: l.message,
      });
  }

  private historyOf(id: string): History {
    let h = this.history.get(id);
    if (!h) this.history.set(id, (h = { runs: [], logs: [] }));
    return h;
  }

  private wakeWaiters(id: string): void {
    const set = this.finishWatchers.get(id);
    if (set) for (const wake of [...set]) wake();
  }

  /** The job if `lease` still holds it: processing, same token, not expired. */
  private held(lease: JobLease, now: Date): StoredJob | undefined {
    const job = this.jobs.get(lease.jobId);
    if (!job || job.status !== 'processing' || job.lease === null) return undefined;
    if (job.lease.token !== lease.token || job.lease.expiresAt.getTime() <= now.getTime()) return undefined;
    return job;
  }

  private makeReady(job: StoredJob): void {
    job.seq += 1;
    let heaps = this.ready.get(job.queue);
    if (!heaps) this.ready.set(job.queue, (heaps = { open: new MinHeap(byRunAtThenCreation), pinned: new Map() }));
    let heap = heaps.open;
    if (job.pinnedHost !== null) {
      const pinned = heaps.pinned.get(job.pinnedHost);
      if (pinned) heap = pinned;
      else heaps.pinned.set(job.pinnedHost, (heap = new MinHeap(byRunAtThenCreation)));
    }
    heap.push({ job, runAt: job.runAt.getTime(), order: job.order, seq: job.seq });
  }

  /**
   * The ready heaps of the queues asked for, looked up once per claim: unpinned and pinned to `host`
   * due by now, pinned to other hosts due by `overdueBy` (now - takeoverAfterMs - 1: older than the
   * threshold).
   */
  private readyHeaps(
    queues: readonly string[],
    host: string | undefined,
    nowMs: number,
    overdueBy: number,
  ): Candidate[] {
    const candidates: Candidate[] = [];
    for (const queue of queues) {
      const heaps = this.ready.get(queue);
      if (heaps === undefined) continue;
      candidates.push({ heap: heaps.open, dueBy: nowMs });
      for (const [pin, heap] of heaps.pinned) candidates.push({ heap, dueBy: pin === host ? nowMs : overdueBy });
    }
    return candidates;
  }

  /** Drops stale entries off the top of a ready heap and returns the first live one. */
  private validTop(heap: MinHeap<ReadyEntry>, nowMs: number): ReadyEntry | undefined {
    for (;;) {
      const top = heap.peek();
      if (!top) return undefined;
      const job = top.job;
      const live =
        job.seq === top.seq &&
        (isWaitingStatus(job.status) ||
          (job.status === 'processing' && job.lease !== null && job.lease.expiresAt.getTime() <= nowMs));
      if (live) return top;
      heap.pop();
    }
  }

  /** Moves jobs whose lease expired back into their ready heap, or fails them if no attempt is left. */
  private reapExpiredLeases(now: Date): void {
    const nowMs = now.getTime();
    for (let top = this.leases.peek(); top && top.expiresAt <= nowMs; top = this.leases.peek()) {
      this.leases.pop();
      const job = top.job;
      if (job.status !== 'processing' || job.lease?.token !== top.token) continue;
      if (job.lease.expiresAt.getTime() > nowMs) {
        // Extended since it was pushed: the one entry moves to the new expiry.
        this.leases.push({ job, expiresAt: job.lease.expiresAt.getTime(), token: top.token });
        continue;
      }
      if (job.attempts >= job.retry.maxAttempts) {
        this.endRun(job, 'lease-lost', leaseExpiredError(job.lease.owner), now);
        job.status = 'failed';
        job.lastError = leaseExpiredError(job.lease.owner);
        job.lease = null;
        job.finishedAt = now;
        job.updatedAt = now;
        this.wakeWaiters(job.id);
      } else {
        this.makeReady(job);
      }
    }
  }

  private notify(queues: ReadonlySet<string>): void {
    if (queues.size > 0) this.listeners.notify(queues);
  }

  /**
   * Adds a lease entry; when entries of ended leases have come to outnumber the rest, rebuilds the
   * heap from the live ones (amortised O(1) per claim), so memory follows the running jobs.
   */
  private pushLease(entry: LeaseEntry): void {
    this.leases.push(entry);
    if (this.leases.size <= 2 * this.leasesAfterSweep + 1024) return;
    const live = new MinHeap<LeaseEntry>(byExpiry);
    for (let e = this.leases.pop(); e; e = this.leases.pop()) {
      if (e.job.status === 'processing' && e.job.lease?.token === e.token) live.push(e);
    }
    this.leases = live;
    this.leasesAfterSweep = live.size;
  }
}
