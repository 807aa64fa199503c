import { InvalidOptionError, type IScheduleStore, type ScheduleRecord } from '@oddjob/core';
import { affected, type SqlServerContext } from './context.js';
import { rowToSchedule, scheduleToRow, type ScheduleRow } from './row-mapping.js';
import { deleteSchedule, getSchedule, insertSchedule, listDueSchedules, listSchedules, updateSchedule } from './statements.js';
import { isDuplicateKeyError } from './transient.js';

const LIMITS: [keyof ScheduleRecord, number][] = [
  ['name', 200],
  ['cron', 200],
  ['timeZone', 100],
  ['target', 200],
  ['method', 200],
  ['queue', 100],
];

/** Checks the bounded text fields, so nothing is ever truncated on the way into a column. */
function checkSchedule(s: ScheduleRecord): ScheduleRecord {
  if (s === null || typeof s !== 'object') throw new InvalidOptionError('schedule', 'must be a ScheduleRecord');
  for (const [field, max] of LIMITS) {
    const v = s[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > max) {
      throw new InvalidOptionError(`schedule.${field}`, `must be a string of 1 to ${max} characters`);
    }
  }
  if (!Number.isInteger(s.version)) throw new InvalidOptionError('schedule.version', 'must be an integer');
  return s;
}

/** Schedules beside the jobs, with compare-and-set updates on `version`. */
export class SqlServerScheduleStore implements IScheduleStore {
  constructor(private readonly ctx: SqlServerContext) {}

  async insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
    try {
      return affected(await this.ctx.runner.run(insertSchedule(this.ctx.names, scheduleToRow(checkSchedule(schedule))))) === 1;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false; // lost a race for the name: someone else's insert won
      throw err;
    }
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    if (typeof name !== 'string' || name.length > 200) return null;
    const row = (await this.ctx.runner.run<ScheduleRow>(getSchedule(this.ctx.names, name))).recordset?.[0];
    return row ? rowToSchedule(row) : null;
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return ((await this.ctx.runner.run<ScheduleRow>(listSchedules(this.ctx.names))).recordset ?? []).map(rowToSchedule);
  }

  async updateSchedule(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
    if (!Number.isInteger(expectedVersion)) throw new InvalidOptionError('expectedVersion', 'must be an integer');
    return affected(await this.ctx.runner.run(updateSchedule(this.ctx.names, scheduleToRow(checkSchedule(schedule)), expectedVersion))) === 1;
  }

  async deleteSchedule(name: string): Promise<boolean> {
    if (typeof name !== 'string' || name.length > 200) return false;
    return affected(await this.ctx.runner.run(deleteSchedule(this.ctx.names, name))) === 1;
  }

  async listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new InvalidOptionError('now', 'must be a valid Date');
    if (!Number.isInteger(limit) || limit < 0) throw new InvalidOptionError('limit', `must be an integer >= 0, got ${String(limit)}`);
    if (limit === 0) return [];
    return ((await this.ctx.runner.run<ScheduleRow>(listDueSchedules(this.ctx.names, now, limit))).recordset ?? []).map(rowToSchedule);
  }
}
