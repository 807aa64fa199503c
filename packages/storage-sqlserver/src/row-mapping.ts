/**
 * Rows <-> records. Dates come back from tedious as JS Dates read as UTC (useUTC, enforced by the
 * connection factory); JSON columns are parsed here, and a column that cannot be parsed raises
 * CorruptJobError naming the job, never a bare SyntaxError. Arguments stay the text they were stored
 * as: core's deserializeArgs reads them when the job runs.
 */
import {
  CorruptJobError,
  isJobStatus,
  type JobError,
  type JobProgress,
  type JobRecord,
  type MisfirePolicy,
  type NewJob,
  type RetryPolicy,
  type ScheduleRecord,
  type JobMetadata,
} from '@oddjob/core';
import type { JobRowInput, ScheduleRowInput } from './statements.js';

/** A row of the jobs table as mssql returns it. */
export interface JobRow {
  id: string;
  queue: string;
  target: string;
  method: string;
  args: string;
  status: string;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  retry: string;
  last_error: string | null;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at: Date | null;
  progress: string | null;
  metadata: string;
  unique_key: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export interface ScheduleRow {
  name: string;
  cron: string;
  time_zone: string;
  target: string;
  method: string;
  args: string;
  queue: string;
  retry: string;
  metadata: string;
  misfire: string;
  paused: boolean;
  next_fire_at: Date | null;
  last_fire_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

function parse<T>(text: string, what: string, id: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CorruptJobError(id, `column ${what} is not valid JSON`, { cause: err });
  }
}

function date(value: unknown, what: string, id: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new CorruptJobError(id, `column ${what} is not a date`);
  return value;
}

export function jobToRow(job: NewJob): JobRowInput {
  return {
    id: job.id,
    queue: job.queue,
    target: job.target,
    method: job.method,
    args: job.args,
    runAt: job.runAt,
    maxAttempts: job.retry.maxAttempts,
    retry: JSON.stringify(job.retry),
    metadata: JSON.stringify(job.metadata),
    uniqueKey: job.uniqueKey,
  };
}

export function rowToJob(row: JobRow): JobRecord {
  const id = row.id;
  if (!isJobStatus(row.status)) throw new CorruptJobError(id, `unknown status ${JSON.stringify(row.status)}`);
  const lease =
    row.status === 'processing' && row.lease_token !== null && row.lease_owner !== null && row.lease_expires_at !== null
      ? { owner: row.lease_owner, token: row.lease_token, expiresAt: date(row.lease_expires_at, 'lease_expires_at', id) }
      : null;
  return {
    id,
    queue: row.queue,
    target: row.target,
    method: row.method,
    args: row.args,
    status: row.status,
    runAt: date(row.run_at, 'run_at', id),
    attempts: row.attempts,
    retry: parse<RetryPolicy>(row.retry, 'retry', id),
    lastError: row.last_error === null ? null : parse<JobError>(row.last_error, 'last_error', id),
    lease,
    progress: row.progress === null ? null : parse<JobProgress>(row.progress, 'progress', id),
    metadata: parse<JobMetadata>(row.metadata, 'metadata', id),
    uniqueKey: row.unique_key,
    createdAt: date(row.created_at, 'created_at', id),
    updatedAt: date(row.updated_at, 'updated_at', id),
    finishedAt: row.finished_at === null ? null : date(row.finished_at, 'finished_at', id),
  };
}

export function scheduleToRow(s: ScheduleRecord): ScheduleRowInput {
  return {
    name: s.name,
    cron: s.cron,
    timeZone: s.timeZone,
    target: s.target,
    method: s.method,
    args: s.args,
    queue: s.queue,
    retry: JSON.stringify(s.retry),
    metadata: JSON.stringify(s.metadata),
    misfire: JSON.stringify(s.misfire),
    paused: s.paused,
    nextFireAt: s.nextFireAt,
    lastFireAt: s.lastFireAt,
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

export function rowToSchedule(row: ScheduleRow): ScheduleRecord {
  const where = `schedule ${row.name}`;
  return {
    name: row.name,
    cron: row.cron,
    timeZone: row.time_zone,
    target: row.target,
    method: row.method,
    args: row.args,
    queue: row.queue,
    retry: parse<RetryPolicy>(row.retry, 'retry', where),
    metadata: parse<JobMetadata>(row.metadata, 'metadata', where),
    misfire: parse<MisfirePolicy>(row.misfire, 'misfire', where),
    paused: row.paused,
    nextFireAt: row.next_fire_at,
    lastFireAt: row.last_fire_at,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Progress as stored: JSON text of a number or an object. */
export function progressToText(progress: JobProgress): string {
  return JSON.stringify(progress);
}

/** Claim results in the contract's order: runAt, then id (OUTPUT rows come in no promised order). */
export function byRunAtThenId(a: JobRecord, b: JobRecord): number {
  const d = a.runAt.getTime() - b.runAt.getTime();
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
