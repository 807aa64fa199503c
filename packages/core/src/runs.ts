import type { JobError } from './errors.js';
import type { JobRun, RunState, RunTakeover } from './history.js';
import type { JobRecord } from './job.js';

/**
 * The run rules every provider shares, so that none of them has to invent its own reading of a
 * job's history:
 *
 * - A job row always describes its latest attempt (startedAt, executorId, host, progress, and for a
 *   done job finishedAt and result). That attempt is *derived* from the row while it is `processing`
 *   and once it is `done`: nothing else is written, so a job that succeeds first time costs no run
 *   record.
 * - Every other end of an attempt writes one run record, built by `endedRun` from the row as it was
 *   before the write: retry, failed (outcome or lease expiry on the last attempt), released,
 *   cancelled while processing, lease-lost (a claim taking over an expired lease).
 * - Before a requeue overwrites a done row, its derived run is written as a record (`endedRun` with
 *   state 'done'), so history survives a requeue.
 * - A takeover (a run whose host is not the host the job is pinned to) is a fact of two stored
 *   values, the job's pin (never changed after enqueue) and the run's host, so `run.takeover` is
 *   read from them (`takeoverOf`) on every run, stored or derived: no store writes a column for it,
 *   and the takeover run that ends `done` is told apart like any other.
 */

/** The takeover a run of a job pinned to `pinnedHost` records when it ran on `host`, or null. */
export function takeoverOf(pinnedHost: string | null, host: string | null): RunTakeover | null {
  return pinnedHost !== null && host !== pinnedHost ? { pinnedHost } : null;
}

/** The latest attempt as read off the job's row, or null if the row holds no live or done run. */
export function derivedRun(job: JobRecord): JobRun | null {
  if (job.startedAt === null || job.executorId === null) return null;
  if (job.status === 'processing') {
    return runOf(job, 'running', null, null);
  }
  if (job.status === 'done') {
    return runOf(job, 'done', null, job.finishedAt ?? job.updatedAt);
  }
  return null;
}

/**
 * The run record to store when the row's current attempt ends in `state` at `finishedAt` (the row
 * read before the write: its startedAt, executor, attempt and progress are the ending run's). Null
 * when the row has no attempt to end (never claimed), which callers treat as "nothing to record".
 */
export function endedRun(
  job: JobRecord,
  state: Exclude<RunState, 'running'>,
  error: JobError | null,
  finishedAt: Date,
): JobRun | null {
  if (job.startedAt === null || job.executorId === null) return null;
  return runOf(job, state, error, finishedAt);
}

/** Stored runs plus the derived one, oldest first; the derived run comes last (it is the latest). */
export function withDerivedRun(stored: readonly JobRun[], job: JobRecord | null): JobRun[] {
  const derived = job === null ? null : derivedRun(job);
  const pinnedHost = job?.pinnedHost ?? null;
  const runs = stored.map((r) => ({ ...r, takeover: takeoverOf(pinnedHost, r.host) })).sort(compareRuns);
  if (derived !== null) runs.push(derived);
  return runs;
}

/** Runs in the order they happened: by start time, then attempt. */
export function compareRuns(a: JobRun, b: JobRun): number {
  return a.startedAt.getTime() - b.startedAt.getTime() || a.attempt - b.attempt;
}

/**
 * The page `{ offset, limit }` of a job's runs when the stored ones are already read in order: the
 * derived run is appended as the last element of the full list, so a page is a plain slice.
 */
export function pageRuns(all: readonly JobRun[], offset: number, limit: number): JobRun[] {
  return all.slice(offset, offset + limit);
}

function runOf(job: JobRecord, state: RunState, error: JobError | null, finishedAt: Date | null): JobRun {
  const startedAt = job.startedAt!;
  return {
    jobId: job.id,
    attempt: Math.max(job.attempts, 1),
    executorId: job.executorId!,
    host: job.host,
    startedAt,
    finishedAt,
    state,
    error,
    durationMs: finishedAt === null ? null : Math.max(0, finishedAt.getTime() - startedAt.getTime()),
    progress: job.progress,
    progressMessage: job.progressMessage,
    takeover: takeoverOf(job.pinnedHost, job.host),
  };
}
