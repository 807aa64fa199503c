import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Statement } from '../db.js';

/**
 * What every statement needs to know about its store. Statements are built once per store, with the
 * schema quoted into the text (identifiers cannot be parameters).
 *
 * Conventions shared by every file in this folder:
 * - A statement that reads the time takes "now" from the injected clock as `$1`, or NULL there; `NOW_SQL` turns it into the time to use,
 *   so a test clock and the database clock go through the same statement text.
 * - One statement per named operation; each is prepared once per connection under a name made from
 *   a hash of the schema (prepared-statement names are cut at 63 bytes, a long schema name could
 *   otherwise make two stores' statements collide on one connection).
 */
export interface SqlContext {
  /** The quoted schema, e.g. `"oddjob"`. */
  s: string;
  /** The NOTIFY channel as an SQL literal. */
  channel: string;
  /** The channel that wakes `waitForJob` callers (payload: job ids joined by commas), as an SQL literal. */
  finished: string;
  /** A plain function (it uses no `this`): every statement builder destructures it. */
  statement: (operation: string, text: string) => Statement;
}

export const NOW_SQL = 'COALESCE($1::timestamptz, now())';

/**
 * The job columns read back, listed rather than `*`: a prepared `SELECT *` fails with "cached plan
 * must not change result type" on live connections once a later migration adds a column, which
 * would break running executors of the previous version during a rolling deploy.
 */
export const JOB_COLUMNS = `id, queue, target, method, args, status, run_at, attempts, max_attempts, retry, last_error,
  lease_owner, lease_token, lease_expires_at, progress, metadata, coalesce(unique_key, released_key) AS unique_key,
  created_at, updated_at, finished_at, progress_message, result, started_at, executor_id, host, pinned_host, priority,
  unique_scope, after, waiting_for, concurrency_key, concurrency_limit, already_running, sequence_name, sequence_run,
  sequence_step`;

/** The LISTEN/NOTIFY channel of a schema: one per schema, so stores in other schemas are not woken. */
export function channelName(schema: string): string {
  return `${schema}_jobs`;
}

/**
 * The channel a job's finish is announced on, for `waitForJob`: apart from the jobs channel so that
 * executors' wake-ups never carry job ids and waiters never parse queue names.
 */
export function finishedChannelName(schema: string): string {
  return `${schema}_finished`;
}

/**
 * A CTE body that NOTIFYs the finished channel for the ids of `source` whose job someone waits on
 * (`waited`), as few notifications as possible: ids joined by commas, 100 to a payload (3.7 kB, well
 * under PostgreSQL's 8,000-byte limit, which would fail the whole statement). A plain SELECT in a
 * WITH runs only if referenced, so each statement reads `(SELECT count(*) FROM <name>)`.
 * `source` must have columns `id` and `waited`.
 */
/**
 * Two CTEs (`runs_gone`, `logs_gone`) deleting the runs and logs of the jobs a statement deleted:
 * `source` names the CTE of deleted jobs (with an `id` column), `onlyIf` a boolean column of it that
 * says which may have history at all (the completion path skips the lookups for the rest).
 */
export function historyGone(s: string, source: string, onlyIf?: string): string {
  const guard = onlyIf === undefined ? '' : `d.${onlyIf} AND `;
  return `runs_gone AS (
       DELETE FROM ${s}.job_runs r USING ${source} d WHERE ${guard}r.job_id = d.id
     ), logs_gone AS (
       DELETE FROM ${s}.job_logs l USING ${source} d WHERE ${guard}l.job_id = d.id
     )`;
}

/**
 * A CTE (`deps_gone`) deleting the dependency rows of the jobs a statement deleted: their parents'
 * outcomes are of no use once the child is gone. `onlyIf` as in historyGone (jobs with `after`).
 */
export function depsGone(s: string, source: string, onlyIf?: string): string {
  const guard = onlyIf === undefined ? '' : `d.${onlyIf} AND `;
  return `deps_gone AS (
       DELETE FROM ${s}.job_deps p USING ${source} d WHERE ${guard}p.child = d.id
     )`;
}

export function notifyWaited(finished: string, source: string): string {
  return `SELECT pg_notify(${finished}, string_agg(id::text, ','))
            FROM (SELECT id, (row_number() OVER () - 1) / 100 AS chunk FROM ${source} WHERE waited) w
           GROUP BY chunk`;
}

export function sqlContext(schema: string): SqlContext {
  const tag = createHash('sha256').update(schema).digest('hex').slice(0, 10);
  return {
    s: pg.escapeIdentifier(schema),
    channel: pg.escapeLiteral(channelName(schema)),
    finished: pg.escapeLiteral(finishedChannelName(schema)),
    statement: (operation, text) => ({ name: `oddjob_${tag}_${operation}`, text }),
  };
}
