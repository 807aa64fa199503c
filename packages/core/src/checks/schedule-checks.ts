import { InvalidOptionError } from '../errors.js';
import type { ScheduleRecord } from '../schedule-store.js';
import { checkDate, checkInt } from './limits.js';

/** The bounded text fields of a schedule, with the length every store's column holds. */
const SCHEDULE_TEXT_LIMITS: readonly [keyof ScheduleRecord, number][] = [
  ['name', 200],
  ['cron', 200],
  ['timeZone', 100],
  ['target', 200],
  ['method', 200],
  ['queue', 100],
];

/** Checks a schedule record before it is stored: bounded names (never truncated), storable times. */
export function checkScheduleRecord(s: ScheduleRecord): ScheduleRecord {
  if (s === null || typeof s !== 'object') throw new InvalidOptionError('schedule', 'must be a ScheduleRecord');
  for (const [field, max] of SCHEDULE_TEXT_LIMITS) {
    const v = s[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > max) {
      throw new InvalidOptionError(`schedule.${field}`, `must be a string of 1 to ${max} characters`);
    }
  }
  if (!Number.isInteger(s.version)) throw new InvalidOptionError('schedule.version', 'must be an integer');
  if (s.nextFireAt !== null) checkDate('schedule.nextFireAt', s.nextFireAt);
  if (s.lastFireAt !== null) checkDate('schedule.lastFireAt', s.lastFireAt);
  return s;
}

/** Checks updateSchedule's expected version. */
export function checkExpectedVersion(expectedVersion: unknown): number {
  if (typeof expectedVersion !== 'number' || !Number.isInteger(expectedVersion)) {
    throw new InvalidOptionError('expectedVersion', 'must be an integer');
  }
  return expectedVersion;
}

/** Checks listDueSchedules' arguments. */
export function checkDueSchedules(now: unknown, limit: unknown): void {
  if (!(now instanceof Date) || Number.isNaN(now.getTime()))
    throw new InvalidOptionError('now', 'must be a valid Date');
  checkInt('limit', limit, 0);
}
