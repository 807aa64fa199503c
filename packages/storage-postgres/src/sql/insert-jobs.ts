import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';

/**
 * Enqueue: a whole batch in one statement, one round trip, whatever its size.
 *
 * - The batch arrives as ONE json parameter, read by json_to_recordset, so the statement text (and
 *   its prepared plan) is the same for 1 job or 10,000. One JSON text is much cheaper to build than
 *   ten parallel array parameters: JSON.stringify is native, while pg escapes array elements one by
 *   one in JavaScript (measured: batch enqueue went from ~38k to see README jobs/s).
 * - ON CONFLICT DO NOTHING with no target covers both ways a row can be refused: its unique key is
 *   held (by a stored job, a concurrent adder, or an earlier job of this batch), or its id exists
 *   because this very batch was committed by a try whose connection then dropped. Ids are made by the
 *   client, so that second case makes a retried enqueue idempotent instead of a duplicate.
 *   Refused rows are resolved afterwards by lookup-holders.ts (rare, so not paid for here).
 * - NOTIFY once per queue per statement, only for jobs due now, with the queue as payload, so idle
 *   coordinators of that queue wake at once. Inside a caller's transaction PostgreSQL delivers it
 *   only at commit, and a rollback drops it with the jobs.
 *   `woken` is a plain SELECT, which runs only if referenced, hence the scalar subquery in the
 *   final SELECT.
 *
 * $1 now, $2 the jobs as a json array of {id, queue, target, method, args, run_at, max_attempts,
 * retry, metadata, unique_key} (retry and metadata as JSON text), $3 whether to notify.
 */
export function insertJobs({ s, channel, statement }: SqlContext): Statement {
  return statement(
    'insert_jobs',
    `WITH input AS (
       SELECT * FROM json_to_recordset($2::json)
         AS i(id uuid, queue text, target text, method text, args text, run_at timestamptz, max_attempts int,
              retry text, metadata text, unique_key text)
     ), inserted AS (
       INSERT INTO ${s}.jobs (id, queue, target, method, args, status, run_at, attempts, max_attempts, retry,
                              metadata, unique_key, created_at, updated_at)
       SELECT id, queue, target, method, args, 'new', COALESCE(run_at, ${NOW_SQL}), 0, max_attempts, retry::jsonb,
              metadata::jsonb, unique_key, ${NOW_SQL}, ${NOW_SQL}
         FROM input
       ON CONFLICT DO NOTHING
       RETURNING id, queue, run_at, unique_key
     ), woken AS (
       SELECT pg_notify(${channel}, queue) FROM (SELECT DISTINCT queue FROM inserted WHERE $3::boolean AND run_at <= ${NOW_SQL}) due
     )
     SELECT id, unique_key, (SELECT count(*) FROM woken) AS woken FROM inserted`,
  );
}

/**
 * After an insert refused some rows: who holds those ids or keys now. A second statement (not a CTE
 * of the insert) because a holder committed by a concurrent adder while the insert waited on it is
 * invisible to the insert's own snapshot, but visible to this later one.
 */
export function lookupHolders({ s, statement }: SqlContext): Statement {
  return statement(
    'lookup_holders',
    `SELECT id, unique_key FROM ${s}.jobs WHERE id = ANY($1::uuid[]) OR unique_key = ANY($2::text[])`,
  );
}
