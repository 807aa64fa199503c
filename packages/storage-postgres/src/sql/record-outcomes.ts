import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';

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
 * $1 now, $2 ids, $3 tokens, $4 kinds, $5 errors (json text or NULL), $6 retry run_at, $7 retrying,
 * $8 delete done jobs.
 */
export function recordOutcomes({ s, statement }: SqlContext): Statement {
  return statement(
    'record_outcomes',
    `WITH o AS (
       SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
         AS o(id, token, kind, error, run_at)
     ), deleted AS (
       DELETE FROM ${s}.jobs j
        USING o
        WHERE $8::boolean AND o.kind = 'done' AND j.unique_key IS NULL
          AND j.id = o.id AND j.lease_token = o.token AND j.lease_expires_at > ${NOW_SQL}
       RETURNING j.id, j.queue, o.kind
     ), rest AS MATERIALIZED (
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
              updated_at = ${NOW_SQL}
         FROM rest o
        WHERE j.id = o.id AND j.lease_token = o.token
          AND j.lease_expires_at > ${NOW_SQL}
          AND NOT ($8::boolean AND o.kind = 'done' AND j.unique_key IS NULL)
       RETURNING j.id, j.queue, o.kind
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
     UNION ALL
     SELECT id, queue, kind FROM applied
     UNION ALL
     SELECT id, queue, kind FROM already`,
  );
}
