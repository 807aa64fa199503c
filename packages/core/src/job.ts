import type { JobError } from './errors.js';
import type { RetryPolicy } from './retry.js';
import type { JobStatus } from './status.js';

/** Free-form, JSON-shaped data carried with a job: user id, tenant, correlation id, ... */
export type JobMetadata = Record<string, unknown>;

/** What a job reports while it runs: a percentage, or any JSON object (e.g. { done: 40, of: 90 }). */
export type JobProgress = number | Record<string, unknown>;

/** The plain, untyped form of a job: what other services, the CLI or HTTP hand in. */
export interface JobCall {
  /** The name the target class is registered under (not its JavaScript class name). */
  target: string;
  /** A method defined on the target class's own prototype. */
  method: string;
  args: unknown[];
}

/** Options accepted by addJob / addJobs. */
export interface JobOptions {
  /** Queue name; default "default". */
  queue?: string;
  /** Not before this time. Takes precedence over delayMs. */
  runAt?: Date;
  /** Not before now + delayMs. */
  delayMs?: number;
  retry?: RetryPolicy;
  /**
   * At most one stored job has this key (until it is purged): adding a job whose key is taken adds
   * nothing and returns the id of the job that holds it. Schedules use (schedule, fire time) keys.
   */
  uniqueKey?: string;
  metadata?: JobMetadata;
}

/** The lease an executor holds on a claimed job; every later write is fenced by its token. */
export interface Lease {
  owner: string;
  /**
   * Changes with every claim of the job, so a write under an older claim's token is refused. Jobs
   * handed out by one claim may share a token (PostgreSQL does: one per claim); a write is always
   * fenced by job id and token together.
   */
  token: string;
  expiresAt: Date;
}

/** Identifies a claimed job and the lease under which a write is made. */
export interface JobLease {
  jobId: string;
  token: string;
}

/** A job ready to be written by a store: validated and serialized by the adder. */
export interface NewJob {
  /** Time-ordered UUID (v7) made by the client, so enqueue needs no read-back. */
  id: string;
  queue: string;
  target: string;
  method: string;
  /** Serialized arguments (see serializer.ts); stores keep the text as it is. */
  args: string;
  /** null: as soon as possible (the store's now). */
  runAt: Date | null;
  retry: RetryPolicy;
  metadata: JobMetadata;
  uniqueKey: string | null;
}

/** One stored job, as every provider returns it. */
export interface JobRecord {
  id: string;
  queue: string;
  target: string;
  method: string;
  /** Serialized arguments; decode with `deserializeArgs(record.args, record.id)`. */
  args: string;
  status: JobStatus;
  runAt: Date;
  /** Attempts started (counted at claim time, so a crash mid-run counts). */
  attempts: number;
  retry: RetryPolicy;
  lastError: JobError | null;
  lease: Lease | null;
  progress: JobProgress | null;
  metadata: JobMetadata;
  uniqueKey: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** A job returned by a claim: processing, with the caller's lease. */
export type ClaimedJob = JobRecord & { status: 'processing'; lease: Lease };

export const DEFAULT_QUEUE = 'default';
