import {
  InvalidOptionError,
  isFinalStatus,
  isJobStatus,
  type IJobQueueAdmin,
  type JobCount,
  type JobFilter,
  type JobRecord,
  type JobStatus,
  type PurgeFilter,
} from '@oddjob/core';
import { affected, isUuidShaped, type SqlServerContext } from './context.js';
import { rowToJob, type JobRow } from './row-mapping.js';
import { cancelJob, countJobs, getJob, listJobs, purgeJobs, requeueJob } from './statements.js';

function nonNegativeInt(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(option, `must be an integer >= 0, got ${String(value)}`);
  }
  return value;
}

function validDate(option: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new InvalidOptionError(option, 'must be a valid Date');
  return value;
}

/** The read/admin side of the SQL Server store. */
export class SqlServerJobQueueAdmin implements IJobQueueAdmin {
  constructor(private readonly ctx: SqlServerContext) {}

  async getJob(id: string): Promise<JobRecord | null> {
    if (!isUuidShaped(id)) return null;
    const result = await this.ctx.runner.run<JobRow>(getJob(this.ctx.names, id));
    const row = result.recordset?.[0];
    return row ? rowToJob(row) : null;
  }

  async listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    const statuses = filter.status === undefined ? undefined : ([] as JobStatus[]).concat(filter.status);
    statuses?.forEach((s) => {
      if (!isJobStatus(s)) throw new InvalidOptionError('status', `unknown status ${JSON.stringify(s)}`);
    });
    const limit = nonNegativeInt('limit', filter.limit, 100);
    const offset = nonNegativeInt('offset', filter.offset, 0);
    if (limit === 0 || statuses?.length === 0) return [];
    const result = await this.ctx.runner.run<JobRow>(
      listJobs(this.ctx.names, { statuses, queue: filter.queue, target: filter.target, limit, offset }),
    );
    return (result.recordset ?? []).map(rowToJob);
  }

  async countJobs(filter: { queue?: string } = {}): Promise<JobCount[]> {
    const result = await this.ctx.runner.run<{ queue: string; status: JobStatus; n: number }>(countJobs(this.ctx.names, filter.queue));
    return (result.recordset ?? []).map((r) => ({ queue: r.queue, status: r.status, count: r.n }));
  }

  async cancelJob(id: string): Promise<boolean> {
    if (!isUuidShaped(id)) return false;
    return affected(await this.ctx.runner.run(cancelJob(this.ctx.names, id))) === 1;
  }

  async requeueJob(id: string, options: { runAt?: Date } = {}): Promise<boolean> {
    const runAt = options.runAt === undefined ? null : validDate('runAt', options.runAt);
    if (!isUuidShaped(id)) return false;
    return affected(await this.ctx.runner.run(requeueJob(this.ctx.names, id, runAt))) === 1;
  }

  async purgeJobs(filter: PurgeFilter): Promise<number> {
    if (filter === null || typeof filter !== 'object' || !Array.isArray(filter.statuses)) {
      throw new InvalidOptionError('statuses', 'purgeJobs needs { statuses: [...final statuses] }');
    }
    for (const s of filter.statuses) {
      if (!isJobStatus(s) || !isFinalStatus(s)) throw new InvalidOptionError('statuses', `only done, failed and cancelled jobs can be purged, not ${JSON.stringify(s)}`);
    }
    if (filter.statuses.length === 0) return 0;
    const finishedBefore = filter.finishedBefore === undefined ? undefined : validDate('finishedBefore', filter.finishedBefore);
    return affected(await this.ctx.runner.run(purgeJobs(this.ctx.names, { statuses: filter.statuses, queue: filter.queue, finishedBefore })));
  }
}
