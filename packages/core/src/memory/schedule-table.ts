// The memory store's schedules, by name, with the version check that makes updates compare-and-set.
// Kept apart from memory-store.ts because schedules share no state with jobs (the scheduler inserts
// the jobs a schedule fires through the writer); the store only forwards IScheduleStore to it.
import { checkDueSchedules, checkExpectedVersion, checkScheduleRecord } from '../checks/schedule-checks.js';
import type { ScheduleRecord } from '../schedule-store.js';

/** Every record goes in and comes out as a copy, so callers never share state with the table. */
export class ScheduleTable {
  private readonly schedules = new Map<string, ScheduleRecord>();

  insert(schedule: ScheduleRecord): boolean {
    checkScheduleRecord(schedule);
    if (this.schedules.has(schedule.name)) return false;
    this.schedules.set(schedule.name, structuredClone(schedule));
    return true;
  }

  get(name: string): ScheduleRecord | null {
    const s = this.schedules.get(name);
    return s ? structuredClone(s) : null;
  }

  list(): ScheduleRecord[] {
    return [...this.schedules.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => structuredClone(s));
  }

  update(schedule: ScheduleRecord, expectedVersion: number): boolean {
    checkScheduleRecord(schedule);
    checkExpectedVersion(expectedVersion);
    const current = this.schedules.get(schedule.name);
    if (!current || current.version !== expectedVersion) return false;
    this.schedules.set(schedule.name, { ...structuredClone(schedule), version: expectedVersion + 1 });
    return true;
  }

  delete(name: string): boolean {
    return this.schedules.delete(name);
  }

  due(now: Date, limit: number): ScheduleRecord[] {
    checkDueSchedules(now, limit);
    return [...this.schedules.values()]
      .filter((s) => !s.paused && s.nextFireAt !== null && s.nextFireAt <= now)
      .sort((a, b) => a.nextFireAt!.getTime() - b.nextFireAt!.getTime())
      .slice(0, limit)
      .map((s) => structuredClone(s));
  }
}
