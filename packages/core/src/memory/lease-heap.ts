// The memory store's leases ordered by expiry, and the sweep that keeps their number near the count
// of running jobs. Kept apart from memory-store.ts because its bookkeeping (stale entries, extended
// leases moved when they surface, the rebuild threshold) is about memory and cost, not about what a
// lease means to a job, which the store decides.
import { MinHeap } from './heap.js';
import type { StoredJob } from './stored-job.js';

interface LeaseEntry {
  job: StoredJob;
  expiresAt: number;
  token: string;
}

const byExpiry = (a: LeaseEntry, b: LeaseEntry) => a.expiresAt < b.expiresAt;

/**
 * One entry per lease handed out, ordered by expiry. An extension does not add an entry (the entry
 * is re-pushed with the new expiry when it surfaces), and entries of leases that ended are swept
 * out once they outnumber the live ones, so this stays proportional to the jobs running now, not
 * to throughput x lease length.
 */
export class LeaseHeap {
  private heap = new MinHeap<LeaseEntry>(byExpiry);
  private sizeAfterSweep = 0;

  /** Entries held, those of ended leases included (what the sweep bounds). */
  get size(): number {
    return this.heap.size;
  }

  /**
   * Adds a lease entry; when entries of ended leases have come to outnumber the rest, rebuilds the
   * heap from the live ones (amortised O(1) per claim), so memory follows the running jobs.
   */
  add(job: StoredJob, expiresAt: number, token: string): void {
    this.heap.push({ job, expiresAt, token });
    if (this.heap.size <= 2 * this.sizeAfterSweep + 1024) return;
    const live = new MinHeap<LeaseEntry>(byExpiry);
    for (let e = this.heap.pop(); e; e = this.heap.pop()) {
      if (e.job.status === 'processing' && e.job.lease?.token === e.token) live.push(e);
    }
    this.heap = live;
    this.sizeAfterSweep = live.size;
  }

  /**
   * The next job whose lease has expired by `nowMs`, taken off the heap, or undefined when none has.
   * Entries of ended leases are dropped on the way, and a lease extended since its entry was pushed
   * has its one entry moved to the new expiry.
   */
  takeExpired(nowMs: number): StoredJob | undefined {
    for (let top = this.heap.peek(); top && top.expiresAt <= nowMs; top = this.heap.peek()) {
      this.heap.pop();
      const job = top.job;
      if (job.status !== 'processing' || job.lease?.token !== top.token) continue;
      if (job.lease.expiresAt.getTime() > nowMs) {
        this.heap.push({ job, expiresAt: job.lease.expiresAt.getTime(), token: top.token });
        continue;
      }
      return job;
    }
    return undefined;
  }
}
