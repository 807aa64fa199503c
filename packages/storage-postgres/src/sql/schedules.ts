import type { Statement } from '../db.js';
import type { SqlContext } from './context.js';

/**
 * Schedules are plain rows; the firing logic lives in core. The only concurrency rule is the
 * compare-and-set on `version` in updateSchedule: two executors that read the same version cannot
 * both advance a schedule, the second update matches no row.
 */

const COLUMNS = `name, cron, time_zone, target, method, args, queue, retry, metadata, misfire, paused,
                 next_fire_at, last_fire_at, version, created_at, updated_at, priority, concurrency`;

/** Insert unless the name is taken (ON CONFLICT DO NOTHING: no error, no row). $1..$18 the columns. */
export function insertSchedule({ s, statement }: SqlContext): Statement {
  return statement(
    'insert_schedule',
    `INSERT INTO ${s}.schedules (${COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb, $11, $12, $13, $14, $15, $16, $17, $18::jsonb)
     ON CONFLICT (name) DO NOTHING
     RETURNING name`,
  );
}

export function getSchedule({ s, statement }: SqlContext): Statement {
  return statement('get_schedule', `SELECT ${COLUMNS} FROM ${s}.schedules WHERE name = $1`);
}

export function listSchedules({ s, statement }: SqlContext): Statement {
  return statement('list_schedules', `SELECT ${COLUMNS} FROM ${s}.schedules ORDER BY name COLLATE "C"`);
}

/**
 * Compare-and-set: replaces the row only if its version is still $14 (expected), and stores
 * expected + 1. Like the memory store it stores the record as given (times included).
 * $1..$13 the columns up to last_fire_at, $14 expected version, $15 updated_at, $16 created_at,
 * $17 priority, $18 concurrency (JSON or NULL).
 */
export function updateSchedule({ s, statement }: SqlContext): Statement {
  return statement(
    'update_schedule',
    `UPDATE ${s}.schedules
        SET cron = $2, time_zone = $3, target = $4, method = $5, args = $6, queue = $7, retry = $8::jsonb,
            metadata = $9::jsonb, misfire = $10::jsonb, paused = $11, next_fire_at = $12, last_fire_at = $13,
            version = $14::int + 1, updated_at = $15, created_at = $16, priority = $17, concurrency = $18::jsonb
      WHERE name = $1 AND version = $14::int
     RETURNING name`,
  );
}

export function deleteSchedule({ s, statement }: SqlContext): Statement {
  return statement('delete_schedule', `DELETE FROM ${s}.schedules WHERE name = $1 RETURNING name`);
}

/** Due schedules, soonest first, through the partial `schedules_due` index. $1 now, $2 limit. */
export function listDueSchedules({ s, statement }: SqlContext): Statement {
  return statement(
    'list_due_schedules',
    `SELECT ${COLUMNS} FROM ${s}.schedules
      WHERE NOT paused AND next_fire_at IS NOT NULL AND next_fire_at <= $1::timestamptz
      ORDER BY next_fire_at, name
      LIMIT $2`,
  );
}
