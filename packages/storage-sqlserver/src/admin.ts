import {
  checkCountFilter,
  checkJobFilter,
  checkLogFilter,
  checkPurgeFilter,
  checkRequeueOptions,
  checkRunFilter,
  derivedRun,
  takeoverOf,
  uuidBoundAfter,
  waitForFinalJob,
  type IJobQueueAdmin,
  type JobCount,
  type JobFilter,
  type JobRecord,
  type JobRun,
  type JobStatus,
  type LogFilter,
  type PurgeFilter,
  type RunFilter,
  type StoredLogLine,
  type WaitOptions,
} from '@oddjob/core';
import { affected, isUuidShaped, type SqlServerContext } from './context.js';
import { dependencyErrorJson } from './manager.js';
import { rowToJob, rowToLogLine, rowToRun, type JobRow, type LogRow, type RunRow } from './row-mapping.js';
import {
  cancelJob,
  countJobs,
  getJob,
  listJobs,
  listLogs,
  listRuns,
  purgeJobs,
  requeueJob,
  type BuiltStatement,
} from './statements.js';

/** getJob(id, { runs: true }) includes this many runs, as core's admin interface says. */
const RUNS_WITH_JOB = 1000;

/** The read/admin side of the SQL Server store. */
export class SqlServerJobQueueAdmin implements IJobQueueAdmin {
  private readonly dependencyError = dependencyErrorJson();

  constructor(private readonly ctx: SqlServerContext) {}

  async getJob(id: string, options: { runs?: boolean } = {}): Promise<JobRecord | null> {
    if (!isUuidShaped(id)) return null;
    if (options?.runs === true) {
      const { job, runs } = await this.readRuns(id, 0, RUNS_WITH_JOB);
      return job === null ? null : { ...job, runs };
    }
    const result = await this.ctx.runner.run<JobRow>(getJob(this.ctx.names, id));
    const row = result.recordset?.[0];
    return row ? rowToJob(row) : null;
  }

  async listRuns(jobId: string, filter?: RunFilter): Promise<JobRun[]> {
    const { limit, offset } = checkRunFilter(filter);
    if (!isUuidShaped(jobId) || limit === 0) return [];
    return (await this.readRuns(jobId, offset, limit)).runs;
  }

  async listLogs(jobId: string, filter?: LogFilter): Promise<StoredLogLine[]> {
    const { attempt, afterSeq, limit } = checkLogFilter(filter);
    if (!isUuidShaped(jobId) || limit === 0) return [];
    const result = await this.ctx.runner.run<LogRow>(listLogs(this.ctx.names, jobId, { attempt, afterSeq, limit }));
    return (result.recordset ?? []).flatMap((row) => rowToLogLine(row) ?? []);
  }

  /** Polls getJob with core's backoff (20 ms growing to 1 s): SQL Server has no wake-up channel to wait on. */
  waitForJob(id: string, options?: WaitOptions): Promise<JobRecord> {
    return waitForFinalJob((jobId) => this.getJob(jobId), id, options);
  }

  async listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    const { statuses, queue, target, afterId, sequenceRun, sequence, limit, offset } = checkJobFilter(filter);
    const fromId = afterId === undefined ? undefined : uuidBoundAfter(afterId);
    // null: no UUID sorts after afterId, so nothing can match.
    if (limit === 0 || statuses?.length === 0 || fromId === null) return [];
    // A run id is a 36-character UUID and a sequence name at most 200 characters (the columns' sizes):
    // anything else matches no job, and would not fit the parameter it is bound as.
    if ((sequenceRun !== undefined && sequenceRun.length !== 36) || (sequence !== undefined && sequence.length > 200))
      return [];
    const result = await this.ctx.runner.run<JobRow>(
      listJobs(this.ctx.names, { statuses, queue, target, fromId, sequenceRun, sequence, limit, offset }),
    );
    return (result.recordset ?? []).map(rowToJob);
  }

  async countJobs(filter: { queue?: string } = {}): Promise<JobCount[]> {
    const queue = checkCountFilter(filter);
    const result = await this.ctx.runner.run<{ queue: string; status: JobStatus; n: number }>(
      countJobs(this.ctx.names, queue),
    );
    return (result.recordset ?? []).map((r) => ({ queue: r.queue, status: r.status, count: r.n }));
  }

  async cancelJob(id: string): Promise<boolean> {
    if (!isUuidShaped(id)) return false;
    return (await this.count(cancelJob(this.ctx.names, id, this.dependencyError))) === 1;
  }

  async requeueJob(id: string, options: { runAt?: Date } = {}): Promise<boolean> {
    const runAt = checkRequeueOptions(options) ?? null;
    if (!isUuidShaped(id)) return false;
    return (await this.count(requeueJob(this.ctx.names, id, runAt))) === 1;
  }

  async purgeJobs(filter: PurgeFilter): Promise<number> {
    const { statuses, queue, finishedBefore } = checkPurgeFilter(filter);
    if (statuses.length === 0) return 0;
    return affected(await this.ctx.runner.run(purgeJobs(this.ctx.names, { statuses, queue, finishedBefore })));
  }

  /** The `n` a counting batch ends with (its last result set). */
  private async count(statement: BuiltStatement): Promise<number> {
    const result = await this.ctx.runner.run<{ n: number }>(statement);
    const last =
      result.recordsets.length === 0 ? [] : (result.recordsets[result.recordsets.length - 1] as { n: number }[]);
    return last[0]?.n ?? 0;
  }

  /**
   * The job and one page of its runs: the stored runs of the page, then the run derived from the row
   * if it falls on the page — core's withDerivedRun puts it after all stored runs, at index `stored`.
   */
  private async readRuns(
    jobId: string,
    offset: number,
    limit: number,
  ): Promise<{ job: JobRecord | null; runs: JobRun[] }> {
    const result = await this.ctx.runner.run(listRuns(this.ctx.names, jobId, { offset, limit }));
    const [jobRows = [], countRows = [], runRows = []] = result.recordsets as unknown as [
      JobRow[],
      { n: number }[],
      RunRow[],
    ];
    if (jobRows.length === 0) return { job: null, runs: [] };
    const job = rowToJob(jobRows[0]);
    const stored = countRows[0]?.n ?? 0;
    const runs = runRows.flatMap((row) => {
      const run = rowToRun(row);
      return run === null ? [] : [{ ...run, takeover: takeoverOf(job.pinnedHost, run.host) }];
    });
    const derived = derivedRun(job);
    if (derived !== null && offset <= stored && stored < offset + limit) runs.push(derived);
    return { job, runs };
  }
}
