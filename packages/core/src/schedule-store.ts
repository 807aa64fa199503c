import type { JobConcurrency } from './flow.js';
import type { JobMetadata } from './job.js';
import type { RetryPolicy } from './retry.js';

/** What to do with fire times that passed while no executor was running. */
export type MisfirePolicy =
  /** Fire once for now and drop the missed times. */
  | { kind: 'skip' }
  /** Fire every missed time, oldest first, but at most `maxRuns` of them (the newest are kept). */
  | { kind: 'catchUp'; maxRuns: number };

/** A named, recurring (or one-off) job, stored beside the jobs. */
export interface ScheduleRecord {
  /** Unique. */
  name: string;
  /** A cron expression (5 or 6 fields), a macro (@hourly, @daily, ...), or '@once'. */
  cron: string;
  /** IANA zone the expression is read in; UTC unless given, never the process's zone. */
  timeZone: string;
  target: string;
  method: string;
  /** Serialized arguments, as in a job. */
  args: string;
  queue: string;
  retry: RetryPolicy;
  metadata: JobMetadata;
  misfire: MisfirePolicy;
  /** Priority of the jobs it makes. */
  priority: number;
  /** The concurrency key its jobs carry (with the limit and already-running policy), or null. */
  concurrency: JobConcurrency | null;
  paused: boolean;
  /** The next time to fire; null when nothing is left to fire (an @once that fired). */
  nextFireAt: Date | null;
  lastFireAt: Date | null;
  /** Bumped by every update; updates are compare-and-set on it so two executors cannot both advance. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Storage of schedules: plain records with a compare-and-set update. The firing logic (cron math,
 * misfires, unique job keys) lives in core, so every provider fires the same way.
 */
export interface IScheduleStore {
  /** False (and nothing written) if a schedule of that name exists. */
  insertSchedule(schedule: ScheduleRecord): Promise<boolean>;
  getSchedule(name: string): Promise<ScheduleRecord | null>;
  /** All schedules, by name. */
  listSchedules(): Promise<ScheduleRecord[]>;
  /**
   * Replaces the stored schedule if its version is still `expectedVersion`; the stored version
   * becomes expectedVersion + 1 (whatever `schedule.version` says). False if it changed or vanished.
   */
  updateSchedule(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean>;
  deleteSchedule(name: string): Promise<boolean>;
  /** Unpaused schedules with nextFireAt <= now, soonest first, at most `limit`. */
  listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]>;
}
