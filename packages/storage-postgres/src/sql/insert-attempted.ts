import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';

/**
 * insertAttempted's second statement, in the transaction after insert-jobs.ts put the batch in as
 * `new` rows: gives each row the state its attempt 1 left it in, and writes that attempt's history.
 *
 * - `applied` updates only rows that are still as the insert made them (new, no attempt, never
 *   started): a job whose unique key was held is not in $2 at all, and a row a committed earlier
 *   try of the same call already finished is left alone, so running the call again writes no second
 *   run. It sets what a claim and an outcome would have: attempts 1, the attempt's start, executor
 *   and host, then retry (run_at, last_error) or final (finished_at; last_error or result). A CHECK
 *   ties finished_at to the final statuses, hence the CASE.
 * - `ran` records attempt 1 for retry and failed (core's runs.ts: a done run is read off the row),
 *   `logged` its lines under attempt 1 in the order given (n); both only for applied rows. A row
 *   that gets either is marked has_history, so a delete at completion looks for them.
 * - `woken` tells coordinators of a queue whose retry is due now ($4: notify); the insert sent none.
 *
 * $1 now, $2 entries as JSON [{id, kind, started_at, finished_at, owner, host, error, run_at,
 * result, logged}], $3 lines as JSON [{id, n, at, level, message}], $4 whether to notify.
 */
/** Attempt 1 already ran: a 'queued' key is let go (as at a first claim), an 'unfinished' one if it ended. */
const LETS_GO = `j.unique_scope = 'queued' OR (j.unique_scope = 'unfinished' AND a.kind IN ('done', 'failed'))`;

export function recordAttempted({ s, channel, statement }: SqlContext): Statement {
  return statement(
    'record_attempted',
    `WITH a AS (
       SELECT * FROM json_to_recordset($2::json)
         AS a(id uuid, kind text, started_at timestamptz, finished_at timestamptz, owner text, host text,
              error jsonb, run_at timestamptz, result text, logged boolean)
     ), applied AS (
       UPDATE ${s}.jobs j
          SET status = a.kind, attempts = 1, run_at = a.run_at, last_error = a.error, result = a.result,
              started_at = a.started_at, executor_id = a.owner, host = a.host,
              finished_at = CASE WHEN a.kind IN ('done', 'failed') THEN a.finished_at END,
              updated_at = ${NOW_SQL},
              has_history = a.kind <> 'done' OR a.logged,
              unique_key = CASE WHEN ${LETS_GO} THEN NULL ELSE j.unique_key END,
              released_key = CASE WHEN ${LETS_GO} THEN coalesce(j.unique_key, j.released_key) ELSE j.released_key END
         FROM a
        WHERE j.id = a.id AND j.status = 'new' AND j.attempts = 0 AND j.started_at IS NULL
       RETURNING j.id, j.queue, j.run_at, a.kind
     ), ran AS (
       INSERT INTO ${s}.job_runs (job_id, attempt, executor_id, host, started_at, finished_at, state, error, progress, progress_message)
       SELECT a.id, 1, a.owner, a.host, a.started_at, a.finished_at, a.kind, a.error, NULL, NULL
         FROM a JOIN applied p ON p.id = a.id
        WHERE a.kind IN ('retry', 'failed')
     ), logged AS (
       INSERT INTO ${s}.job_logs (job_id, attempt, at, level, message)
       SELECT l.id, 1, l.at, l.level, l.message
         FROM json_to_recordset($3::json) AS l(id uuid, n int, at timestamptz, level text, message text)
         JOIN applied p ON p.id = l.id
        ORDER BY l.n
     ), woken AS (
       SELECT pg_notify(${channel}, queue)
         FROM (SELECT DISTINCT queue FROM applied WHERE $4::boolean AND kind = 'retry' AND run_at <= ${NOW_SQL}) due
     )
     SELECT id FROM applied WHERE (SELECT count(*) FROM woken) >= 0`,
  );
}
