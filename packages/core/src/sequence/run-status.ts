import type { JobError } from '../errors.js';
import { DEPENDENCY_ERROR_NAME, type AfterRule, type DependencyWhen } from '../flow.js';
import type { JobRecord } from '../job.js';
import type { JobStatus } from '../status.js';

/** A step of a run as a person reads it: the job's status, with skipped branches told apart. */
export type StepStatus =
  /** Waits for its parents (or for a slot of its concurrency key). */
  | 'waiting'
  /** Released (or without a rule) and not claimed yet. */
  | 'queued'
  /** An executor runs it. */
  | 'running'
  /** An attempt failed; it runs again after its backoff. */
  | 'retrying'
  /** Its job ended done. */
  | 'succeeded'
  /** Its job ended failed (attempts spent, or a JobAbortError). */
  | 'failed'
  /** A branch not taken: its parents ended so that its start rule could not hold (a DependencyError). */
  | 'skipped'
  /** Cancelled by a user (cancelJob, cancelSequenceRun), before or while it ran. */
  | 'cancelled';

/**
 * A run's status, derived from its steps every time it is read (nothing about a run is stored but
 * its step jobs), in this order:
 * - 'running' while any step is not final (waiting, queued, running or retrying);
 * - 'cancelled' if any step was cancelled by a user: the run was stopped, so its outcome is not the
 *   sequence's own, even where a step had failed before;
 * - 'failed' if a step failed and no step that ran handles that failure. A step handles a parent's
 *   failure when it ran (ended succeeded or failed itself) and its rule waited for that parent's
 *   failure: an on-failure rule (or `each` with when 'failed') naming it, or an on-mixed rule
 *   naming it. An `always` step is clean-up, not a handler: it runs after a failure but does not
 *   clear it. A handler that fails is itself a failed step, to be handled in turn;
 * - 'succeeded' otherwise: every step that ran succeeded or had its failure handled, and the other
 *   steps were skipped branches.
 */
export type SequenceRunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** One step of a read run. */
export interface SequenceRunStep {
  step: string;
  jobId: string;
  status: StepStatus;
  /** The job's own status. */
  jobStatus: JobStatus;
  /** The step's parents by step name (null for a parent outside the run), as stored; null without a rule. */
  after: { rule: AfterRule; parents: { step: string | null; job: string; when: DependencyWhen }[] } | null;
  queue: string;
  target: string;
  method: string;
  attempts: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Why it failed, or for a skipped step the DependencyError naming the parent that decided it. */
  lastError: JobError | null;
}

/** The step status of a step job. */
export function stepStatusOf(job: Pick<JobRecord, 'status' | 'lastError'>): StepStatus {
  switch (job.status) {
    case 'waiting':
      return 'waiting';
    case 'new':
      return 'queued';
    case 'processing':
      return 'running';
    case 'retry':
      return 'retrying';
    case 'done':
      return 'succeeded';
    case 'failed':
      return 'failed';
    case 'cancelled':
      // The store gives a child its parents cancelled a DependencyError; a user's cancel leaves
      // lastError as it was (null, or the error of an attempt that failed before).
      return job.lastError?.name === DEPENDENCY_ERROR_NAME ? 'skipped' : 'cancelled';
    default: {
      const unknown: never = job.status;
      throw new Error(`unknown job status ${String(unknown)}`);
    }
  }
}

/** Whether a step is final (it will not change unless someone requeues it). */
export function isStepFinal(status: StepStatus): boolean {
  switch (status) {
    case 'waiting':
    case 'queued':
    case 'running':
    case 'retrying':
      return false;
    case 'succeeded':
    case 'failed':
    case 'skipped':
    case 'cancelled':
      return true;
    default: {
      const unknown: never = status;
      throw new Error(`unknown step status ${String(unknown)}`);
    }
  }
}

/** The run's status from its steps (see SequenceRunStatus for the rule). */
export function deriveRunStatus(
  steps: readonly Pick<SequenceRunStep, 'step' | 'status' | 'after'>[],
): SequenceRunStatus {
  let open = false;
  let cancelled = false;
  const failed: string[] = [];
  for (const s of steps) {
    switch (s.status) {
      case 'waiting':
      case 'queued':
      case 'running':
      case 'retrying':
        open = true;
        break;
      case 'cancelled':
        cancelled = true;
        break;
      case 'failed':
        failed.push(s.step);
        break;
      case 'succeeded':
      case 'skipped':
        break;
      default: {
        const unknown: never = s.status;
        throw new Error(`unknown step status ${String(unknown)}`);
      }
    }
  }
  if (open) return 'running';
  if (cancelled) return 'cancelled';
  if (failed.some((f) => !isHandled(f, steps))) return 'failed';
  return 'succeeded';
}

/** Whether a step that ran waited for `failedStep`'s failure (see SequenceRunStatus). */
export function isHandled(failedStep: string, steps: readonly Pick<SequenceRunStep, 'status' | 'after'>[]): boolean {
  return steps.some((h) => {
    if ((h.status !== 'succeeded' && h.status !== 'failed') || h.after === null) return false;
    const rule = h.after.rule;
    switch (rule) {
      case 'mixed':
        return h.after.parents.some((p) => p.step === failedStep);
      case 'each':
        return h.after.parents.some((p) => p.step === failedStep && p.when === 'failed');
      default: {
        const unknown: never = rule;
        throw new Error(`unknown after rule ${String(unknown)}`);
      }
    }
  });
}
