import type { IJobQueueAdmin, JobCount, JobFilter, PurgeFilter } from '../admin.js';
import type { IJobWriter } from '../adder.js';
import { JobQueueAdder } from '../adder.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { InvalidOptionError, leaseExpiredError } from '../errors.js';
import { newLeaseToken } from '../ids.js';
import type { ClaimedJob, JobLease, JobProgress, JobRecord, NewJob } from '../job.js';
import type { ClaimRequest, IJobQueueManager, JobOutcome, LeaseCheck } from '../manager.js';
import type { JobRegistry } from '../registry.js';
import type { IScheduleStore, ScheduleRecord } from '../schedule-store.js';
import { isFinalStatus, isWaitingStatus, type JobStatus } from '../status.js';
import { MinHeap } from './heap.js';

interface Stored extends JobRecord {
  /** Bumped whenever the job enters the ready heap, so older heap entries are recognised as stale. */
  seq: number;
  /** Insertion order: "creation" for the claim order, compared as a number (ids are long strings). */
  order: number;
}
interface ReadyEntry {
  id: string;
  runAt: number;
  order: number;
  seq: number;
}
interface LeaseEntry {
  id: string;
  expiresAt: number;
  token: string;
}

const byRunAtThenCreation = (a: ReadyEntry, b: ReadyEntry) =>
  a.runAt < b.runAt || (a.runAt === b.runAt && a.order < b.order);

/** A copy safe to hand out: callers may mutate what they get without touching the store. */
function copy(job: Stored): JobRecord {
  const { seq: _seq, order: _order, ...rest } = job;
  return {
    ...rest,
    lease: job.lease && { ...job.lease },
    metadata: { ...job.metadata },
    lastError: job.lastError && { ...job.lastError },
  };
}

/**
 * An in-memory store for tests and single-process use. Nothing survives the process.
 *
 * Concurrency: every operation does its reads and writes synchronously (no await between them), so
 * in Node's single thread two claims can never interleave and never get the same job — the same
 * guarantee SKIP LOCKED gives the SQL stores. Claims cost O(log n) per job: each queue keeps a heap
 * of ready jobs ordered by (runAt, id), and leases sit in a heap ordered by expiry.
 */
