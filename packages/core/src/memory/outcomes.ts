// What the memory store writes on a job when an attempt ends: an outcome reported under a lease, or
// the outcome of an attempt that ran before the job was stored. Kept apart from memory-store.ts so
// the per-outcome state changes read in one place, apart from the lease checks, batching and
// listener wake-ups the store wraps around them.
import type { AttemptedJob } from '../attempted.js';
import { leaseExpiredError } from '../errors.js';
import type { JobOutcome } from '../manager.js';
import type { JobHistory } from './job-history.js';
import type { ReadyJobs } from './ready-jobs.js';
import type { StoredJob } from './stored-job.js';

/** Ends the attempt `job`'s lease was for (the caller checked the lease is still held). */
export function applyOutcome(
  job: StoredJob,
  outcome: JobOutcome,
  now: Date,
  history: JobHistory,
  ready: ReadyJobs,
): void {
  job.lease = null;
  job.updatedAt = now;
  switch (outcome.kind) {
    case 'done':
      job.status = 'done';
      job.finishedAt = now;
      job.result = outcome.result ?? null;
      break;
    case 'failed':
      history.endRun(job, 'failed', outcome.error, now);
      job.status = 'failed';
      job.lastError = outcome.error;
      job.finishedAt = now;
      break;
    case 'retry':
      history.endRun(job, 'retry', outcome.error, now);
      job.status = 'retry';
      job.lastError = outcome.error;
      job.runAt = outcome.runAt;
      ready.add(job);
      break;
    case 'released':
      history.endRun(job, 'released', null, now);
      job.status = job.attempts > 1 ? 'retry' : 'new';
      job.attempts -= 1;
      job.runAt = now;
      ready.add(job);
      break;
  }
}

/** Fails a job whose executor died on its last allowed attempt (its lease expired). */
export function applyLeaseExpired(job: StoredJob, owner: string, now: Date, history: JobHistory): void {
  history.endRun(job, 'lease-lost', leaseExpiredError(owner), now);
  job.status = 'failed';
  job.lastError = leaseExpiredError(owner);
  job.lease = null;
  job.finishedAt = now;
  job.updatedAt = now;
}

/** Puts a job just stored for an attempted entry in the state its attempt 1 left it in. */
export function applyAttempted(stored: StoredJob, entry: AttemptedJob, history: JobHistory, ready: ReadyJobs): void {
  const { outcome } = entry;
  switch (outcome.kind) {
    case 'retry':
      history.endRun(stored, 'retry', { ...outcome.error }, entry.finishedAt);
      stored.status = 'retry';
      stored.lastError = { ...outcome.error };
      ready.add(stored);
      break;
    case 'failed':
      history.endRun(stored, 'failed', { ...outcome.error }, entry.finishedAt);
      stored.status = 'failed';
      stored.lastError = { ...outcome.error };
      stored.finishedAt = entry.finishedAt;
      break;
    case 'done':
      // Its run is read off the row (runs.ts): nothing else to write.
      stored.status = 'done';
      stored.result = outcome.result ?? null;
      stored.finishedAt = entry.finishedAt;
      break;
  }
}
