import type { Statement } from '../db.js';
import { depsGone, historyGone, notifyWaited, NOW_SQL, type SqlContext } from './context.js';
import { settleEnded } from './flow.js';

/**
 * Completion: N outcomes (done / retry / failed / released) in one statement, because executors
 * finish jobs in bursts and a round trip per job would cap throughput at the network's latency.
 *
 * - Fencing: a row is written only if it is still `processing` under the very token the outcome
 *   carries and that lease has not expired. "Processing" is tested as `lease_expires_at > now`
 *   (the column is NULL in every other status, see the migration) so that the plan is a primary-key
 *   lookup per outcome rather than a walk of the lease index. An executor that lost its lease (expired and claimed by
 *   another, or cancelled) changes nothing; its outcome comes back as lease-lost (not in `applied`).
 * - Finished rows keep their lease token (claim replaces it, cancel/reap/requeue clear it), which
 *   makes this statement safe to re-run after a dropped connection: on a retry ($7 true), a row that
 *   already shows this outcome's result under this token was written by the earlier try, and is
 *   reported as applied instead of lost. `already` reads the statement's snapshot, where rows that
 *   `applied` updates are still `processing`, so the two never overlap.
 * - 'released' gives the attempt back (attempts - 1) and makes the job claimable now.
 * - The store never puts one job twice in a batch (an UPDATE ... FROM applies one of them only).
 * - With `deleteDoneJobs` ($8), a `done` outcome deletes its row instead of updating it (`deleted`):
 *   a DELETE only marks the row version dead, where the UPDATE writes a new version and new entries
 *   in the primary key and the finished index, so completion costs about half. Rows with a unique
 *   key are kept (marked done) so that the key stays taken: a schedule's (name, fire time) key must
 *   outlive its job or a late scheduler could fire that time again. `deleted` and `applied` work on
 *   disjoint rows (the same condition, negated), both read the statement's snapshot.
 *   On a retry, a done outcome whose row is gone was deleted by the earlier try: it counts as applied.
 *   `applied` reads only the outcomes `deleted` did not take (`rest`), so a deleted job is not looked
 *   up a second time just to be filtered out (the snapshot still shows it).
 *
 * History (core's runs.ts):
 * - retry / failed / released end a run the row will no longer describe, so `ran` records it from
 *   the row as it was before this statement: `before` joins the applied ids back to `jobs`, and
 *   every part of one statement reads the same snapshot, in which `applied` has not written yet.
 *   Driving it from `applied` (not from the fence) records a run exactly for the outcomes applied:
 *   a concurrent cancel or takeover that wins the row leaves none. A done outcome records no run
 *   (derived from the row), but stores its `result` ($9, a JSON array in outcome order, or NULL).
 * - Log lines sent with the outcomes ($10: a JSON array of {id, n, at, level, message}, or NULL)
 *   are appended under the row's attempt by `logged`, in the order given (n), only for applied
 *   outcomes, i.e. while the lease held. Jobs deleted here (`deleted`) take their runs and logs with
 *   them (`runs_gone`, `logs_gone`; see migration 3 for `history`) and get no new lines, which
 *   would outlive them. A row that gets a run or lines here is marked `has_history` ($11: which
 *   outcomes carry lines).
 * - A job that became final here and that someone waits on (`waited`) is announced on the finished
 *   channel (`woken`); retry and released are not final, a waiter has nothing to read yet.
 *
 * $1 now, $2 ids, $3 tokens, $4 kinds, $5 errors (json text or NULL), $6 retry run_at, $7 retrying,
 * $8 delete done jobs, $9 results, $10 log lines, $11 whether each outcome carries lines, $12 whether to
 * notify (jobs released or admitted by the ends).
 *
 * Flow (migration 5): as in record-done.ts, a final outcome lets go of an 'unfinished' unique key,
 * and `settled` hands the ended jobs that have children or a concurrency key to flow_settle.
 */
