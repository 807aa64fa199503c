import type { Statement } from '../db.js';
import { JOB_COLUMNS, NOW_SQL, type SqlContext } from './context.js';

/** One job by id (the primary key). */
export function getJob({ s, statement }: SqlContext): Statement {
  return statement('get_job', `SELECT ${JOB_COLUMNS} FROM ${s}.jobs WHERE id = $1`);
}

/**
 * Admin listing in creation (id) order. Each filter is "NULL or equal" so one prepared statement
 * serves every combination; this is a dashboard query, not the hot path, and it walks the primary
 * key in order, stopping after limit + offset matches.
 *
 * $1 statuses or NULL, $2 queue or NULL, $3 target or NULL, $4 limit, $5 offset.
 */
export function listJobs({ s, statement }: SqlContext): Statement {
  return statement(
    'list_jobs',
    `SELECT ${JOB_COLUMNS} FROM ${s}.jobs
      WHERE ($1::text[] IS NULL OR status = ANY($1::text[]))
        AND ($2::text IS NULL OR queue = $2::text)
        AND ($3::text IS NULL OR target = $3::text)
      ORDER BY id
      LIMIT $4 OFFSET $5`,
  );
}

/** Counts per (queue, status); groups with no rows do not appear. $1 queue or NULL. */
export function countJobs({ s, statement }: SqlContext): Statement {
  return statement(
    'count_jobs',
    `SELECT queue, status, count(*)::int AS count FROM ${s}.jobs
      WHERE ($1::text IS NULL OR queue = $1::text)
      GROUP BY queue, status`,
  );
}

/**
 * Cancel a job that has not finished. Clearing the lease token is what refuses a running
 * executor's later outcome (its fenced write no longer matches). $1 now, $2 id.
 */
export function cancelJob({ s, statement }: SqlContext): Statement {
  return statement(
    'cancel_job',
    `UPDATE ${s}.jobs
        SET status = 'cancelled', lease_token = NULL, lease_expires_at = NULL, finished_at = ${NOW_SQL}, updated_at = ${NOW_SQL}
      WHERE id = $2 AND status IN ('new', 'processing', 'retry')
     RETURNING id`,
  );
}

/**
 * Requeue a finished job as new, attempts back to 0. NOTIFY (through the LEFT JOIN LATERAL, which
 * keeps the row whether or not it notifies) when the job is due at once.
 *
 * $1 now, $2 id, $3 run_at or NULL (= now), $4 whether to notify.
 */
export function requeueJob({ s, channel, statement }: SqlContext): Statement {
  return statement(
    'requeue_job',
    `WITH r AS (
       UPDATE ${s}.jobs
          SET status = 'new', attempts = 0, run_at = COALESCE($3::timestamptz, ${NOW_SQL}), lease_token = NULL,
              finished_at = NULL, updated_at = ${NOW_SQL}
        WHERE id = $2 AND status IN ('done', 'failed', 'cancelled')
       RETURNING queue, run_at
     )
     SELECT r.queue FROM r
       LEFT JOIN LATERAL (SELECT pg_notify(${channel}, r.queue) WHERE $4::boolean AND r.run_at <= ${NOW_SQL}) n ON true`,
  );
}

/**
 * Admin purge of final jobs. The literal status list beside the parameter guarantees a live job is
 * never deleted whatever is passed; `finished_at IS NOT NULL` (true of exactly the final jobs, a
 * CHECK says so) lets the planner use the partial `jobs_finished` index.
 *
 * $1 statuses, $2 queue or NULL, $3 finished before or NULL.
 */
export function purgeJobs({ s, statement }: SqlContext): Statement {
  return statement(
    'purge_jobs',
    `WITH d AS (
       DELETE FROM ${s}.jobs
        WHERE finished_at IS NOT NULL AND status IN ('done', 'failed', 'cancelled') AND status = ANY($1::text[])
          AND ($2::text IS NULL OR queue = $2::text)
          AND ($3::timestamptz IS NULL OR finished_at < $3::timestamptz)
       RETURNING 1
     )
     SELECT count(*)::int AS n FROM d`,
  );
}

/**
 * Retention: delete one batch of jobs of one final status that finished more than $3 ms ago, oldest
 * first. Batches keep each statement's locks and WAL small; SKIP LOCKED lets two maintainers (or an
 * admin purge) run side by side without waiting.
 *
 * $1 now, $2 status, $3 keep ms, $4 batch size.
 */
export function purgeExpired({ s, statement }: SqlContext): Statement {
  return statement(
    'purge_expired',
    `WITH d AS (
       DELETE FROM ${s}.jobs
        WHERE id IN (SELECT id FROM ${s}.jobs
                      WHERE status IN ('done', 'failed', 'cancelled') AND status = $2::text
                        AND finished_at < ${NOW_SQL} - $3::float8 * interval '1 millisecond'
                      ORDER BY finished_at
                      LIMIT $4
                      FOR UPDATE SKIP LOCKED)
       RETURNING 1
     )
     SELECT count(*)::int AS n FROM d`,
  );
}

/** A wake-up for queues whose jobs were released (given back at shutdown). $1 queues. */
export function notifyQueues({ channel, statement }: SqlContext): Statement {
  return statement('notify_queues', `SELECT pg_notify(${channel}, q) FROM unnest($1::text[]) AS q`);
}
