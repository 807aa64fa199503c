import type { JobError } from './errors.js';
import type { JobLogLine } from './history.js';
import type { ClaimedJob, JobLease, JobProgress } from './job.js';

/** What an executor asks for when it claims work. */
export interface ClaimRequest {
  /** Queues to claim from (one coordinator usually asks for one). */
  queues: readonly string[];
  /** At most this many jobs (>= 1). The coordinator asks for no more than its free room. */
  limit: number;
  /** Who holds the lease: an executor id, shown in admin views and logs. */
  owner: string;
  /** The lease lasts this long from the claim; extend it while the job runs. */
  leaseMs: number;
  /**
   * The claimer's host name, recorded on the runs it starts. A job pinned to a host
   * (JobOptions.pinnedHost) is claimed only by requests naming that host, until it is overdue.
   * Without a host, a claim takes unpinned and overdue jobs only.
   */
  host?: string;
  /**
   * A job pinned to another host is claimable by this request once its runAt is more than this many
   * ms in the past (a takeover, recorded on the run). An integer from 0 to 2^31-1; default
   * DEFAULT_TAKEOVER_AFTER_MS (30 minutes, as VITA).
   */
  takeoverAfterMs?: number;
}

/** How long a job pinned to another host must be overdue before a claim takes it over: 30 minutes. */
export const DEFAULT_TAKEOVER_AFTER_MS = 30 * 60 * 1000;

/**
 * How an attempt ended, as the executor reports it. Every outcome is fenced by the lease token: it is
 * applied only if the job is still `processing` under that very token.
 */
export type JobOutcome =
  /** The method returned: the job becomes `done`, keeping its serialized return value if any. */
  (
    | { kind: 'done'; lease: JobLease; result?: string | null }
    /** The attempt failed and the policy allows another: back to `retry`, claimable from runAt. */
    | { kind: 'retry'; lease: JobLease; error: JobError; runAt: Date }
    /** The attempt failed for good: the job becomes `failed`. */
    | { kind: 'failed'; lease: JobLease; error: JobError }
    /**
     * Given back unrun or unfinished at shutdown: claimable again at once, and the attempt it was
     * claimed for is not counted (the job did not fail; its executor left).
     */
    | { kind: 'released'; lease: JobLease }
  ) & {
    /**
     * Log lines the attempt wrote since the last `appendLogs`, stored with the outcome in the same
     * write (so a job that logs a little pays no extra round trip).
     */
    logs?: readonly JobLogLine[];
  };

/** Log lines of one running job, fenced by its lease like every write. */
export interface LogAppend {
  lease: JobLease;
  lines: readonly JobLogLine[];
}

/** 'lease-lost': the write was refused because the lease expired, was taken over, or the job was cancelled. */
export type LeaseCheck = 'ok' | 'lease-lost';

/**
 * The executor's side of a store: semantic operations only — no connections, SQL or paths in the
 * signatures, so the execution loop never knows which provider it runs on.
 */
export interface IJobQueueManager {
  /**
   * Atomically claims up to `limit` claimable jobs of the given queues, oldest runAt first, then by
   * creation (id): status `new`/`retry` with runAt <= now, or `processing` whose lease has expired;
   * of those only jobs that are unpinned, pinned to `request.host`, or overdue (runAt older than now
   * - takeoverAfterMs).
   * Each claimed job gets a fresh lease and its attempts count goes up by one. Two concurrent claims
   * never return the same job.
   *
   * An expired-lease job that has no attempts left is not returned: it becomes `failed` with an error
   * saying its lease expired (its executor died running it), so a job that crashes its process cannot
   * loop forever.
   */
  claimJobs(request: ClaimRequest): Promise<ClaimedJob[]>;

  /** Applies outcomes (a batch, for speed), each fenced by its lease; results are in the same order. */
  recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]>;

  /** Pushes the leases' expiry to now + leaseMs; 'lease-lost' for any no longer held. */
  extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]>;

  /** Stores a running job's progress, with an optional message (fenced by its lease). */
  reportProgress(lease: JobLease, progress: JobProgress, message?: string | null): Promise<LeaseCheck>;

  /**
   * Appends log lines to the running attempts' logs (a batch, for speed), each entry fenced by its
   * lease: lines of a lease no longer held are dropped and answered 'lease-lost'.
   */
  appendLogs(entries: readonly LogAppend[]): Promise<LeaseCheck[]>;

  /**
   * Optional wake-up: the listener is told (with a queue name) when jobs may have become available,
   * e.g. on enqueue in this process or a LISTEN/NOTIFY from another. Polling stays the fallback, so a
   * store that cannot tell simply omits this. Returns an unsubscribe function.
   */
  onJobsAvailable?(listener: (queue: string) => void): () => void;

  /**
   * Optional: how many jobs one claim should bring back to be worth its cost, for a store whose claim
   * costs far more per call than per job (the file store lists the queue's whole backlog and fsyncs
   * two directories on every claim, whatever its limit). An executor queue whose `maxPending` is not
   * set then holds up to `max(workers * 2, 2 * claimBatchHint)` jobs, so that its claims (made once
   * half of that is free) come in batches of about this size. A store that omits it gets the
   * executor's plain default.
   */
  readonly claimBatchHint?: number;
}
