import type { Statement } from '../db.js';
import { depsGone, historyGone, JOB_COLUMNS, notifyWaited, NOW_SQL, type SqlContext } from './context.js';
import { LET_GO_UNFINISHED, settleEnded } from './flow.js';

/** A keyed job that does not 'allow' takes a slot through admission (flow_settle). */
const SLOT_BOUND = `j.concurrency_key IS NOT NULL AND j.already_running <> 'allow'`;

/** One job by id (the primary key). */
export function getJob({ s, statement }: SqlContext): Statement {
  return statement('get_job', `SELECT ${JOB_COLUMNS} FROM ${s}.jobs WHERE id = $1`);
}

/**
 * Admin listing in creation (id) order. Each filter is "NULL or equal" so one prepared statement
 * serves every combination; this is a dashboard query, not the hot path. It walks the primary key in
 * order from $6, stopping after limit + offset matches.
 *
 * $6 is core's uuidBoundAfter(afterId), or the nil UUID when there is no afterId: an inclusive bound
 * that is always present rather than "NULL or greater", because a prepared statement's generic plan
 * cannot turn `($6 IS NULL OR id > $6)` into an index condition, so a deep page would walk the key
 * from its start; `id >= $6` is a seek at every depth.
 *
 * For the same reason the sequence filters (migration 5) are separate statements, each with its
 * filter as a plain equality its index (jobs_sequence_run, jobs_sequence: both in id order) serves:
 * `listJobsOfRun` ($7 the run, and $8 the name or NULL) and `listJobsOfSequence` ($8 the name).
 *
 * A filter of unfinished statuses in one queue has its own statement too (`listOpenJobsInQueue`,
 * below), which walks only that queue's unfinished jobs; the store picks it by the filter
 * (admin-ops.ts).
 *
 * $1 statuses or NULL, $2 queue or NULL, $3 target or NULL, $4 limit, $5 offset, $6 lowest id.
 */
export function listJobs(ctx: SqlContext): Statement {
  return listWhere(ctx, 'list_jobs', '');
}

export function listJobsOfRun(ctx: SqlContext): Statement {
  return listWhere(
    ctx,
    'list_jobs_of_run',
    'AND sequence_run = $7::uuid AND ($8::text IS NULL OR sequence_name = $8::text)',
  );
}

export function listJobsOfSequence(ctx: SqlContext): Statement {
  return listWhere(ctx, 'list_jobs_of_sequence', 'AND sequence_name = $8::text AND $7::uuid IS NULL');
}

function listWhere({ s, statement }: SqlContext, name: string, extra: string): Statement {
  return statement(
    name,
    `SELECT ${JOB_COLUMNS} FROM ${s}.jobs
      WHERE id >= $6::uuid
        AND ($1::text[] IS NULL OR status = ANY($1::text[]))
        AND ($2::text IS NULL OR queue = $2::text)
        AND ($3::text IS NULL OR target = $3::text)
        ${extra}
      ORDER BY id
      LIMIT $4 OFFSET $5`,
  );
}

/**
 * listJobs for a filter whose statuses are all unfinished (waiting, new, processing, retry), in one
 * queue: a walk of the unfinished jobs in id order through `jobs_open_list` (migration 6), testing
 * the queue on the index entry, rather than of the primary key through every job. `finished_at IS
 * NULL` is the index's predicate (a CHECK ties it to the unfinished statuses, so it drops no job the
 * filter wants). It reads the heap row of a subset of the jobs the key walk would, in the same
 * order, so it is not the slower of the two; a queue with no unfinished job costs one pass over the
 * index entries of the unfinished jobs after the cursor. `status` is still read off each of the
 * queue's rows (the claim writes it, so no index may hold it). A separate statement from `listJobs`
 * because a generic plan cannot pick its index by a parameter's value.
 *
 * Without a queue the key walk stays. For a common status it finds a page at once. For a rare one
 * (processing) both walks read the heap row of every unfinished job, which on the dashboard bench's
 * million jobs is nearly every page, and the key walk reads them in physical order: measured there
 * (scratch statements, load average 0-5), 0.55-0.77 s for the key walk against 1.07 s for the
 * unfinished jobs' index with a key lookup each; a walk per queue over a `(queue, id)` index, merged,
 * took 0.2 s for `status=new` (a queue holding only retries is walked to its end).
 *
 * $1 statuses, $2 queue, $3 target or NULL, $4 limit, $5 offset, $6 lowest id.
 */
