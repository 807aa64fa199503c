import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';

/**
 * The executor registry (core's executors.ts): one row per shell, replaced by each heartbeat.
 * Heartbeats are every few seconds per executor, so each is one statement that also prunes: an
 * entry silent for longer than the prune age ($9 / $2 ms) is deleted by whoever writes or lists
 * next, in any process. Times are the store's "now" like everywhere else.
 */

/**
 * Upsert the executor's entry, heartbeat_at = now. The prune spares the entry being written: one
 * statement may not delete and upsert the same row.
 *
 * $1 now, $2 id, $3 host, $4 pid, $5 version, $6 queues json, $7 started at, $8 state, $9 prune ms.
 */
export function heartbeatExecutor({ s, statement }: SqlContext): Statement {
  return statement(
    'heartbeat_executor',
    `WITH pruned AS (
       DELETE FROM ${s}.executors
        WHERE heartbeat_at < ${NOW_SQL} - $9::float8 * interval '1 millisecond' AND id <> $2::text
     )
     INSERT INTO ${s}.executors (id, host, pid, version, queues, started_at, state, heartbeat_at)
     VALUES ($2, $3, $4, $5, $6::jsonb, $7, $8, ${NOW_SQL})
     ON CONFLICT (id) DO UPDATE
       SET host = EXCLUDED.host, pid = EXCLUDED.pid, version = EXCLUDED.version, queues = EXCLUDED.queues,
           started_at = EXCLUDED.started_at, state = EXCLUDED.state, heartbeat_at = EXCLUDED.heartbeat_at`,
  );
}

/** A clean stop. $1 id. */
export function removeExecutor({ s, statement }: SqlContext): Statement {
  return statement('remove_executor', `DELETE FROM ${s}.executors WHERE id = $1 RETURNING id`);
}

/**
 * Every entry, pruned first, by id in code-point order ("C", as the other stores sort), flagged
 * stale when its heartbeat is older than $3 ms. The SELECT reads the statement's snapshot, in which
 * the pruned rows still exist, hence the same cutoff in its WHERE.
 *
 * $1 now, $2 prune ms, $3 stale after ms.
 */
export function listExecutors({ s, statement }: SqlContext): Statement {
  return statement(
    'list_executors',
    `WITH pruned AS (
       DELETE FROM ${s}.executors WHERE heartbeat_at < ${NOW_SQL} - $2::float8 * interval '1 millisecond'
     )
     SELECT id, host, pid, version, queues, started_at, state, heartbeat_at,
            ${NOW_SQL} - heartbeat_at > $3::float8 * interval '1 millisecond' AS stale
       FROM ${s}.executors
      WHERE heartbeat_at >= ${NOW_SQL} - $2::float8 * interval '1 millisecond'
      ORDER BY id COLLATE "C"`,
  );
}
