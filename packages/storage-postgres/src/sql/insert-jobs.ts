import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';

/**
 * Enqueue: a whole batch in one statement, one round trip, whatever its size.
 *
 * - The batch arrives split by how often a value repeats. What jobs of a batch nearly always share
 *   (queue, target, method, retry policy, metadata) comes once per distinct combination, a "shape",
 *   as a small JSON array ($2); retry and metadata are parsed into jsonb once per shape, not per job.
 *   What differs per job comes as plain texts the server splits with string_to_array, which is far
 *   cheaper than parsing JSON: ids joined by commas ($3), serialized arguments joined by U+001E
 *   ($4: they are JSON text, in which that control character can only appear escaped), each job's
 *   shape number ($5, NULL when the batch has one shape), run times as epoch milliseconds ($6, an
 *   empty entry for "now"; NULL when every job runs now) and unique keys, which may hold any
 *   character, as a JSON array ($7, NULL when the batch has none). Multi-argument unnest zips the
 *   arrays and pads a NULL one with NULLs; rows are inserted in batch order (ORDER BY ord), so of
 *   two jobs of one batch sharing a unique key the earlier one gets it. Measured on 1,000-job batches against one JSON document
 *   of every job read by json_to_recordset: ~19 ms → ~13–16 ms per batch (that parse alone was ~3 ms).
 * - The statement text (and its prepared plan) is the same for 1 job or 10,000.
 * - ON CONFLICT DO NOTHING with no target covers both ways a row can be refused: its unique key is
 *   held (by a stored job, a concurrent adder, or an earlier job of this batch), or its id exists
 *   because this very batch was committed by a try whose connection then dropped. Ids are made by the
 *   client, so that second case makes a retried enqueue idempotent instead of a duplicate.
 *   Refused rows are resolved afterwards by lookup-holders (rare, so not paid for here).
 * - The answer is one row: how many rows went in and, only when that is fewer than the batch ($8),
 *   which ones (id and unique key, as JSON). Every job inserted, the usual case, needs no rows back.
 * - NOTIFY once per queue per statement, only for jobs due now, with the queue as payload, so idle
 *   coordinators of that queue wake at once. Inside a caller's transaction PostgreSQL delivers it
 *   only at commit, and a rollback drops it with the jobs.
 *   `woken` is a plain SELECT, which runs only if referenced, hence the scalar subquery in the
 *   final SELECT.
 *
 * $1 now, $2 shapes as a json array of {n, queue, target, method, max_attempts, retry, metadata}
 * (n counting from 1), $3 ids, $4 args, $5 shape numbers, $6 run times, $7 unique keys,
 * $8 the batch size, $9 whether to notify, $10 per job its flow options as a JSON array of objects
 * {after, ck, cl, cp, sn, sr, ss} (after, concurrency key, limit and policy, sequence name, run and
 * step) or nulls, NULL when no job has any (the usual case: then nothing is built, sent or parsed).
 * Priority and unique scope travel in the shape, as jobs of a batch nearly always share them.
 */
export function insertJobs({ s, channel, statement }: SqlContext): Statement {
  const waits = `(i.flow->'after' IS NOT NULL OR (i.flow->>'ck' IS NOT NULL AND i.flow->>'cp' <> 'allow'))`;
  return statement(
    'insert_jobs',
    `WITH shapes AS (
       SELECT * FROM json_to_recordset($2::json)
         AS sh(n int, queue text, target text, method text, max_attempts int, retry jsonb, metadata jsonb, pinned_host text,
               priority smallint, unique_scope text)
     ), input AS (
       SELECT *
         FROM unnest(string_to_array($3::text, ',')::uuid[],
                     string_to_array($4::text, E'\x1e'),
                     string_to_array($5::text, ',')::int[],
                     string_to_array($6::text, ','),
                     ARRAY(SELECT json_array_elements_text($7::json)),
                     ARRAY(SELECT json_array_elements($10::json)))
              WITH ORDINALITY AS i(id, args, shape, run_at_ms, unique_key, flow, ord)
     ), inserted AS (
       INSERT INTO ${s}.jobs (id, queue, target, method, args, status, run_at, attempts, max_attempts, retry,
                              metadata, unique_key, created_at, updated_at, pinned_host, priority, unique_scope,
                              after, waiting_for, concurrency_key, concurrency_limit, already_running,
                              sequence_name, sequence_run, sequence_step)
       SELECT i.id, sh.queue, sh.target, sh.method, i.args, CASE WHEN ${waits} THEN 'waiting' ELSE 'new' END,
              COALESCE(to_timestamp(NULLIF(i.run_at_ms, '')::float8 / 1000), ${NOW_SQL}), 0, sh.max_attempts,
              sh.retry, sh.metadata, i.unique_key, ${NOW_SQL}, ${NOW_SQL}, sh.pinned_host,
              COALESCE(sh.priority, 0), COALESCE(sh.unique_scope, 'stored'),
              (i.flow->'after')::jsonb,
              CASE WHEN i.flow->'after' IS NOT NULL THEN 'parents' WHEN ${waits} THEN 'slot' END,
              i.flow->>'ck', (i.flow->>'cl')::int, i.flow->>'cp',
              i.flow->>'sn', (i.flow->>'sr')::uuid, i.flow->>'ss'
         FROM input i
         JOIN shapes sh ON sh.n = COALESCE(i.shape, 1)
        ORDER BY i.ord
       ON CONFLICT DO NOTHING
       RETURNING id, queue, run_at, unique_key, status
     ), woken AS (
       SELECT pg_notify(${channel}, queue)
         FROM (SELECT DISTINCT queue FROM inserted WHERE $9::boolean AND status = 'new' AND run_at <= ${NOW_SQL}) due
     )
     SELECT count(*)::int AS inserted,
            CASE WHEN count(*) < $8::int THEN COALESCE(json_agg(json_build_array(id, unique_key)), '[]')::text END AS rows,
            (SELECT count(*) FROM woken) AS woken
       FROM inserted`,
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