export function listOpenJobsInQueue({ s, statement }: SqlContext): Statement {
  return statement(
    'list_open_jobs_in_queue',
    `SELECT ${JOB_COLUMNS} FROM ${s}.jobs
      WHERE finished_at IS NULL AND queue = $2::text AND id >= $6::uuid
        AND status = ANY($1::text[])
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
 * executor's later outcome (its fenced write no longer matches).
 *
 * A running job's attempt ends here, so it gets a 'cancelled' run record (core's runs.ts) built from
 * the row as it was. `old` locks the row first (FOR UPDATE re-reads the latest version if a claim
 * or outcome committed meanwhile), so the record describes the attempt this cancel really ended,
 * and a waiting or retrying job, which has none running, gets none. Someone waiting on the job is
 * told on the finished channel.
 *
 * Flow (migration 5): a waiting job can be cancelled too; the cancel lets go of a scoped unique key,
 * and a job with children or a key goes to flow_settle in this statement (its children are decided,
 * its key's next job admitted).
 *
 * $1 now, $2 id, $3 whether to notify (jobs released or admitted).
 */
export function cancelJob(ctx: SqlContext): Statement {
  const { s, finished, statement } = ctx;
  return statement(
    'cancel_job',
    `WITH old AS MATERIALIZED (
       SELECT id, status, attempts, executor_id, host, started_at, progress, progress_message, waited
         FROM ${s}.jobs
        WHERE id = $2 AND status IN ('waiting', 'new', 'processing', 'retry')
          FOR UPDATE
     ), cancelled AS (
       UPDATE ${s}.jobs j
          SET status = 'cancelled', lease_token = NULL, lease_expires_at = NULL, finished_at = ${NOW_SQL}, updated_at = ${NOW_SQL},
              has_history = j.has_history OR old.status = 'processing', waiting_for = NULL,
              ${LET_GO_UNFINISHED}
         FROM old
        WHERE j.id = old.id
       RETURNING j.id, 'cancelled' AS status, j.has_children, j.concurrency_key
     ), settled AS (
       ${settleEnded(ctx, 'cancelled', '$3::boolean')}
     ), ran AS (
       INSERT INTO ${s}.job_runs (job_id, attempt, executor_id, host, started_at, finished_at, state, error, progress, progress_message)
       SELECT id, greatest(attempts, 1), executor_id, host, started_at, ${NOW_SQL}, 'cancelled', NULL, progress, progress_message
         FROM old
        WHERE status = 'processing' AND started_at IS NOT NULL AND executor_id IS NOT NULL
     ), woken AS (
       ${notifyWaited(finished, 'old')}
     )
     SELECT id, (SELECT count(*) FROM woken) AS woken, (SELECT count(*) FROM settled) AS settled FROM cancelled`,
  );
}

/**
 * Requeue a finished job as new, attempts back to 0, result cleared. NOTIFY (through the LEFT JOIN
 * LATERAL, which keeps the row whether or not it notifies) when the job is due at once.
 *
 * A done job's last run lives only in its row (derived, core's runs.ts), which this overwrites: `ran`
 * first stores it as a record. Failed and cancelled jobs already have theirs. `old` locks the row so
 * that record and the reset describe the same version. Attempts restart at 0, so `has_history` is
 * what tells a later delete at completion to look for those runs (see migration 3).
 *
 * Flow (migration 5): a job is requeued as `new` without waiting for its parents again (it keeps
 * what they decided), but a keyed job that does not 'allow' re-enters its key as `waiting` for a
 * slot and is admitted by flow_settle (`admitted`) in this statement if one is free. A unique key
 * it let go is not taken back.
 *
 * $1 now, $2 id, $3 run_at or NULL (= now), $4 whether to notify.
 */
export function requeueJob(ctx: SqlContext): Statement {
  const { s, channel, finished, statement } = ctx;
  return statement(
    'requeue_job',
    `WITH old AS MATERIALIZED (
       SELECT id, status, attempts, executor_id, host, started_at, finished_at, progress, progress_message
         FROM ${s}.jobs
        WHERE id = $2 AND status IN ('done', 'failed', 'cancelled')
          FOR UPDATE
     ), r AS (
       UPDATE ${s}.jobs j
          SET status = CASE WHEN ${SLOT_BOUND} THEN 'waiting' ELSE 'new' END,
              waiting_for = CASE WHEN ${SLOT_BOUND} THEN 'slot' END,
              attempts = 0, run_at = COALESCE($3::timestamptz, ${NOW_SQL}), lease_token = NULL,
              finished_at = NULL, updated_at = ${NOW_SQL}, result = NULL, has_history = true
         FROM old
        WHERE j.id = old.id
       RETURNING j.queue, j.run_at, j.status, j.concurrency_key
     ), admitted AS (
       SELECT ${s}.flow_settle(NULL, NULL, array_agg(concurrency_key), NULL, ${NOW_SQL},
                               CASE WHEN $4::boolean THEN ${channel} END, ${finished})
         FROM r
        WHERE status = 'waiting'
       HAVING count(*) > 0
     ), ran AS (
       INSERT INTO ${s}.job_runs (job_id, attempt, executor_id, host, started_at, finished_at, state, error, progress, progress_message)
       SELECT id, greatest(attempts, 1), executor_id, host, started_at, finished_at, 'done', NULL, progress, progress_message
         FROM old
        WHERE status = 'done' AND started_at IS NOT NULL AND executor_id IS NOT NULL
     )
     SELECT r.queue, (SELECT count(*) FROM admitted) AS admitted FROM r
       LEFT JOIN LATERAL (SELECT pg_notify(${channel}, r.queue)
                           WHERE $4::boolean AND r.status = 'new' AND r.run_at <= ${NOW_SQL}) n ON true`,
  );
}

/**
 * Admin purge of final jobs. The literal status list beside the parameter guarantees a live job is
 * never deleted whatever is passed; `finished_at IS NOT NULL` (true of exactly the final jobs, a
 * CHECK says so) lets the planner use the partial `jobs_finished` index. Runs and logs go with their
 * jobs in the same statement (no foreign keys, see migration 3), and a waiter of a purged job is
 * woken to find it gone.
 *
 * $1 statuses, $2 queue or NULL, $3 finished before or NULL.
 */
export function purgeJobs({ s, finished, statement }: SqlContext): Statement {
  return statement(
    'purge_jobs',
    `WITH d AS (
       DELETE FROM ${s}.jobs
        WHERE finished_at IS NOT NULL AND status IN ('done', 'failed', 'cancelled') AND status = ANY($1::text[])
          AND ($2::text IS NULL OR queue = $2::text)
          AND ($3::timestamptz IS NULL OR finished_at < $3::timestamptz)
       RETURNING id, waited
     ), ${historyGone(s, 'd')}, ${depsGone(s, 'd')}, woken AS (
       ${notifyWaited(finished, 'd')}
     )
     SELECT count(*)::int AS n, (SELECT count(*) FROM woken) AS woken FROM d`,
  );
}

/**
 * Retention: delete one batch of jobs of one final status that finished more than $3 ms ago, oldest
 * first. Batches keep each statement's locks and WAL small; SKIP LOCKED lets two maintainers (or an
 * admin purge) run side by side without waiting. Runs and logs go with their jobs, as in purgeJobs.
 *
 * $1 now, $2 status, $3 keep ms, $4 batch size.
 */
export function purgeExpired({ s, finished, statement }: SqlContext): Statement {
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
       RETURNING id, waited
     ), ${historyGone(s, 'd')}, ${depsGone(s, 'd')}, woken AS (
       ${notifyWaited(finished, 'd')}
     )
     SELECT count(*)::int AS n, (SELECT count(*) FROM woken) AS woken FROM d`,
  );
}

