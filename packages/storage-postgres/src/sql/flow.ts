import type { Statement } from '../db.js';
import { keyLock } from '../migrations/005-flow-settle.js';
import { NOW_SQL, type SqlContext } from './context.js';

/**
 * The statements an insert of jobs with parents or a concurrency key adds, in its transaction (see
 * insert-jobs.ts at the package root for the order). Jobs with neither never run them.
 */

/**
 * The stored parents of a batch: flagged `has_children` (so their end runs the release function)
 * and locked until the insert commits. The lock is what keeps a child from missing its parent's
 * end: an outcome of the parent waits for this transaction, then its release function (a fresh
 * snapshot) sees the child's dependency rows; or the parent ended first, and this UPDATE waits
 * for it and the insert records its status. Returns the parents found; the rest are unknown.
 * $1 parent ids.
 */
export function flowParents({ s, statement }: SqlContext): Statement {
  return statement('flow_parents', `UPDATE ${s}.jobs SET has_children = true WHERE id = ANY($1::uuid[]) RETURNING id`);
}

/**
 * Children of a batch whose parent, a job of the same batch, was answered by the holder of its
 * unique key (and so not written): they wait on the holder instead, which flowParents has flagged
 * and locked. The rare path; $1 child ids, $2 their `after` as JSON texts.
 */
export function repointParents({ s, statement }: SqlContext): Statement {
  return statement(
    'repoint_parents',
    `UPDATE ${s}.jobs j SET after = x.after::jsonb FROM unnest($1::uuid[], $2::text[]) AS x(id, after) WHERE j.id = x.id`,
  );
}

/**
 * The advisory locks of the batch's concurrency keys, in sorted ("C") order, as the release
 * function takes them, so two transactions never wait on each other's keys in a cycle. Held until
 * commit: the 'skip' lookup, the insert and the admission then see every other admission of the
 * key. $1 keys.
 */
export function lockKeys({ s, statement }: SqlContext): Statement {
  return statement(
    'lock_keys',
    `SELECT ${keyLock(s, 'u.k')} FROM (SELECT DISTINCT k COLLATE "C" AS k FROM unnest($1::text[]) AS x(k) ORDER BY 1) u`,
  );
}

/** Per key, one of its unfinished jobs (what 'skip' answers), through jobs_keys. $1 keys. */
export function keyHolders({ s, statement }: SqlContext): Statement {
  return statement(
    'key_holders',
    `SELECT u.k AS key,
            (SELECT j.id FROM ${s}.jobs j WHERE j.concurrency_key = u.k AND j.finished_at IS NULL LIMIT 1) AS holder
       FROM unnest($1::text[]) AS u(k)`,
  );
}

/**
 * After the insert: dependency rows for the children, outcomes of parents already final, decisions,
 * and admission of the keys' waiting jobs (flow_settle, migration 5).
 * $1 now, $2 keys that gained waiting jobs, $3 children, $4 whether to notify.
 */
export function settleAdded({ s, channel, finished, statement }: SqlContext): Statement {
  return statement(
    'settle_added',
    `SELECT ${s}.flow_settle(NULL, NULL, $2::text[], $3::uuid[], ${NOW_SQL},
                             CASE WHEN $4::boolean THEN ${channel} END, ${finished}) AS changed`,
  );
}

/**
 * A CTE body that runs flow_settle for the jobs of `source` that just became final and have
 * children or a concurrency key; no row and no call for the others (the usual case). `source` must
 * have columns id, status, has_children and concurrency_key; `notify` is an SQL boolean.
 */
export function settleEnded({ s, channel, finished }: SqlContext, source: string, notify: string): string {
  return `SELECT ${s}.flow_settle(array_agg(e.id), array_agg(e.status::text), array_agg(e.concurrency_key), NULL,
                                 ${NOW_SQL}, CASE WHEN ${notify} THEN ${channel} END, ${finished})
            FROM ${source} e
           WHERE e.has_children OR e.concurrency_key IS NOT NULL
          HAVING count(*) > 0`;
}

/** A key of scope 'unfinished' (or 'queued', if never claimed) is let go when the job ends. */
export const LET_GO_UNFINISHED = `unique_key = CASE WHEN j.unique_scope = 'stored' THEN j.unique_key END,
              released_key = CASE WHEN j.unique_scope = 'stored' THEN j.released_key
                                  ELSE coalesce(j.unique_key, j.released_key) END`;
