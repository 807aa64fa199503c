import type { JobRun, LogFilter, RunFilter, StoredLogLine, WaitOptions } from './history.js';
import type { JobRecord } from './job.js';
import type { FinalJobStatus, JobStatus } from './status.js';

export interface JobFilter {
  status?: JobStatus | readonly JobStatus[];
  queue?: string;
  target?: string;
  /**
   * Only jobs whose id sorts after this one (string order, which for the lowercase UUIDs stores make
   * is also creation order). Keyset paging: pass the last id of a page to read the next; unlike
   * `offset` a store seeks to it, and jobs added or removed before it do not shift the page. It
   * need not be an existing id. At most 100 characters. `offset` then counts from there.
   */
  afterId?: string;
  /** Only the steps of this sequence run (see SequenceTag). */
  sequenceRun?: string;
  /** Only the steps of runs of this sequence. */
  sequence?: string;
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
  /** The job, or null if unknown; with `runs: true` its `runs` (oldest first, at most 1000) too. */
  getJob(id: string, options?: { runs?: boolean }): Promise<JobRecord | null>;
  /** The job's runs, oldest first (see JobRun); [] for an unknown job. */
  listRuns(jobId: string, filter?: RunFilter): Promise<JobRun[]>;
  /** The job's log lines in write order; [] for an unknown job. Readable while the job runs. */
  listLogs(jobId: string, filter?: LogFilter): Promise<StoredLogLine[]>;
  /**
   * Resolves with the job's record once it is final (done, failed or cancelled). Rejects with
   * JobNotFoundError if the job is unknown (or purged while waited on), WaitTimeoutError after
   * `timeoutMs`, or the signal's reason when aborted. Works from any process.
   */
  waitForJob(id: string, options?: WaitOptions): Promise<JobRecord>;
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
  /** Deletes final jobs matching the filter (freeing their unique keys) with their runs and logs; returns how many. */
  purgeJobs(filter: PurgeFilter): Promise<number>;
}
