import type { Statement } from '../db.js';
import { jobColumns, NOW_SQL, type SqlContext } from './context.js';

/**
 * The claim: one statement that hands out up to $3 jobs, each under a fresh lease.
 *
 * Why it is shaped so:
 * - FOR UPDATE SKIP LOCKED: concurrent claimers never wait on each other and never get the same
 *   row; a row another claimer has locked is simply passed over. The locked candidate set is
 *   MATERIALIZED so it is computed exactly once (an inlined or re-scanned subquery can lock one set
 *   of rows and update another).
 * - Per queue, a LATERAL subquery walks `jobs_claimable` (queue, run_at, id) in index order and stops
 *   after $3 rows, so the cost is the batch, not the backlog; the outer ORDER BY merges queues into
 *   one global (run_at, id) order. With one queue (the usual case) that merge is trivial.
 * - Jobs whose lease expired (their executor died) are claimable again: a second arm reads them
 *   through `jobs_leases`. Their attempt already counted; the claim counts a new one.
 * - `reaped` fails, in the same statement, every expired-lease job that has no attempts left, with
 *   core's LeaseExpiredError (message passed in as $6 || owner || $7 so core owns the wording). A job
 *   that crashes its executor therefore cannot loop forever. It is a data-modifying CTE, so it runs
 *   even though nothing reads it, and its rows (attempts >= max_attempts) are disjoint from the
 *   second arm's (attempts < max_attempts).
 * - The lease token is made by the database per row (gen_random_uuid), so a claim needs no extra
 *   round trip and every job gets its own token to fence later writes with.
 * - Rows come back in no particular order; the store sorts the (small) batch.
 *
 * $1 now, $2 queues, $3 limit, $4 owner, $5 lease ms, $6/$7 LeaseExpiredError message around the owner,
 * $8 LeaseExpiredError name.
 */
export function claim({ s, statement }: SqlContext): Statement {
  return statement(
    'claim',
    `WITH reaped AS (
       UPDATE ${s}.jobs j
          SET status = 'failed',
              last_error = jsonb_build_object('name', $8::text, 'message', $6::text || j.lease_owner || $7::text),
              lease_token = NULL,
              lease_expires_at = NULL,
              finished_at = ${NOW_SQL},
              updated_at = ${NOW_SQL}
        WHERE j.id IN (SELECT id FROM ${s}.jobs
                        WHERE status = 'processing' AND lease_expires_at <= ${NOW_SQL} AND attempts >= max_attempts
                        FOR UPDATE SKIP LOCKED)
       RETURNING j.id
     ), candidates AS MATERIALIZED (
       SELECT c.id
         FROM unnest($2::text[]) AS wanted(queue)
         CROSS JOIN LATERAL (
           SELECT id, run_at FROM (
             SELECT id, run_at FROM ${s}.jobs
              WHERE queue = wanted.queue AND status IN ('new', 'retry') AND run_at <= ${NOW_SQL}
              ORDER BY run_at, id
              LIMIT $3
              FOR UPDATE SKIP LOCKED) ready
           UNION ALL
           SELECT id, run_at FROM (
             SELECT id, run_at FROM ${s}.jobs
              WHERE queue = wanted.queue AND status = 'processing' AND lease_expires_at <= ${NOW_SQL}
                AND attempts < max_attempts
              ORDER BY run_at, id
              LIMIT $3
              FOR UPDATE SKIP LOCKED) expired
         ) c
        ORDER BY c.run_at, c.id
        LIMIT $3
     )
     UPDATE ${s}.jobs j
        SET status = 'processing',
            attempts = j.attempts + 1,
            lease_owner = $4,
            lease_token = gen_random_uuid()::text,
            lease_expires_at = ${NOW_SQL} + $5::float8 * interval '1 millisecond',
            updated_at = ${NOW_SQL}
       FROM candidates c
      WHERE j.id = c.id
     RETURNING ${jobColumns('j')}`,
  );
}
