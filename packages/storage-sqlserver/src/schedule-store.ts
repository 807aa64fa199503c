import {
  checkDueSchedules,
  checkExpectedVersion,
  checkScheduleRecord,
  type IScheduleStore,
  type ScheduleRecord,
} from '@oddjob/core';
import { affected, type SqlServerContext } from './context.js';
import { rowToSchedule, scheduleToRow, type ScheduleRow } from './row-mapping.js';
import {
  deleteSchedule,
  getSchedule,
  insertSchedule,
  listDueSchedules,
  listSchedules,
  updateSchedule,
} from './statements.js';
import { isDuplicateKeyError } from './transient.js';

/** Schedules beside the jobs, with compare-and-set updates on `version`. */
export class SqlServerScheduleStore implements IScheduleStore {
  constructor(private readonly ctx: SqlServerContext) {}

  async insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
    try {
      return (
        affected(
          await this.ctx.runner.run(insertSchedule(this.ctx.names, scheduleToRow(checkScheduleRecord(schedule)))),
        ) === 1
      );
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
    checkExpectedVersion(expectedVersion);
    return (
      affected(
        await this.ctx.runner.run(
          updateSchedule(this.ctx.names, scheduleToRow(checkScheduleRecord(schedule)), expectedVersion),
        ),
      ) === 1
    );
  }

  async deleteSchedule(name: string): Promise<boolean> {
    if (typeof name !== 'string' || name.length > 200) return false;
    return affected(await this.ctx.runner.run(deleteSchedule(this.ctx.names, name))) === 1;
  }

  async listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
    checkDueSchedules(now, limit);
    if (limit === 0) return [];
    return ((await this.ctx.runner.run<ScheduleRow>(listDueSchedules(this.ctx.names, now, limit))).recordset ?? []).map(
      rowToSchedule,
    );
  }
}
