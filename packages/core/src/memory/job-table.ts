// The memory store's jobs by id, the unique keys they hold, and the admin scans over them. Kept apart
// from memory-store.ts because it is plain table keeping (insert with a unique-key check, delete,
// filter, count) that knows nothing of leases, heaps or history, which the store layers on top.
import type { JobCount } from '../admin.js';
import type { CheckedJobFilter } from '../checks/admin-checks.js';
import type { JobRecord, NewJob } from '../job.js';
import { copy, StoredJob } from './stored-job.js';

export class JobTable {
  private readonly byId = new Map<string, StoredJob>();
  /** Unique key -> the id of the job holding it, until that job is purged or leaves its scope. */
  private readonly uniqueKeys = new Map<string, string>();
  /** Jobs inserted so far: each job's creation order (see StoredJob.order). */
  private inserted = 0;

  get(id: string): StoredJob | undefined {
    return this.byId.get(id);
  }

  values(): IterableIterator<StoredJob> {
    return this.byId.values();
  }

  /** Adds the job, or adds nothing and returns the id of the job that already holds its unique key. */
  insert(job: NewJob, now: Date): StoredJob | string {
    if (job.uniqueKey !== null) {
      const holder = this.uniqueKeys.get(job.uniqueKey);
      if (holder !== undefined) return holder;
      this.uniqueKeys.set(job.uniqueKey, job.id);
    }
    const stored = new StoredJob(job, now, this.inserted++);
    stored.holdsUniqueKey = job.uniqueKey !== null;
    this.byId.set(job.id, stored);
    return stored;
  }

  /** The job gives up its unique key for good (it left the key's scope: see UniqueScope). */
  releaseUniqueKey(job: StoredJob): void {
    if (!job.holdsUniqueKey) return;
    job.holdsUniqueKey = false;
    if (this.uniqueKeys.get(job.uniqueKey!) === job.id) this.uniqueKeys.delete(job.uniqueKey!);
  }

  /** Removes the job and frees its unique key for a new job. */
  delete(job: StoredJob): void {
    this.byId.delete(job.id);
    if (job.uniqueKey !== null && this.uniqueKeys.get(job.uniqueKey) === job.id) this.uniqueKeys.delete(job.uniqueKey);
  }

  /** Copies of the jobs matching the filter, in id order. */
  list(filter: CheckedJobFilter): JobRecord[] {
    const { statuses, queue, target, afterId, sequenceRun, sequence, limit, offset } = filter;
    const matching = [...this.byId.values()]
      .filter(
        (j) =>
          (afterId === undefined || j.id > afterId) &&
          (statuses === undefined || statuses.includes(j.status)) &&
          (queue === undefined || j.queue === queue) &&
          (target === undefined || j.target === target) &&
          (sequenceRun === undefined || j.sequence?.run === sequenceRun) &&
          (sequence === undefined || j.sequence?.name === sequence),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return matching.slice(offset, offset + limit).map(copy);
  }

  /** The number of jobs per (queue, status) that has any, of one queue if given. */
  count(queue: string | undefined): JobCount[] {
    const counts = new Map<string, JobCount>();
    for (const j of this.byId.values()) {
      if (queue !== undefined && j.queue !== queue) continue;
      const key = `${j.queue}\u0000${j.status}`;
      const c = counts.get(key) ?? { queue: j.queue, status: j.status, count: 0 };
      c.count++;
      counts.set(key, c);
    }
    return [...counts.values()];
  }
}
