import {
  checkCountFilter,
  checkDueSchedules,
  checkExpectedVersion,
  checkJobFilter,
  checkPurgeFilter,
  checkRequeueOptions,
  checkScheduleRecord,
  type FinalJobStatus,
  type JobCount,
  type JobFilter,
  type JobRecord,
  type JobStatus,
  isFinalStatus,
  type PurgeFilter,
  type ResolvedRetention,
  type ScheduleRecord,
  uuidBoundAfter,
} from '@oddjob/core';
import type { Database } from './db.js';
import { toJobRecord, type JobRow } from './rows.js';
import { scheduleFlowParams, scheduleParams, toScheduleRecord, type ScheduleRow } from './schedule-rows.js';
import type { Statements } from './sql/index.js';
import { isUuid, NIL_UUID } from './uuid.js';

/**
 * The store's admin and schedule operations, apart from the claim path (claim-ops.ts) so each file
 * holds one concern. Each takes the store's parts as `c`; PostgresJobStore delegates to them.
 */
export interface PgOps {
  db: Database;
  sql: Statements;
  /** "now" for a statement's $1: the injected clock's time, or NULL for the database's now(). */
  now(): Date | null;
  notify: boolean;
  retention: ResolvedRetention;
  isClosed(): boolean;
}

// ---- admin ----
export async function getJob(c: PgOps, id: string): Promise<JobRecord | null> {
  if (!isUuid(id)) return null;
  const rows = await c.db.run<JobRow>('get job', c.sql.getJob, [id]);
  return rows.length === 0 ? null : toJobRecord(rows[0]);
}

export async function listJobs(c: PgOps, filter: JobFilter = {}): Promise<JobRecord[]> {
  const { statuses, queue, target, afterId, limit, offset, sequenceRun, sequence } = checkJobFilter(filter);
  const from = afterId === undefined ? NIL_UUID : uuidBoundAfter(afterId);
  if (from === null) return []; // no UUID sorts after afterId
  if (sequenceRun !== undefined && !isUuid(sequenceRun)) return []; // runs are UUIDs: no job has this one
  let rows: JobRow[];
  if (queue !== undefined && sequenceRun === undefined && sequence === undefined && onlyUnfinished(statuses)) {
    // Unfinished statuses in one queue: walk that queue's unfinished jobs (migration 6), not every job.
    rows = await c.db.run<JobRow>('list jobs', c.sql.listOpenJobsInQueue, [
      statuses,
      queue,
      target ?? null,
      limit,
      offset,
      from,
    ]);
  } else {
    const stmt =
      sequenceRun !== undefined
        ? c.sql.listJobsOfRun
        : sequence !== undefined
          ? c.sql.listJobsOfSequence
          : c.sql.listJobs;
    rows = await c.db.run<JobRow>('list jobs', stmt, [
      statuses ?? null,
      queue ?? null,
      target ?? null,
      limit,
      offset,
      from,
      ...(stmt === c.sql.listJobs ? [] : [sequenceRun ?? null, sequence ?? null]),
    ]);
  }
  return rows.map(toJobRecord);
}

/** A status filter that names at least one status and no final one (list_open_jobs_in_queue serves it). */
function onlyUnfinished(statuses: readonly JobStatus[] | undefined): statuses is readonly JobStatus[] {
  return statuses !== undefined && statuses.length > 0 && !statuses.some(isFinalStatus);
}

export async function countJobs(c: PgOps, filter: { queue?: string } = {}): Promise<JobCount[]> {
  return c.db.run<JobCount>('count jobs', c.sql.countJobs, [checkCountFilter(filter) ?? null]);
}

export async function cancelJob(c: PgOps, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const rows = await c.db.run('cancel job', c.sql.cancelJob, [c.now(), id, c.notify]);
  return rows.length === 1;
}

export async function requeueJob(c: PgOps, id: string, options: { runAt?: Date } = {}): Promise<boolean> {
  const runAt = checkRequeueOptions(options);
  if (!isUuid(id)) return false;
  const rows = await c.db.run('requeue job', c.sql.requeueJob, [c.now(), id, runAt ?? null, c.notify]);
  return rows.length === 1;
}

export async function purgeJobs(c: PgOps, filter: PurgeFilter): Promise<number> {
  const { statuses, queue, finishedBefore } = checkPurgeFilter(filter);
  if (statuses.length === 0) return 0;
  const rows = await c.db.run<{ n: number }>('purge jobs', c.sql.purgeJobs, [
    statuses,
    queue ?? null,
    finishedBefore ?? null,
  ]);
  return rows[0].n;
}

/**
 * Retention: deletes final jobs older than the configured `retention` times, in batches. Runs on
 * the retention timer when `retention.intervalMs` is set; call it yourself otherwise. Returns how
 * many jobs of each status were deleted.
 */
export async function purgeExpired(c: PgOps): Promise<Record<FinalJobStatus, number>> {
  const deleted: Record<FinalJobStatus, number> = { done: 0, failed: 0, cancelled: 0 };
  const keep: [FinalJobStatus, number | undefined][] = [
    ['done', c.retention.doneMs],
    ['failed', c.retention.failedMs],
    ['cancelled', c.retention.cancelledMs],
  ];
  for (const [status, ms] of keep) {
    if (ms === undefined) continue;
    for (;;) {
      const rows = await c.db.run<{ n: number }>('purge expired jobs', c.sql.purgeExpired, [
        c.now(),
        status,
        ms,
        c.retention.batchSize,
      ]);
      deleted[status] += rows[0].n;
      if (rows[0].n < c.retention.batchSize || c.isClosed()) break;
    }
  }
  return deleted;
}

// ---- schedules ----
export async function insertSchedule(c: PgOps, schedule: ScheduleRecord): Promise<boolean> {
  checkScheduleRecord(schedule);
  const rows = await c.db.run('insert schedule', c.sql.insertSchedule, [
    ...scheduleParams(schedule),
    schedule.version,
    schedule.createdAt,
    schedule.updatedAt,
    ...scheduleFlowParams(schedule),
  ]);
  return rows.length === 1;
}

export async function getSchedule(c: PgOps, name: string): Promise<ScheduleRecord | null> {
  const rows = await c.db.run<ScheduleRow>('get schedule', c.sql.getSchedule, [name]);
  return rows.length === 0 ? null : toScheduleRecord(rows[0]);
}

export async function listSchedules(c: PgOps): Promise<ScheduleRecord[]> {
  const rows = await c.db.run<ScheduleRow>('list schedules', c.sql.listSchedules, []);
  return rows.map(toScheduleRecord);
}

export async function updateSchedule(c: PgOps, schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
  checkScheduleRecord(schedule);
  checkExpectedVersion(expectedVersion);
  const rows = await c.db.run('update schedule', c.sql.updateSchedule, [
    ...scheduleParams(schedule),
    expectedVersion,
    schedule.updatedAt,
    schedule.createdAt,
    ...scheduleFlowParams(schedule),
  ]);
  return rows.length === 1;
}

export async function deleteSchedule(c: PgOps, name: string): Promise<boolean> {
  const rows = await c.db.run('delete schedule', c.sql.deleteSchedule, [name]);
  return rows.length === 1;
}

export async function listDueSchedules(c: PgOps, now: Date, limit: number): Promise<ScheduleRecord[]> {
  checkDueSchedules(now, limit);
  const rows = await c.db.run<ScheduleRow>('list due schedules', c.sql.listDueSchedules, [now, limit]);
  return rows.map(toScheduleRecord);
}
