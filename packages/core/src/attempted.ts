import type { JobError } from './errors.js';
import type { JobLogLine } from './history.js';
import type { NewJob } from './job.js';

/**
 * How an attempt that ran before its job was stored ended. `retry` stores the job waiting for its
 * attempt 2 at `runAt`; `failed` and `done` store it final.
 */
export type AttemptOutcome =
  | { kind: 'retry'; error: JobError; runAt: Date }
  | { kind: 'failed'; error: JobError }
  | { kind: 'done'; result?: string | null };

/**
 * A job whose attempt 1 already ran in this process (ImmediateRunner: run now, store only when it
 * fails), with that attempt: who ran it, when, how it ended, what it logged.
 */
export interface AttemptedJob {
  /** Prepared by `prepareJob`, as for insertJobs. */
  job: NewJob;
  startedAt: Date;
  finishedAt: Date;
  /** Who ran the attempt (an executor id or a runner's owner name), as a lease owner would be. */
  owner: string;
  /** The host it ran on, shown on the run. */
  host?: string | null;
  outcome: AttemptOutcome;
  /** Lines the attempt logged, stored under attempt 1. */
  logs?: readonly JobLogLine[];
}

/**
 * The writer's second operation: stores jobs that already had attempt 1, in the state that attempt
 * left them, in one write per call — never a `new` job that someone must claim and finish.
 *
 * - `retry`: status `retry`, attempts 1, runAt = outcome.runAt, lastError = the error; a claim then
 *   counts attempt 2 and the job's own retry policy goes on from there (the normal rule).
 * - `failed`: final, finishedAt and lastError set. `done`: final, finishedAt and result set.
 * - The row describes attempt 1 (startedAt, executorId = owner, host), and attempt 1 is in the
 *   job's run history with its outcome, error and duration (core's runs.ts rules: a retry or failed
 *   run is stored, a done run is read off the row); its log lines are read with listLogs.
 * - Unique keys as in insertJobs: a job whose key is held writes nothing (no run, no lines) and
 *   answers the holder's id. Ids come back in input order.
 */
export interface IAttemptedJobWriter {
  insertAttempted(entries: readonly AttemptedJob[]): Promise<string[]>;
}

/** The time a stored attempted job is due: its retry time, else when it was due (or ran). */
export function attemptedRunAt(entry: AttemptedJob): Date {
  return entry.outcome.kind === 'retry' ? entry.outcome.runAt : (entry.job.runAt ?? entry.startedAt);
}
