import type { IJobQueueAdmin, JobFilter } from '../admin.js';
import { InvalidOptionError } from '../errors.js';
import type { JobRecord } from '../job.js';
import {
  deriveRunStatus,
  isStepFinal,
  stepStatusOf,
  type SequenceRunStatus,
  type SequenceRunStep,
} from './run-status.js';

/** A run as read back from its step jobs. */
export interface SequenceRun {
  run: string;
  /** The sequence's name. */
  name: string;
  status: SequenceRunStatus;
  /** When its step jobs were added. */
  createdAt: Date;
  /** When its last step ended; null while it is running. */
  finishedAt: Date | null;
  /** In the order they were added (definition order). */
  steps: SequenceRunStep[];
}

/** Jobs read per listJobs call while collecting a run's (or a sequence's) step jobs. */
const PAGE = 1000;

/** Every job matching `filter`, paged by id (so jobs added meanwhile do not shift a page). */
async function allJobs(admin: IJobQueueAdmin, filter: JobFilter): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  for (let afterId: string | undefined; ;) {
    const page = await admin.listJobs({ ...filter, limit: PAGE, ...(afterId === undefined ? {} : { afterId }) });
    jobs.push(...page);
    if (page.length < PAGE) return jobs;
    afterId = page[page.length - 1].id;
  }
}

/** A run from its step jobs (all tagged with the same run, in id order). */
function runOf(jobs: readonly JobRecord[]): SequenceRun {
  const stepOfJob = new Map(jobs.map((j) => [j.id, j.sequence!.step]));
  const steps = jobs.map((j): SequenceRunStep => ({
    step: j.sequence!.step,
    jobId: j.id,
    status: stepStatusOf(j),
    jobStatus: j.status,
    after:
      j.after === null
        ? null
        : {
            rule: j.after.rule,
            parents: j.after.parents.map((p) => ({ step: stepOfJob.get(p.job) ?? null, job: p.job, when: p.when })),
          },
    queue: j.queue,
    target: j.target,
    method: j.method,
    attempts: j.attempts,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    lastError: j.lastError,
  }));
  const status = deriveRunStatus(steps);
  const ends = jobs.map((j) => j.finishedAt?.getTime() ?? 0);
  return {
    run: jobs[0].sequence!.run,
    name: jobs[0].sequence!.name,
    status,
    createdAt: new Date(Math.min(...jobs.map((j) => j.createdAt.getTime()))),
    finishedAt: status === 'running' ? null : new Date(Math.max(...ends)),
    steps,
  };
}

/** The run `runId` read from its step jobs, with its derived status; null if no step job of it is stored. */
export async function getSequenceRun(admin: IJobQueueAdmin, runId: string): Promise<SequenceRun | null> {
  if (typeof runId !== 'string' || runId.length === 0) throw new InvalidOptionError('runId', 'must be a run id');
  const jobs = await allJobs(admin, { sequenceRun: runId });
  return jobs.length === 0 ? null : runOf(jobs);
}

/**
 * Runs, newest first (by when they were added, then run id), at most `limit` (default 20). With
 * `name`, runs of that sequence only. The store keeps no run records, so this reads every step job
 * of the sequence (listJobs({ sequence }), paged), and without `name` every job of the store:
 * give a name on a store of many jobs, and purge old runs (purgeJobs) to keep it quick.
 */
export async function listSequenceRuns(
  admin: IJobQueueAdmin,
  options: { name?: string; limit?: number } = {},
): Promise<SequenceRun[]> {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 0) throw new InvalidOptionError('limit', 'must be an integer >= 0');
  const jobs = (await allJobs(admin, options.name === undefined ? {} : { sequence: options.name })).filter(
    (j) => j.sequence !== null,
  );
  const byRun = new Map<string, JobRecord[]>();
  for (const j of jobs) {
    const list = byRun.get(j.sequence!.run);
    if (list === undefined) byRun.set(j.sequence!.run, [j]);
    else list.push(j);
  }
  return [...byRun.values()]
    .map(runOf)
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.run < b.run ? 1 : a.run > b.run ? -1 : 0))
    .slice(0, limit);
}

/**
 * Cancels every step of the run that is not final; answers the steps it cancelled (a step that
 * ended meanwhile is not among them). Children are cancelled before their parents, so a parent's
 * cancel cannot release a child (an `always` step) that an executor then claims before its own
 * cancel arrives. A step an executor is running is cancelled as cancelJob does: the run is not
 * interrupted, but its result is refused. The store decides the children of what is cancelled, as
 * for any cancel (flow.ts). Cancelled steps read as 'cancelled', and the run as 'cancelled'.
 */
export async function cancelSequenceRun(admin: IJobQueueAdmin, runId: string): Promise<string[]> {
  const run = await getSequenceRun(admin, runId);
  if (run === null) return [];
  const cancelled: string[] = [];
  for (const s of childrenFirst(run.steps)) {
    if (isStepFinal(s.status)) continue;
    if (await admin.cancelJob(s.jobId)) cancelled.push(s.step);
  }
  return cancelled;
}

/** The steps ordered so every step comes before each of its parents (a reversed topological order). */
function childrenFirst(steps: readonly SequenceRunStep[]): SequenceRunStep[] {
  const byJob = new Map(steps.map((s) => [s.jobId, s]));
  const order: SequenceRunStep[] = [];
  const seen = new Set<string>();
  // Parents first by depth-first post-order, then reversed. The store refused cycles when it added
  // the run, so the walk ends; `seen` is set before descending all the same.
  const visit = (s: SequenceRunStep): void => {
    if (seen.has(s.jobId)) return;
    seen.add(s.jobId);
    for (const p of s.after?.parents ?? []) {
      const parent = byJob.get(p.job);
      if (parent !== undefined) visit(parent);
    }
    order.push(s);
  };
  for (const s of steps) visit(s);
  return order.reverse();
}
