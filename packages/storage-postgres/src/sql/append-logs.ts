import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';

/**
 * Log lines of running jobs: every entry of an `appendLogs` batch in one statement, one multi-row
 * INSERT, because an executor flushes its jobs' logs together and a round trip per job would cost
 * more than the lines.
 *
 * - Fenced like every write after a claim: an entry's lines go in only if its job still runs under
 *   that very token and the lease has not expired ("processing" is `lease_expires_at > now`, see
 *   record-outcomes.ts). `held` answers which entries passed; the others are lease-lost.
 * - `held` locks the rows FOR KEY SHARE, the lock a foreign key check takes: it does not block the
 *   job's own updates (progress, lease extension, outcome), but a DELETE of the job (purge,
 *   deleteDoneJobs) waits for this statement, then deletes the lines with the job. Without it a
 *   line committed just after a purge read the log would outlive its job. The lock is re-checked
 *   on the latest row version, so an outcome committed meanwhile makes the entry lease-lost.
 * - The first lines of a job mark it `has_history` (`flagged`, an UPDATE only that once), so that a
 *   delete at completion looks for them (see migration 3).
 * - Each line is stored under the row's attempt, in the order given: entries by their index $2,
 *   lines by their place (n) in $3, so `seq` (the table's identity) follows that order.
 * - Entries arrive as a JSON array of {i, id, token}, lines as one of {i, n, at, level, message}:
 *   two parameters whatever the batch, and json_to_recordset types each field.
 *
 * $1 now, $2 entries, $3 lines. Returns the index `i` of each entry whose lease held.
 */
export function appendLogs({ s, statement }: SqlContext): Statement {
  return statement(
    'append_logs',
    `WITH e AS (
       SELECT * FROM json_to_recordset($2::json) AS e(i int, id uuid, token text)
     ), held AS MATERIALIZED (
       SELECT e.i, j.id, j.attempts
         FROM e JOIN ${s}.jobs j ON j.id = e.id AND j.lease_token = e.token AND j.lease_expires_at > ${NOW_SQL}
          FOR KEY SHARE OF j
     ), flagged AS (
       UPDATE ${s}.jobs j SET has_history = true FROM held h WHERE j.id = h.id AND NOT j.has_history
     ), logged AS (
       INSERT INTO ${s}.job_logs (job_id, attempt, at, level, message)
       SELECT h.id, h.attempts, l.at, l.level, l.message
         FROM json_to_recordset($3::json) AS l(i int, n int, at timestamptz, level text, message text)
         JOIN held h ON h.i = l.i
        ORDER BY l.i, l.n
     )
     SELECT i FROM held`,
  );
}
