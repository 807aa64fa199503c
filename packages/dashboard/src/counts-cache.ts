import type { IJobQueueAdmin, JobCount } from '@oddjob/core';

/** Counts per (queue, status) as one read of the store saw them. */
export interface CountsSnapshot {
  counts: JobCount[];
  /** When the store's answer arrived (the dashboard's clock). */
  asOf: Date;
  /** How long the store took to answer, in ms. */
  costMs: number;
}

/**
 * When counts are read again from the store. No store keeps counts as jobs move (a counter on the
 * claim would cost every job a write), so `countJobs` scans: a fraction of a millisecond on a small
 * store, 0.3–0.4 s on PostgreSQL at 1,000,000 jobs. Reading that on every request would let a few
 * open browser tabs keep a database core busy, so a count's own cost decides how long it is reused.
 */
export interface CountsPolicy {
  /** A count that took less than this is never reused: small stores stay exact and live. */
  cheapMs: number;
  /** An expensive count is reused for this many times its cost (20: the store spends <= 5% on it). */
  reuseFactor: number;
  /** The longest a reused count may be old before a reader waits for a new one instead. */
  staleLimitMs: number;
}

export const DEFAULT_COUNTS_POLICY: CountsPolicy = { cheapMs: 25, reuseFactor: 20, staleLimitMs: 60_000 };

/**
 * One tenant's counts, shared by the counts route and the throughput sampler. One store read runs at
 * a time and every caller meanwhile shares it. An expensive count is served from memory for
 * `reuseFactor` times its cost, then served once more while a new read runs in the background
 * (stale-while-revalidate), so a reader waits on the store only for the first count, after a change
 * made through the dashboard, or after `staleLimitMs` without any read (the sampler, every 5 s by
 * default, keeps it fresher than that). Responses carry `asOf` so a reader can tell.
 */
export class CountsCache {
  private last: CountsSnapshot | null = null;
  private dirty = false;
  private inflight: Promise<CountsSnapshot> | null = null;

  constructor(
    private readonly admin: Pick<IJobQueueAdmin, 'countJobs'>,
    private readonly policy: CountsPolicy = DEFAULT_COUNTS_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new read of the store, shared with any read already running. */
  refresh(): Promise<CountsSnapshot> {
    if (this.inflight !== null) return this.inflight;
    const started = performance.now();
    const read = this.admin
      .countJobs()
      .then((counts) => {
        const snap = { counts, asOf: new Date(this.now()), costMs: performance.now() - started };
        if (this.inflight === read) {
          this.last = snap;
          this.dirty = false;
        }
        return snap;
      })
      .finally(() => {
        if (this.inflight === read) this.inflight = null;
      });
    this.inflight = read;
    return read;
  }

  /** Counts for a reader, under the policy above. */
  read(): Promise<CountsSnapshot> {
    const last = this.last;
    if (last === null || this.dirty || last.costMs < this.policy.cheapMs) return this.refresh();
    const age = this.now() - last.asOf.getTime();
    if (age <= last.costMs * this.policy.reuseFactor) return Promise.resolve(last);
    if (age > this.policy.staleLimitMs) return this.refresh();
    // A failed background read leaves the old count in place; the next reader tries again.
    this.refresh().catch(() => undefined);
    return Promise.resolve(last);
  }

  /**
   * Jobs changed through this dashboard: the next reader waits for a new count, so what a user just
   * did shows. A read already running may have started before the change, so it is not kept either.
   */
  invalidate(): void {
    this.dirty = true;
    this.inflight = null;
  }
}
