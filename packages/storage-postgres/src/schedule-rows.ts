import type { JobConcurrency, JobMetadata, MisfirePolicy, RetryPolicy, ScheduleRecord } from '@oddjob/core';
import { jsonText } from './rows.js';

// Schedule rows, apart from rows.ts (jobs, runs, logs, executors): a different table with its own
// statements (sql/schedules.ts), read and written only by the schedule operations in admin-ops.ts.

export interface ScheduleRow {
  name: string;
  cron: string;
  time_zone: string;
  target: string;
  method: string;
  args: string;
  queue: string;
  retry: RetryPolicy;
  metadata: JobMetadata;
  misfire: MisfirePolicy;
  priority: number;
  concurrency: JobConcurrency | null;
  paused: boolean;
  next_fire_at: Date | null;
  last_fire_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export function toScheduleRecord(row: ScheduleRow): ScheduleRecord {
  return {
    name: row.name,
    cron: row.cron,
    timeZone: row.time_zone,
    target: row.target,
    method: row.method,
    args: row.args,
    queue: row.queue,
    retry: row.retry,
    metadata: row.metadata,
    misfire: row.misfire,
    priority: row.priority,
    concurrency: row.concurrency,
    paused: row.paused,
    nextFireAt: row.next_fire_at,
    lastFireAt: row.last_fire_at,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Parameters $1..$13 of insert/update schedule, in column order. */
export function scheduleParams(s: ScheduleRecord): unknown[] {
  return [
    s.name,
    s.cron,
    s.timeZone,
    s.target,
    s.method,
    s.args,
    s.queue,
    jsonText(s.retry, 'schedule.retry'),
    jsonText(s.metadata, 'schedule.metadata'),
    jsonText(s.misfire, 'schedule.misfire'),
    s.paused,
    s.nextFireAt,
    s.lastFireAt,
  ];
}

/** The schedule's flow parameters (after the record's own), in column order. */
export function scheduleFlowParams(s: ScheduleRecord): unknown[] {
  return [s.priority, s.concurrency === null ? null : jsonText(s.concurrency, 'schedule.concurrency')];
}