export function recordOutcomes(ctx: SqlContext): Statement {
  const { s, finished, statement } = ctx;
  return statement(
    'record_outcomes',
    `WITH o AS (
       SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                            ARRAY(SELECT json_array_elements_text($9::json)), $11::boolean[])
         AS o(id, token, kind, error, run_at, result, logged)
     ), deleted AS (
       DELETE FROM ${s}.jobs j
        USING o
        WHERE $8::boolean AND o.kind = 'done' AND j.unique_key IS NULL
          AND j.id = o.id AND j.lease_token = o.token AND j.lease_expires_at > ${NOW_SQL}
       RETURNING j.id, j.queue, o.kind, j.waited, j.has_history OR j.attempts > 1 AS history, j.has_children,
                 j.concurrency_key, j.after IS NOT NULL AS has_after
     ), ${historyGone(s, 'deleted', 'history')}, ${depsGone(s, 'deleted', 'has_after')}, rest AS MATERIALIZED (
       SELECT * FROM o WHERE NOT EXISTS (SELECT 1 FROM deleted d WHERE d.id = o.id)
     ), applied AS (
       UPDATE ${s}.jobs j
          SET status = CASE o.kind WHEN 'released' THEN CASE WHEN j.attempts > 1 THEN 'retry' ELSE 'new' END
                                   ELSE o.kind END,
              attempts = CASE o.kind WHEN 'released' THEN j.attempts - 1 ELSE j.attempts END,
              last_error = CASE WHEN o.kind IN ('retry', 'failed') THEN o.error::jsonb ELSE j.last_error END,
              run_at = CASE o.kind WHEN 'retry' THEN o.run_at WHEN 'released' THEN ${NOW_SQL} ELSE j.run_at END,
              finished_at = CASE WHEN o.kind IN ('done', 'failed') THEN ${NOW_SQL} ELSE j.finished_at END,
              lease_expires_at = NULL,
              updated_at = ${NOW_SQL},
              result = CASE o.kind WHEN 'done' THEN o.result ELSE j.result END,
              has_history = j.has_history OR o.kind IN ('retry', 'failed', 'released') OR coalesce(o.logged, false),
              unique_key = CASE WHEN o.kind IN ('done', 'failed') AND j.unique_scope <> 'stored' THEN NULL
                                ELSE j.unique_key END,
              released_key = CASE WHEN o.kind IN ('done', 'failed') AND j.unique_scope <> 'stored'
                                  THEN coalesce(j.unique_key, j.released_key) ELSE j.released_key END
         FROM rest o
        WHERE j.id = o.id AND j.lease_token = o.token
          AND j.lease_expires_at > ${NOW_SQL}
          AND NOT ($8::boolean AND o.kind = 'done' AND j.unique_key IS NULL)
       RETURNING j.id, j.queue, o.kind, o.error, j.waited, j.has_children, j.concurrency_key
     ), settled AS (
       ${settleEnded(
         ctx,
         `(SELECT id, kind AS status, has_children, concurrency_key FROM deleted
           UNION ALL SELECT id, kind, has_children, concurrency_key FROM applied WHERE kind IN ('done', 'failed'))`,
         '$12::boolean',
       )}
     ), before AS MATERIALIZED (
       SELECT a.id, a.kind, a.error, j.attempts, j.executor_id, j.host, j.started_at, j.progress, j.progress_message
         FROM applied a JOIN ${s}.jobs j ON j.id = a.id
     ), ran AS (
       INSERT INTO ${s}.job_runs (job_id, attempt, executor_id, host, started_at, finished_at, state, error, progress, progress_message)
       SELECT b.id, greatest(b.attempts, 1), b.executor_id, b.host, b.started_at, ${NOW_SQL}, b.kind,
              CASE WHEN b.kind IN ('retry', 'failed') THEN b.error::jsonb END, b.progress, b.progress_message
         FROM before b
        WHERE b.kind IN ('retry', 'failed', 'released') AND b.started_at IS NOT NULL AND b.executor_id IS NOT NULL
     ), logged AS (
       INSERT INTO ${s}.job_logs (job_id, attempt, at, level, message)
       SELECT b.id, b.attempts, l.at, l.level, l.message
         FROM json_to_recordset($10::json) AS l(id uuid, n int, at timestamptz, level text, message text)
         JOIN before b ON b.id = l.id
        ORDER BY l.n
     ), woken AS (
       ${notifyWaited(finished, `(SELECT id, waited FROM deleted UNION ALL SELECT id, waited FROM applied WHERE kind IN ('done', 'failed')) f`)}
     ), already AS (
       SELECT j.id, j.queue, o.kind
         FROM o JOIN ${s}.jobs j ON j.id = o.id AND j.lease_token = o.token
        WHERE $7::boolean
          AND (j.status = o.kind OR (o.kind = 'released' AND j.status IN ('new', 'retry')))
       UNION ALL
       SELECT o.id, NULL, o.kind
         FROM o
        WHERE $7::boolean AND $8::boolean AND o.kind = 'done'
          AND NOT EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.id = o.id)
     )
     SELECT id, queue, kind FROM deleted
      WHERE (SELECT count(*) FROM woken) >= 0 AND (SELECT count(*) FROM settled) >= 0 -- runs both (see notifyWaited)
     UNION ALL
     SELECT id, queue, kind FROM applied
     UNION ALL
     SELECT id, queue, kind FROM already`,
  );
}
