import type { Statement } from '../db.js';
import { depsGone, historyGone, notifyWaited, NOW_SQL, type SqlContext } from './context.js';
import { LET_GO_UNFINISHED, settleEnded } from './flow.js';

/**
 * The common case of record-outcomes.ts, on its own: a batch in which every outcome is `done`. At
 * full speed nearly every batch is one, so it gets a statement that carries only ids and tokens.
 *
 * The same rules as the general statement (read its comment): fenced by token and unexpired lease;
 * with `deleteDoneJobs` ($5) rows without a unique key are deleted, the rest marked done; on a retry
 * after a dropped connection ($4) rows the earlier try already finished count as applied. `applied`
 * looks only at the outcomes `deleted` did not take: otherwise every deleted job would be looked up a
 * second time just to be filtered out (the statement's snapshot still shows the deleted rows).
 *
 * Why it is cheaper: ids and tokens arrive as two comma-joined texts (the store sends only UUIDs),
 * which the server splits once, instead of array literals pg builds and escapes element by element;
 * and the answer is one row naming only the outcomes that were not applied (`missed`), NULL when
 * every one was, the usual case. Measured with many no-op jobs, building parameters and reading rows
 * was most of the Node-side cost of completion; answering the applied ids instead (36 bytes each,
 * printed, sent, split and looked up one by one) cost more than the anti-join that finds the missed.
 *
 * History: `result` is stored (a JSON array of texts or NULLs in outcome order, $6, or NULL when
 * no job of the batch returned anything, the usual case: then no array is built or sent). A deleted
 * job takes its runs and logs with it (`runs_gone`, `logs_gone`), looked up only for jobs that may
 * have any (`history`: see migration 3), so a first-time success probes nothing. Outcomes that carry log lines go
 * through record-outcomes.ts instead, so this statement never inserts anything. Jobs someone waits
 * on (`waited`) are announced on the finished channel; for all others that costs one boolean in
 * RETURNING.
 *
 * $1 now, $2 ids joined by commas, $3 tokens joined by commas (same order), $4 retrying,
 * $5 delete done jobs, $6 results, $7 whether to notify (jobs released or admitted by the ends). Returns one row: `missed`, the ids
 * of the outcomes not applied (lease lost) joined by commas, NULL if every outcome was applied.
 */
export function recordDone(ctx: SqlContext): Statement {
  const { s, finished, statement } = ctx;
  return statement(
    'record_done',
    `WITH o AS MATERIALIZED (
       SELECT * FROM unnest(string_to_array($2::text, ',')::uuid[], string_to_array($3::text, ','),
                            ARRAY(SELECT json_array_elements_text($6::json))) AS o(id, token, result)
     ), deleted AS (
       DELETE FROM ${s}.jobs j
        USING o
        WHERE $5::boolean AND j.unique_key IS NULL
          AND j.id = o.id AND j.lease_token = o.token AND j.lease_expires_at > ${NOW_SQL}
       RETURNING j.id, j.waited, j.has_history OR j.attempts > 1 AS history, j.has_children, j.concurrency_key,
                 j.after IS NOT NULL AS has_after
     ), ${historyGone(s, 'deleted', 'history')}, ${depsGone(s, 'deleted', 'has_after')}, rest AS MATERIALIZED (
       SELECT * FROM o WHERE NOT EXISTS (SELECT 1 FROM deleted d WHERE d.id = o.id)
     ), applied AS (
       UPDATE ${s}.jobs j
          SET status = 'done', finished_at = ${NOW_SQL}, lease_expires_at = NULL, updated_at = ${NOW_SQL}, result = o.result,
              ${LET_GO_UNFINISHED}
         FROM rest o
        WHERE j.id = o.id AND j.lease_token = o.token AND j.lease_expires_at > ${NOW_SQL}
          AND NOT ($5::boolean AND j.unique_key IS NULL)
       RETURNING j.id, j.waited, j.has_children, j.concurrency_key
     ), ended AS (
       SELECT id, waited, has_children, concurrency_key FROM deleted
       UNION ALL SELECT id, waited, has_children, concurrency_key FROM applied
     ), settled AS (
       ${settleEnded(ctx, `(SELECT id, 'done' AS status, has_children, concurrency_key FROM ended)`, '$7::boolean')}
     ), woken AS (
       ${notifyWaited(finished, 'ended')}
     ), already AS (
       SELECT o.id FROM o JOIN ${s}.jobs j ON j.id = o.id AND j.lease_token = o.token
        WHERE $4::boolean AND j.status = 'done'
       UNION ALL
       SELECT o.id FROM o
        WHERE $4::boolean AND $5::boolean AND NOT EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.id = o.id)
     ), done AS MATERIALIZED (
       SELECT id FROM ended UNION ALL SELECT id FROM already
     )
     SELECT CASE WHEN (SELECT count(*) FROM done) = (SELECT count(*) FROM o) THEN NULL
                 ELSE (SELECT string_agg(o.id::text, ',') FROM o WHERE NOT EXISTS (SELECT 1 FROM done d WHERE d.id = o.id))
            END AS missed,
            (SELECT count(*) FROM woken) AS woken, (SELECT count(*) FROM settled) AS settled`,
  );
}
