import { InvalidOptionError } from '../errors.js';
import { newJobId } from '../ids.js';
import type { NewJob } from '../job.js';
import type { MisfirePolicy, ScheduleRecord } from '../schedule-store.js';
import { CronSchedule, ONCE } from './cron.js';

/** Upper bound of `catchUp.maxRuns`: one tick writes at most this many jobs for one schedule. */
export const MAX_CATCH_UP_RUNS = 1000;

/** The metadata key under which a scheduled job says where it came from. */
export const SCHEDULE_METADATA_KEY = 'oddjob.schedule';

/** What a scheduled job carries in `metadata['oddjob.schedule']`. */
export interface ScheduleJobOrigin {
  name: string;
  /** The fire time (ISO, UTC) the job stands for; null for a `triggerNow` job. */
  fireAt: string | null;
  manual: boolean;
}

/** What one tick does for one due schedule. */
export interface FiringPlan {
  /** Oldest first; each becomes one job. */
  fireTimes: Date[];
  /** What nextFireAt becomes: after every time just fired; null when an @once has fired. */
  nextFireAt: Date | null;
  /** Due times left unfired by the misfire policy. */
  dropped: number;
}

/**
 * The unique key of the job for one firing. (schedule, fire time) — so any number of schedulers, and
 * a scheduler restarted after a crash between "insert job" and "advance schedule", all compute the
 * same key for the same firing, and the store keeps the first job only.
 */
export function scheduleJobKey(name: string, fireAt: Date): string {
  return `schedule:${name}:${fireAt.toISOString()}`;
}

/** The unique key of a `triggerNow` job: distinct from every cron firing, and from other triggers. */
export function manualJobKey(name: string, jobId: string): string {
  return `schedule:${name}:manual:${jobId}`;
}

export function validateMisfire(misfire: unknown): MisfirePolicy {
  if (misfire === undefined) return { kind: 'skip' };
  if (misfire === null || typeof misfire !== 'object') {
    throw new InvalidOptionError('misfire', 'must be { kind: "skip" } or { kind: "catchUp", maxRuns }');
  }
  const m = misfire as { kind?: unknown; maxRuns?: unknown };
  if (m.kind === 'skip') return { kind: 'skip' };
  if (m.kind === 'catchUp') {
    if (!Number.isInteger(m.maxRuns) || (m.maxRuns as number) < 1 || (m.maxRuns as number) > MAX_CATCH_UP_RUNS) {
      throw new InvalidOptionError(
        'misfire.maxRuns',
        `must be an integer from 1 to ${MAX_CATCH_UP_RUNS}, got ${String(m.maxRuns)}`,
      );
    }
    return { kind: 'catchUp', maxRuns: m.maxRuns as number };
  }
  throw new InvalidOptionError('misfire.kind', `must be "skip" or "catchUp", got ${JSON.stringify(m.kind)}`);
}

/**
 * Which fire times of a schedule are due at `now`, and where it goes next.
 *
 * - `skip`: only the newest due time fires (in normal running that is nextFireAt itself; after an
 *   outage it is the latest missed time), the older ones are dropped.
 * - `catchUp`: every due time fires, oldest first, at most maxRuns of them; the newest are kept.
 *
 * Throws InvalidOptionError if the stored expression, zone or policy cannot be read.
 */
export function planFiring(schedule: ScheduleRecord, now: Date): FiringPlan {
  const due = schedule.nextFireAt;
  if (due === null || due > now) return { fireTimes: [], nextFireAt: due, dropped: 0 };
  if (schedule.cron === ONCE) return { fireTimes: [due], nextFireAt: null, dropped: 0 };
  const misfire = validateMisfire(schedule.misfire);
  const keep = misfire.kind === 'catchUp' ? misfire.maxRuns : 1;
  const cron = CronSchedule.of(schedule.cron, schedule.timeZone, schedule.name);
  const w = cron.window(due, now, keep);
  return { fireTimes: w.times, nextFireAt: w.next, dropped: w.dropped };
}

/** The job that stands for one firing (fireAt) or one manual trigger (fireAt null). */
export function scheduledJob(schedule: ScheduleRecord, fireAt: Date | null): NewJob {
  const id = newJobId();
  const origin: ScheduleJobOrigin = {
    name: schedule.name,
    fireAt: fireAt === null ? null : fireAt.toISOString(),
    manual: fireAt === null,
  };
  return {
    id,
    queue: schedule.queue,
    target: schedule.target,
    method: schedule.method,
    args: schedule.args,
    // The fire time, not "now": catch-up jobs then run in fire-time order, and a job shows when it
    // was meant to run. It is in the past, so the job is claimable at once.
    runAt: fireAt,
    retry: schedule.retry,
    metadata: { ...schedule.metadata, [SCHEDULE_METADATA_KEY]: origin },
    uniqueKey: fireAt === null ? manualJobKey(schedule.name, id) : scheduleJobKey(schedule.name, fireAt),
    // Schedules are not pinned: any executor of the queue fires them (no pin option exists yet).
    pinnedHost: null,
    uniqueScope: 'stored',
    priority: schedule.priority,
    after: null,
    concurrency: schedule.concurrency,
    sequence: null,
  };
}
