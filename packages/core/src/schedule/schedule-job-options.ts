import { checkFlowOptions } from '../checks/flow-checks.js';
import type { JobConcurrency } from '../flow.js';
import type { ScheduleRecord } from '../schedule-store.js';
import type { ScheduleOptions } from './schedule-options.js';

/** The schedule options that shape its jobs' flow (the rest of flow.ts does not apply to schedules). */
export const SCHEDULE_JOB_OPTIONS = ['priority', 'alreadyRunning', 'concurrencyKey', 'concurrencyLimit'] as const;

type JobShaping = Pick<ScheduleOptions, (typeof SCHEDULE_JOB_OPTIONS)[number]>;

/**
 * A schedule's priority and concurrency as stored, checked with the job rules (so a schedule cannot
 * hold what no job could). `alreadyRunning` alone keys its jobs by the schedule's name, so "do not
 * start tonight's run while last night's still runs" is one option.
 */
export function scheduleJobOptions(
  name: string,
  options: JobShaping,
): { priority: number; concurrency: JobConcurrency | null } {
  const key = options.concurrencyKey ?? (options.alreadyRunning !== undefined ? `oddjob.schedule:${name}` : undefined);
  const { priority, concurrency } = checkFlowOptions(
    {
      priority: options.priority,
      concurrencyKey: key,
      concurrencyLimit: options.concurrencyLimit,
      alreadyRunning: options.alreadyRunning,
    },
    false,
  );
  return { priority, concurrency };
}

/** The job-shaping options a stored schedule was made with, for a patch to change some of them. */
export function optionsOfRecord(record: ScheduleRecord): JobShaping {
  const c = record.concurrency;
  return c === null
    ? { priority: record.priority }
    : { priority: record.priority, concurrencyKey: c.key, concurrencyLimit: c.limit, alreadyRunning: c.alreadyRunning };
}
