/**
 * Rows <-> records. Dates come back from tedious as JS Dates read as UTC (useUTC, enforced by the
 * connection factory); JSON columns are parsed here, and a column that cannot be parsed raises
 * CorruptJobError naming the job, never a bare SyntaxError. Arguments and results stay the text they
 * were stored as: core's deserializeArgs / deserializeResult read them.
 *
 * History rows (runs, log lines, executors) are read in lists, and one unreadable row must not make
 * a whole list unreadable. They are treated the way the claim treats a job row it cannot map: the
 * row stays visible and says what is wrong — a run whose error or progress JSON is unreadable keeps
 * its place with `error` set to the CorruptJobError (naming the job, the run and the column). Only a
 * row that cannot be a run or a line at all (a state, level or time the tables' CHECK constraints and
 * types do not allow, which no write of this package produces) is left out, as `null`.
 */
import {
  CorruptJobError,
  isJobStatus,
  isLogLevel,
  isRunState,
  type ExecutorEntry,
  type ExecutorInfo,
  type ExecutorQueue,
  type ExecutorState,
  type JobError,
  type JobRun,
  type StoredLogLine,
  type JobProgress,
  type JobRecord,
  type MisfirePolicy,
  type RetryPolicy,
  type ScheduleRecord,
  type JobMetadata,
  type JobConcurrency,
} from '@oddjob/core';
import { flowOf } from './flow-rows.js';
export { holdsUniqueKey, jobToRow, PLAIN_PLACEMENT, type Placement } from './flow-rows.js';
import type { ExecutorRowInput, ScheduleRowInput } from './statements.js';

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
  // migration 2
  started_at: Date | null;
  executor_id: string | null;
  host: string | null;
  result: string | null;
  progress_message: string | null;
  // migration 3
  pinned_host: string | null;
  // migration 4 (flow.ts)
  priority: number;
  unique_scope: string;
  unique_held: boolean;
  after_json: string | null;
  waiting_for: string | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  already_running: string | null;
  sequence_name: string | null;
  sequence_run: string | null;
  sequence_step: string | null;
}

/** A row of job_runs. seq is bigint, which tedious returns as a string. */
export interface RunRow {
  job_id: string;
  seq: string | number;
  attempt: number;
  executor_id: string;
  host: string | null;
  state: string;
  started_at: Date;
  finished_at: Date;
  error: string | null;
  progress: string | null;
  progress_message: string | null;
}

/** A row of job_logs (seq bigint: a string from tedious). */
export interface LogRow {
  job_id: string;
  seq: string | number;
  attempt: number;
  logged_at: Date;
  level: string;
  message: string;
}

/** A row of executors, with `stale` computed by the statement. */
export interface ExecutorRow {
  id: string;
  host: string;
  pid: number;
  version: string;
  queues: string;
  started_at: Date;
  state: string;
  heartbeat_at: Date;
  stale: number;
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
  // migration 4
  priority: number;
  concurrency: string | null;
}

function parse<T>(text: string, what: string, id: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CorruptJobError(id, `column ${what} is not valid JSON`, { cause: err });
  }
}

function date(value: unknown, what: string, id: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new CorruptJobError(id, `column ${what} is not a date`);
  return value;
}

export function rowToJob(row: JobRow): JobRecord {
  const id = row.id;
  if (!isJobStatus(row.status)) throw new CorruptJobError(id, `unknown status ${JSON.stringify(row.status)}`);
  const lease =
    row.status === 'processing' && row.lease_token !== null && row.lease_owner !== null && row.lease_expires_at !== null
      ? {
          owner: row.lease_owner,
          token: row.lease_token,
          expiresAt: date(row.lease_expires_at, 'lease_expires_at', id),
        }
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
    progressMessage: row.progress_message ?? null,
    result: row.result ?? null,
    startedAt: row.started_at == null ? null : date(row.started_at, 'started_at', id),
    executorId: row.executor_id ?? null,
    host: row.host ?? null,
    pinnedHost: row.pinned_host ?? null,
    ...flowOf(row, id),
  };
}

const validDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());

/** A bigint read back from tedious (a string) as a number; null if it is not a safe integer. */
function seqOf(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * A run record, or null for a row that cannot be one (see the header). Unreadable JSON in `error` or
 * `progress` keeps the run, with `error` saying which column is corrupt and `progress` null.
 */
export function rowToRun(row: RunRow): JobRun | null {
  if (!isRunState(row.state) || row.state === 'running') return null;
  if (!validDate(row.started_at) || !validDate(row.finished_at)) return null;
  const where = `run ${String(row.seq)} (attempt ${row.attempt})`;
  let corrupt: JobError | null = null;
  const json = <T>(text: string | null, column: string): T | null => {
    if (text === null) return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      // name and message only: a read-side stack would say nothing about the run, and differ per read
      const e = new CorruptJobError(row.job_id, `${where}: column ${column} is not valid JSON`);
      corrupt ??= { name: e.name, message: e.message };
      return null;
    }
  };
  const error = json<JobError>(row.error, 'error');
  const progress = json<JobProgress>(row.progress, 'progress');
  return {
    jobId: row.job_id,
    attempt: row.attempt,
    executorId: row.executor_id,
    host: row.host,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    state: row.state,
    error: corrupt ?? error,
    durationMs: Math.max(0, row.finished_at.getTime() - row.started_at.getTime()),
    progress,
    progressMessage: row.progress_message,
    // Read from the job's pin by the admin (core's takeoverOf): a takeover is not a stored column.
    takeover: null,
  };
}

/** A stored log line, or null for a row that cannot be one (see the header). */
export function rowToLogLine(row: LogRow): StoredLogLine | null {
  const seq = seqOf(row.seq);
  if (seq === null || !isLogLevel(row.level) || !validDate(row.logged_at)) return null;
  return { jobId: row.job_id, attempt: row.attempt, seq, at: row.logged_at, level: row.level, message: row.message };
}

export function executorToRow(info: ExecutorInfo): ExecutorRowInput {
  return {
    id: info.id,
    host: info.host,
    pid: info.pid,
    version: info.version,
    queues: JSON.stringify(info.queues.map((q) => ({ name: q.name, workers: q.workers }))),
    startedAt: info.startedAt,
    state: info.state,
  };
}

/**
 * A registry entry. Unreadable queues JSON (a hand edit) reads as no queues rather than hiding the
 * executor: that it is alive matters more than what it serves. A state outside the CHECK constraint
 * cannot be stored; should a driver ever hand one back, the entry is left out (null).
 */
export function rowToExecutor(row: ExecutorRow): ExecutorEntry | null {
  const state = row.state as ExecutorState;
  if (state !== 'running' && state !== 'stopping') return null;
  let queues: ExecutorQueue[] = [];
  try {
    const parsed: unknown = JSON.parse(row.queues);
    if (Array.isArray(parsed)) queues = parsed as ExecutorQueue[];
  } catch {
    // see above: the entry stays, without queues
  }
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    version: row.version,
    queues,
    startedAt: row.started_at,
    state,
    heartbeatAt: row.heartbeat_at,
    stale: row.stale === 1,
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
    priority: s.priority,
    concurrency: s.concurrency === null ? null : JSON.stringify(s.concurrency),
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
    priority: row.priority,
    concurrency: row.concurrency === null ? null : parse<JobConcurrency>(row.concurrency, 'concurrency', where),
  };
}

/** Progress as stored: JSON text of a number or an object. */
export function progressToText(progress: JobProgress): string {
  return JSON.stringify(progress);
}
