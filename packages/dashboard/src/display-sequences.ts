import type { SequenceRun, SequenceRunStep, StepStatus } from '@oddjob/core';

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** One step of a run as the API answers it: its job, its step status and the job's own, its parents by step. */
export function stepView(s: SequenceRunStep) {
  return {
    step: s.step,
    jobId: s.jobId,
    status: s.status,
    jobStatus: s.jobStatus,
    after: s.after,
    queue: s.queue,
    target: s.target,
    method: s.method,
    attempts: s.attempts,
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    lastError: s.lastError === null ? null : { name: s.lastError.name, message: s.lastError.message },
  };
}

/** A run for the list: its status and how many steps are in each step status (no step rows). */
export function runSummaryView(r: SequenceRun) {
  const stepsByStatus: Partial<Record<StepStatus, number>> = {};
  for (const s of r.steps) stepsByStatus[s.status] = (stepsByStatus[s.status] ?? 0) + 1;
  return {
    run: r.run,
    name: r.name,
    status: r.status,
    createdAt: r.createdAt.toISOString(),
    finishedAt: iso(r.finishedAt),
    stepCount: r.steps.length,
    stepsByStatus,
  };
}

/** A run in full: the summary and every step. */
export function runView(r: SequenceRun) {
  return { ...runSummaryView(r), steps: r.steps.map(stepView) };
}
