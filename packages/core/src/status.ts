/**
 * The life of a job, as a closed union. Every provider stores exactly these names.
 *
 *   waiting ──parents ended as its rule asks, and a slot of its key is free──▶ new
 *      │ parents ended otherwise ──▶ cancelled (lastError: DependencyError naming the parent)
 *   new ──claim──▶ processing ──ok──▶ done
 *    ▲                 │ error, attempts left        error, none left / abort error
 *    └── retry ◀───────┘ (runAt = now + backoff)  ──▶ failed
 *   any non-final state ──cancel──▶ cancelled
 *   processing whose lease expired ──▶ claimable again (the attempt counts)
 *
 * A job enters `waiting` only when added (with `after`, or a concurrency key without a free slot)
 * or released by its parents while its key has no free slot; see flow.ts.
 */
export type JobStatus =
  /** Waits for its parent jobs to end, or for a slot of its concurrency key; not claimable. */
  | 'waiting'
  /** Enqueued and never claimed; claimable once its runAt has come. */
  | 'new'
  /** Claimed by an executor that holds a lease on it; claimable again only when the lease expires. */
  | 'processing'
  /** An attempt failed and another is allowed; claimable again once its runAt (now + backoff) has come. */
  | 'retry'
  /** The method returned (or its promise resolved). Final. */
  | 'done'
  /** The last allowed attempt failed, or the job threw a JobAbortError, or it cannot run at all. Final. */
  | 'failed'
  /** Cancelled through the admin API before it finished. Final. */
  | 'cancelled';

export const JOB_STATUSES: readonly JobStatus[] = Object.freeze([
  'waiting',
  'new',
  'processing',
  'retry',
  'done',
  'failed',
  'cancelled',
]);

export type FinalJobStatus = Extract<JobStatus, 'done' | 'failed' | 'cancelled'>;

export const FINAL_JOB_STATUSES: readonly FinalJobStatus[] = Object.freeze(['done', 'failed', 'cancelled']);

export function isFinalStatus(status: JobStatus): status is FinalJobStatus {
  return status === 'done' || status === 'failed' || status === 'cancelled';
}

/** Statuses a claim may pick up once runAt has come (processing is claimable only through lease expiry). */
export function isClaimableStatus(status: JobStatus): boolean {
  return status === 'new' || status === 'retry';
}

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === 'string' && (JOB_STATUSES as readonly string[]).includes(value);
}
