import type { SchemaNames } from '../identifiers.js';
import { SCHEDULE_COLUMNS, T, type BuiltStatement, type Param } from './common.js';
// ---------------------------------------------------------------------------------------------
// Schedules

export interface ScheduleRowInput {
  name: string;
  cron: string;
  timeZone: string;
  target: string;
  method: string;
  args: string;
  queue: string;
  retry: string;
  metadata: string;
  misfire: string;
  paused: boolean;
  nextFireAt: Date | null;
  lastFireAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  priority: number;
  /** JobConcurrency JSON, or null. */
  concurrency: string | null;
}

function scheduleParams(s: ScheduleRowInput): Param[] {
  return [
    { name: 'name', type: T.name, value: s.name },
    { name: 'cron', type: T.name, value: s.cron },
    { name: 'tz', type: T.queue, value: s.timeZone },
    { name: 'target', type: T.name, value: s.target },
    { name: 'method', type: T.name, value: s.method },
    { name: 'args', type: T.text, value: s.args },
    { name: 'queue', type: T.queue, value: s.queue },
    { name: 'retry', type: T.text, value: s.retry },
    { name: 'metadata', type: T.text, value: s.metadata },
    { name: 'misfire', type: T.text, value: s.misfire },
    { name: 'paused', type: T.bit, value: s.paused },
    { name: 'next', type: T.time, value: s.nextFireAt },
    { name: 'last', type: T.time, value: s.lastFireAt },
    { name: 'version', type: T.int, value: s.version },
    { name: 'created', type: T.time, value: s.createdAt },
    { name: 'updated', type: T.time, value: s.updatedAt },
    { name: 'priority', type: T.priority, value: s.priority },
    { name: 'conc', type: T.text, value: s.concurrency },
  ];
}

/**
 * insertSchedule — why: INSERT ... WHERE NOT EXISTS answers "name taken" without an error in the common
 * case; the primary key (2627) stays the arbiter when two inserts race, and the caller maps it to false.
 */
export function insertSchedule(n: SchemaNames, s: ScheduleRowInput): BuiltStatement {
  return {
    name: 'insertSchedule',
    usesNow: false,
    params: scheduleParams(s),
    text: `
INSERT INTO ${n.schedules} (${SCHEDULE_COLUMNS.join(', ')})
SELECT @name, @cron, @tz, @target, @method, @args, @queue, @retry, @metadata, @misfire, @paused, @next, @last, @version, @created, @updated, @priority, @conc
WHERE NOT EXISTS (SELECT 1 FROM ${n.schedules} WITH (UPDLOCK, HOLDLOCK) WHERE name = @name);`,
  };
}

/** getSchedule — why: a primary-key seek. */
export function getSchedule(n: SchemaNames, name: string): BuiltStatement {
  return {
    name: 'getSchedule',
    usesNow: false,
    params: [{ name: 'name', type: T.name, value: name }],
    text: `SELECT ${SCHEDULE_COLUMNS.join(', ')} FROM ${n.schedules} WHERE name = @name;`,
  };
}

/** listSchedules — why: all of them, by name (BIN2, so the order is code-point order, as in JS). */
export function listSchedules(n: SchemaNames): BuiltStatement {
  return {
    name: 'listSchedules',
    usesNow: false,
    params: [],
    text: `SELECT ${SCHEDULE_COLUMNS.join(', ')} FROM ${n.schedules} ORDER BY name;`,
  };
}

/**
 * updateSchedule — why: compare-and-set in one UPDATE: the WHERE clause requires the version the
 * caller read, and the new version is that plus one, so of two executors advancing the same schedule
 * exactly one sees rowsAffected = 1.
 */
export function updateSchedule(n: SchemaNames, s: ScheduleRowInput, expectedVersion: number): BuiltStatement {
  return {
    name: 'updateSchedule',
    usesNow: false,
    params: [
      ...scheduleParams(s).filter((p) => p.name !== 'version' && p.name !== 'created'),
      { name: 'expected', type: T.int, value: expectedVersion },
    ],
    text: `
UPDATE ${n.schedules} SET cron = @cron, time_zone = @tz, target = @target, method = @method, args = @args, queue = @queue,
  retry = @retry, metadata = @metadata, misfire = @misfire, paused = @paused, next_fire_at = @next, last_fire_at = @last,
  updated_at = @updated, priority = @priority, concurrency = @conc, version = @expected + 1
WHERE name = @name AND version = @expected;`,
  };
}

/** deleteSchedule — why: a primary-key DELETE; rowsAffected answers whether it existed. */
export function deleteSchedule(n: SchemaNames, name: string): BuiltStatement {
  return {
    name: 'deleteSchedule',
    usesNow: false,
    params: [{ name: 'name', type: T.name, value: name }],
    text: `DELETE FROM ${n.schedules} WHERE name = @name;`,
  };
}

/** listDueSchedules — why: the filtered index on unpaused next_fire_at makes this a range seek; `due` is the caller's time, not @now. */
export function listDueSchedules(n: SchemaNames, due: Date, limit: number): BuiltStatement {
  return {
    name: 'listDueSchedules',
    usesNow: false,
    params: [
      { name: 'due', type: T.time, value: due },
      { name: 'limit', type: T.int, value: limit },
    ],
    text: `
SELECT TOP (@limit) ${SCHEDULE_COLUMNS.join(', ')} FROM ${n.schedules}
WHERE paused = 0 AND next_fire_at IS NOT NULL AND next_fire_at <= @due
ORDER BY next_fire_at, name;`,
  };
}
