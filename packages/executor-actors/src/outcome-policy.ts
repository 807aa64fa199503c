import {
  CorruptJobError,
  JobAbortError,
  JobResultError,
  UnknownJobMethodError,
  UnknownJobTargetError,
  retryDelayMs,
  toJobError,
  validateRetryPolicy,
  type ClaimedJob,
  type Clock,
  type JobLease,
  type JobLogger,
  type JobOutcome,
} from '@oddjob/core';
import type { RunResult } from './messages.js';
import type { RunningJob } from './running-job.js';

/** Errors retrying cannot help with: the job goes straight to `failed`. Matched by name as well, so a
 * second copy of core in node_modules does not defeat `instanceof`. */
const NEVER_RETRIED = new Set([
  'JobAbortError',
  'UnknownJobTargetError',
  'UnknownJobMethodError',
  'CorruptJobError',
  'JobResultError',
]);
/** Errors that also call `onMissingTarget`. */
export const MISSING_TARGET = new Set(['UnknownJobTargetError', 'UnknownJobMethodError']);

function neverRetried(error: unknown): boolean {
  try {
    if (
      error instanceof JobAbortError ||
      error instanceof UnknownJobTargetError ||
      error instanceof UnknownJobMethodError ||
      error instanceof CorruptJobError ||
      error instanceof JobResultError
    ) {
      return true;
    }
    return error instanceof Error && NEVER_RETRIED.has(error.name);
  } catch {
    // A hostile thrown value (a revoked Proxy) cannot even be inspected: retry it per the policy.
    return false;
  }
}

/** Retry or fail a run that threw `cause`, from the job's own retry policy. */
export function decideFailure(
  job: ClaimedJob,
  cause: unknown,
  lease: JobLease,
  now: number,
  logger: JobLogger,
): JobOutcome {
  const error = toJobError(cause);
  if (neverRetried(cause)) return { kind: 'failed', lease, error };
  let delay: number | null;
  try {
    delay = retryDelayMs(validateRetryPolicy(job.retry), job.attempts);
  } catch (err) {
    // A stored policy that does not validate cannot schedule a retry; fail with both reasons.
    logger.error({ err, jobId: job.id }, 'oddjob: the job has an invalid retry policy; failing it');
    return {
      kind: 'failed',
      lease,
      error: { ...error, message: `${error.message} (and its retry policy is invalid: ${toJobError(err).message})` },
    };
  }
  if (delay === null) return { kind: 'failed', lease, error };
  return { kind: 'retry', lease, error, runAt: new Date(now + delay) };
}

/**
 * The outcome of a finished run: done, released (skipped, or aborted by a shutdown) or a failure
 * for decideFailure. Null when the run lost its lease: its result is dropped, since another
 * executor may hold the job now.
 */
export function outcomeOf(
  run: RunningJob,
  result: RunResult,
  clock: Clock,
  logger: JobLogger,
  queue: string,
): JobOutcome | null {
  const job = run.job;
  if (run.abortReason === 'lease-lost') {
    logger.warn({ jobId: job.id, queue }, 'oddjob: lease lost while the job ran; its result is dropped');
    return null;
  }
  if (result.kind === 'succeeded') return { kind: 'done', lease: run.lease, result: result.result };
  if (result.kind === 'skipped' || run.abortReason === 'shutdown') return { kind: 'released', lease: run.lease };
  const cause = run.abortReason === 'timeout' ? run.abortedWith! : result.error;
  return decideFailure(job, cause, run.lease, clock.now().getTime(), logger);
}