/**
 * A job's runs for listRuns and getJob(id, { runs: true }), with the job's row, in one statement: the
 * latest run is derived from the row (core's runs.ts), and reading both from one snapshot means an
 * attempt that ends between two reads can neither show twice nor go missing. The stored runs come
 * as one JSON array (times as epoch ms, see toRunJson in rows.ts), at most $2 of them, oldest first;
 * the caller pages, the derived run being the last of the full list. No row: unknown job.
 *
 * $1 id, $2 how many stored runs at most.
 */
export function jobRuns({ s, statement }: SqlContext): Statement {
  const ms = (c: string) => `trunc(extract(epoch FROM ${c}) * 1000)::int8`;
  return statement(
    'job_runs',
    `SELECT ${JOB_COLUMNS},
            (SELECT json_agg(json_build_object('attempt', r.attempt, 'executorId', r.executor_id, 'host', r.host,
                                               'startedAt', ${ms('r.started_at')}, 'finishedAt', ${ms('r.finished_at')},
                                               'state', r.state, 'error', r.error, 'progress', r.progress,
                                               'progressMessage', r.progress_message)
                             ORDER BY r.started_at, r.attempt)
               FROM (SELECT * FROM ${s}.job_runs WHERE job_id = $1 ORDER BY started_at, attempt LIMIT $2) r) AS runs
       FROM ${s}.jobs
      WHERE id = $1`,
  );
}

/**
 * A job's log lines in write order, through (job_id, seq). Lines are deleted with their job, so an
 * unknown job simply has none. $1 id, $2 after seq, $3 attempt or NULL, $4 limit.
 */
export function listLogs({ s, statement }: SqlContext): Statement {
  return statement(
    'list_logs',
    `SELECT seq, job_id, attempt, at, level, message FROM ${s}.job_logs
      WHERE job_id = $1 AND seq > $2::int8 AND ($3::int IS NULL OR attempt = $3::int)
      ORDER BY seq
      LIMIT $4`,
  );
}

/** Jobs by id, for waitForJob's re-reads, batched (see coalesce.ts). $1 ids. */
export function getJobs({ s, statement }: SqlContext): Statement {
  return statement('get_jobs', `SELECT ${JOB_COLUMNS} FROM ${s}.jobs WHERE id = ANY($1::uuid[])`);
}

/**
 * `waitForJob` says someone waits on these jobs, so the statements that finish them NOTIFY the
 * finished channel for them (and only for such jobs). Writes only rows whose flag is not yet set: a
 * thousand waiters on one job update it once. Touches no indexed column, so each is a HOT update.
 * $1 ids.
 */
export function markWaited({ s, statement }: SqlContext): Statement {
  return statement('mark_waited', `UPDATE ${s}.jobs SET waited = true WHERE id = ANY($1::uuid[]) AND NOT waited`);
}

/** A wake-up for queues whose jobs were released (given back at shutdown). $1 queues. */
export function notifyQueues({ channel, statement }: SqlContext): Statement {
  return statement('notify_queues', `SELECT pg_notify(${channel}, q) FROM unnest($1::text[]) AS q`);
}