export class MemoryJobStore implements IJobWriter, IJobQueueManager, IJobQueueAdmin, IScheduleStore {
  private readonly jobs = new Map<string, Stored>();
  private readonly ready = new Map<string, MinHeap<ReadyEntry>>();
  private readonly leases = new MinHeap<LeaseEntry>((a, b) => a.expiresAt < b.expiresAt);
  private readonly uniqueKeys = new Map<string, string>();
  private readonly schedules = new Map<string, ScheduleRecord>();
  private readonly listeners = new Set<(queue: string) => void>();
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
      const stored: Stored = {
        ...job,
        status: 'new',
        runAt: job.runAt ?? now,
        attempts: 0,
        lastError: null,
        lease: null,
        progress: null,
        createdAt: now,
        updatedAt: now,
        finishedAt: null,
        seq: 0,
        order: this.inserted++,
      };
      this.jobs.set(job.id, stored);
      this.makeReady(stored);
      queues.add(job.queue);
      return job.id;
    });
    this.notify(queues);
    return ids;
  }

  // ---- manager ----

  onJobsAvailable(listener: (queue: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async getJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    if (!Number.isInteger(request.limit) || request.limit < 1) {
      throw new InvalidOptionError('limit', `must be an integer >= 1, got ${String(request.limit)}`);
    }
    const now = this.clock.now();
    const nowMs = now.getTime();
    this.reapExpiredLeases(now);
    const claimed: ClaimedJob[] = [];
    while (claimed.length < request.limit) {
      let best: { heap: MinHeap<ReadyEntry>; entry: ReadyEntry } | undefined;
      for (const queue of request.queues) {
        const heap = this.ready.get(queue);
        const entry = heap && this.validTop(heap, nowMs);
        if (entry && entry.runAt <= nowMs && (!best || byRunAtThenCreation(entry, best.entry))) best = { heap: heap!, entry };
      }
      if (!best) break;
      best.heap.pop();
      const job = this.jobs.get(best.entry.id)!;
      job.status = 'processing';
      job.attempts += 1;
      job.lease = { owner: request.owner, token: newLeaseToken(), expiresAt: new Date(nowMs + request.leaseMs) };
      job.updatedAt = now;
      this.leases.push({ id: job.id, expiresAt: nowMs + request.leaseMs, token: job.lease.token });
      claimed.push(copy(job) as ClaimedJob);
    }
    return claimed;
  }

  async recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    const now = this.clock.now();
    const queues = new Set<string>();
    const results = outcomes.map((outcome): LeaseCheck => {
      const job = this.held(outcome.lease, now);
      if (!job) return 'lease-lost';
      job.lease = null;
      job.updatedAt = now;
      switch (outcome.kind) {
        case 'done':
          job.status = 'done';
          job.finishedAt = now;
          break;
        case 'failed':
          job.status = 'failed';
          job.lastError = outcome.error;
          job.finishedAt = now;
          break;
        case 'retry':
          job.status = 'retry';
          job.lastError = outcome.error;
          job.runAt = outcome.runAt;
          this.makeReady(job);
          break;
        case 'released':
          job.status = job.attempts > 1 ? 'retry' : 'new';
          job.attempts -= 1;
          job.runAt = now;
          this.makeReady(job);
          queues.add(job.queue);
          break;
      }
      return 'ok';
    });
    this.notify(queues);
    return results;
  }

  async extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    const now = this.clock.now();
    return leases.map((lease): LeaseCheck => {
      const job = this.held(lease, now);
      if (!job) return 'lease-lost';
      const expiresAt = now.getTime() + leaseMs;
      job.lease!.expiresAt = new Date(expiresAt);
      this.leases.push({ id: job.id, expiresAt, token: lease.token });
      return 'ok';
    });
  }

  async reportProgress(lease: JobLease, progress: JobProgress): Promise<LeaseCheck> {
    const now = this.clock.now();
    const job = this.held(lease, now);
    if (!job) return 'lease-lost';
    job.progress = typeof progress === 'number' ? progress : JSON.parse(JSON.stringify(progress));
    job.updatedAt = now;
    return 'ok';
  }

  // ---- admin ----

  async getJob(id: string): Promise<JobRecord | null> {
    const job = this.jobs.get(id);
    return job ? copy(job) : null;
  }

  async listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    const statuses = filter.status === undefined ? undefined : ([] as JobStatus[]).concat(filter.status);
    const offset = filter.offset ?? 0;
    const limit = filter.limit ?? 100;
    const matching = [...this.jobs.values()]
      .filter(
        (j) =>
          (statuses === undefined || statuses.includes(j.status)) &&
          (filter.queue === undefined || j.queue === filter.queue) &&
          (filter.target === undefined || j.target === filter.target),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return matching.slice(offset, offset + limit).map(copy);
  }

  async countJobs(filter: { queue?: string } = {}): Promise<JobCount[]> {
    const counts = new Map<string, JobCount>();
    for (const j of this.jobs.values()) {
      if (filter.queue !== undefined && j.queue !== filter.queue) continue;
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
    job.status = 'cancelled';
    job.lease = null;
    job.finishedAt = now;
    job.updatedAt = now;
    return true;
  }

  async requeueJob(id: string, options: { runAt?: Date } = {}): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job || !isFinalStatus(job.status)) return false;
    const now = this.clock.now();
    job.status = 'new';
    job.attempts = 0;
    job.runAt = options.runAt ?? now;
    job.finishedAt = null;
    job.updatedAt = now;
    this.makeReady(job);
    this.notify(new Set([job.queue]));
    return true;
  }

  async purgeJobs(filter: PurgeFilter): Promise<number> {
    let n = 0;
    for (const job of [...this.jobs.values()]) {
      if (
        isFinalStatus(job.status) &&
        filter.statuses.includes(job.status) &&
        (filter.queue === undefined || job.queue === filter.queue) &&
        (filter.finishedBefore === undefined || (job.finishedAt !== null && job.finishedAt < filter.finishedBefore))
      ) {
        this.jobs.delete(job.id);
        if (job.uniqueKey !== null && this.uniqueKeys.get(job.uniqueKey) === job.id) this.uniqueKeys.delete(job.uniqueKey);
        n++;
      }
    }
    return n;
  }

  // ---- schedules ----

  async insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
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
    const current = this.schedules.get(schedule.name);
    if (!current || current.version !== expectedVersion) return false;
    this.schedules.set(schedule.name, { ...structuredClone(schedule), version: expectedVersion + 1 });
    return true;
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.schedules.delete(name);
  }

  async listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
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

  /** The job if `lease` still holds it: processing, same token, not expired. */
  private held(lease: JobLease, now: Date): Stored | undefined {
    const job = this.jobs.get(lease.jobId);
    if (!job || job.status !== 'processing' || job.lease === null) return undefined;
    if (job.lease.token !== lease.token || job.lease.expiresAt <= now) return undefined;
    return job;
  }

  private makeReady(job: Stored): void {
    job.seq += 1;
    let heap = this.ready.get(job.queue);
    if (!heap) this.ready.set(job.queue, (heap = new MinHeap(byRunAtThenCreation)));
    heap.push({ id: job.id, runAt: job.runAt.getTime(), order: job.order, seq: job.seq });
  }

  /** Drops stale entries off the top of a ready heap and returns the first live one. */
  private validTop(heap: MinHeap<ReadyEntry>, nowMs: number): ReadyEntry | undefined {
    for (;;) {
      const top = heap.peek();
      if (!top) return undefined;
      const job = this.jobs.get(top.id);
      const live =
        job !== undefined &&
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
      const job = this.jobs.get(top.id);
      if (!job || job.status !== 'processing' || job.lease?.token !== top.token) continue;
      if (job.lease.expiresAt.getTime() > nowMs) continue; // extended since; a later entry covers it
      if (job.attempts >= job.retry.maxAttempts) {
        job.status = 'failed';
        job.lastError = leaseExpiredError(job.lease.owner);
        job.lease = null;
        job.finishedAt = now;
        job.updatedAt = now;
      } else {
        this.makeReady(job);
      }
    }
  }

  private notify(queues: ReadonlySet<string>): void {
    if (queues.size === 0 || this.listeners.size === 0) return;
    // A listener's failure is its own: the write it reports on has already happened.
    for (const listener of this.listeners) {
      for (const q of queues) {
        try {
          listener(q);
        } catch {
          /* ignored by design */
        }
      }
    }
  }
}
