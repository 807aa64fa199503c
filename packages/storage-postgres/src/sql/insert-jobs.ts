import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';

/**
 * Enqueue: a whole batch in one statement, one round trip, whatever its size.
 *
 * - Columns arrive as parallel arrays and are zipped by unnest, so the statement text (and its
 *   prepared plan) is the same for 1 job or 10,000.
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
 * $1 now, $2..$11 column arrays, $12 whether to notify.
 */
export function insertJobs({ s, channel, statement }: SqlContext): Statement {
  return statement(
    'insert_jobs',
    `WITH input AS (
       SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                            $8::int[], $9::text[], $10::text[], $11::text[])
         AS i(id, queue, target, method, args, run_at, max_attempts, retry, metadata, unique_key)
     ), inserted AS (
       INSERT INTO ${s}.jobs (id, queue, target, method, args, status, run_at, attempts, max_attempts, retry,
                              metadata, unique_key, created_at, updated_at)
       SELECT id, queue, target, method, args, 'new', COALESCE(run_at, ${NOW_SQL}), 0, max_attempts, retry::jsonb,
              metadata::jsonb, unique_key, ${NOW_SQL}, ${NOW_SQL}
         FROM input
       ON CONFLICT DO NOTHING
       RETURNING id, queue, run_at, unique_key
     ), woken AS (
       SELECT pg_notify(${channel}, queue) FROM (SELECT DISTINCT queue FROM inserted WHERE $12::boolean AND run_at <= ${NOW_SQL}) due
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
