import type { JobRecord } from './job.js';
import type { FinalJobStatus, JobStatus } from './status.js';

export interface JobFilter {
  status?: JobStatus | readonly JobStatus[];
  queue?: string;
  target?: string;
  /** Default 100. */
  limit?: number;
  offset?: number;
}

export interface JobCount {
  queue: string;
  status: JobStatus;
  count: number;
}

export interface PurgeFilter {
  /** Only final statuses can be purged. */
  statuses: readonly FinalJobStatus[];
  /** Only jobs that finished before this time (retention). */
  finishedBefore?: Date;
  queue?: string;
}

/** The read/admin side, for dashboards, the CLI and tests. */
export interface IJobQueueAdmin {
  getJob(id: string): Promise<JobRecord | null>;
  /** Jobs matching the filter, in creation (id) order. */
  listJobs(filter?: JobFilter): Promise<JobRecord[]>;
  /** Counts per (queue, status); pairs with no jobs are left out. */
  countJobs(filter?: { queue?: string }): Promise<JobCount[]>;
  /**
   * new / retry / processing → cancelled. A running job is not interrupted by this call, but its
   * executor's result is refused (its lease is gone). False if the job is unknown or already final.
   */
  cancelJob(id: string): Promise<boolean>;
  /**
   * done / failed / cancelled → new, attempts back to 0, runAt = the given time or now. False if the
   * job is unknown or not final.
   */
  requeueJob(id: string, options?: { runAt?: Date }): Promise<boolean>;
  /** Deletes final jobs matching the filter (freeing their unique keys); returns how many. */
  purgeJobs(filter: PurgeFilter): Promise<number>;
}
