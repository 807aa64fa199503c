import type { Statement } from '../db.js';
import { NOW_SQL, type SqlContext } from './context.js';
import { LET_GO_UNFINISHED, settleEnded } from './flow.js';

/**
 * The claim: one statement that hands out up to $3 jobs under one fresh lease token ($9).
 *
 * Why it is shaped so:
 * - FOR UPDATE SKIP LOCKED: concurrent claimers never wait on each other and never get the same
 *   row; a row another claimer has locked is simply passed over. The locked candidate set is
 *   MATERIALIZED so it is computed exactly once (an inlined or re-scanned subquery can lock one set
 *   of rows and update another).
 * - Per queue, a LATERAL subquery walks `jobs_open` (queue, run_at, id) in index order and stops
 *   after $3 rows, so the cost is the batch plus the jobs in flight, not the backlog; the outer ORDER
 *   BY merges queues into one global (run_at, id) order. With one queue (the usual case) that merge
 *   is trivial. A job is claimable when it has no live lease: waiting (`new`, `retry`), or running
 *   with a lease that expired (its executor died; the attempt already counted, the claim counts a new
 *   one). Running jobs with a live lease are passed over; they hold the oldest places in the index,
 *   so the walk passes at most the jobs in flight.
 * - The claim is a HOT update (see migration 2): it changes no column any index reads, and the table
 *   keeps room on each page for the new versions, so no index entry is written per claimed job.
 *   Adding an index on a column written here (status, attempts, lease_*, updated_at) would undo that;
 *   a test checks the claim stays HOT.
 * - The UPDATE finds the locked rows by their physical address (ctid), a direct fetch. Joining them
 *   back by id let the planner hash-join against a sequential scan of the whole table (measured: 10 ms
 *   for 250 jobs out of 20,000, against 3.4 ms). A locked row cannot move under us; if the row a
 *   lock lands on is a version committed after this statement's snapshot, the fetch does not see it
 *   and that job is simply not claimed this time (it stays claimable).
 * - `spent`: a job whose lease expired with no attempts left is not run again but failed, in the same
 *   statement, with core's LeaseExpiredError (message passed in as $6 || owner || $7 so core owns
 *   the wording). A job that crashes its executor therefore cannot loop forever. The statement
 *   answers each such job as a row with only its id (every other column NULL) after the claimed
 *   rows, so the store knows the batch came back short because of them and not because the queue ran
 *   dry. Two UPDATEs of one statement may write the same table as long as their rows differ: they
 *   take disjoint halves of `candidates`.
 * - One token for the whole claim, made by the store: the token only has to change with every claim
 *   of a job (that is what fences a stale executor out), and one token per claim saves a random UUID
 *   per row here and bytes on every later write.
 * - RETURNING reads only what differs between the claimed jobs, in the cheapest form to print and
 *   to parse: times as epoch milliseconds (truncated, as pg's own Date parsing does), jsonb as text.
 *   The status, owner and token are known to the caller. Parsing rows was a third of the claim's
 *   time in Node before (timestamps through a regular expression each).
 * - Rows come back in no particular order; the store sorts the (small) batch.
 * - History (core's runs.ts): the claimed row records its new attempt's start, executor and host and
 *   forgets the last attempt's progress, so the run is read off the row and a first-time success
 *   writes no run record. A row taken over from an expired lease (`taken`), or failed because that
 *   lease was its last attempt (`spent`), first gets a 'lease-lost' record of the attempt it ends:
 *   `lost` reads the row by the same ctid, and all parts of one statement share one snapshot, so it
 *   sees the version from before `claimed`/`reaped` wrote it. Nothing is taken over in the usual
 *   claim, so `lost` then inserts nothing: no extra statement or round trip, one boolean more per
 *   candidate. The error is core's, spliced around the owner like the reap's ($11/$12 for the
 *   takeover wording).
 * - Host affinity (migration 4): a job pinned to another host is passed over until its run_at is
 *   older than now - $13 ms; then this claim takes it over (its run tells, see core's runs.ts). The
 *   test reads the heap row the walk fetches anyway, and an unpinned row answers it at its first
 *   term. Jobs pinned elsewhere and due but not yet overdue are walked past like live leases: a
 *   claim pays for each such job older than what it takes.
 * - A reaped job is final, so someone waiting on it (`waited`) is told on the finished channel; the
 *   LATERAL runs once per reaped row, i.e. never in the usual claim.
 *
 * $1 now, $2 queues, $3 limit, $4 owner, $5 lease ms, $6/$7 LeaseExpiredError message around the owner,
 * $8 LeaseExpiredError name, $9 the lease token, $10 the claimer's host or NULL, $11/$12 the takeover
 * error's message around the owner, $13 the takeover threshold in ms.
 */
export function claim(ctx: SqlContext): Statement {
  const { s, finished, statement } = ctx;
  return statement(
    'claim',
    `WITH pos AS MATERIALIZED (
       ${walk(s, 'priority <> 0 AND priority > 0', 'priority DESC, run_at, id', '$3')}
     ), zero AS MATERIALIZED (
       ${walk(s, 'priority = 0', 'run_at, id', '(SELECT $3 - count(*) FROM pos)')}
     ), neg AS MATERIALIZED (
       ${walk(s, 'priority <> 0 AND priority < 0', 'priority DESC, run_at, id', '(SELECT $3 - count(*) FROM pos) - (SELECT count(*) FROM zero)')}
     ), candidates AS MATERIALIZED (
       SELECT ctid, taken, taken AND spent AS spent FROM pos
       UNION ALL SELECT ctid, taken, taken AND spent FROM zero
       UNION ALL SELECT ctid, taken, taken AND spent FROM neg
     ), reaped AS (
       UPDATE ${s}.jobs j
          SET status = 'failed',
              last_error = jsonb_build_object('name', $8::text, 'message', $6::text || j.lease_owner || $7::text),
              lease_token = NULL,
              lease_expires_at = NULL,
              finished_at = ${NOW_SQL},
              updated_at = ${NOW_SQL},
              ${LET_GO_UNFINISHED}
        WHERE j.ctid = ANY (ARRAY(SELECT ctid FROM candidates WHERE spent))
       RETURNING j.id, j.waited, j.has_children, j.concurrency_key
     ), settled AS (
       ${settleEnded(ctx, `(SELECT id, 'failed' AS status, has_children, concurrency_key FROM reaped)`, '$14::boolean')}
     ), lost AS (
       INSERT INTO ${s}.job_runs (job_id, attempt, executor_id, host, started_at, finished_at, state, error, progress, progress_message)
       SELECT j.id, greatest(j.attempts, 1), j.executor_id, j.host, j.started_at, ${NOW_SQL}, 'lease-lost',
              jsonb_build_object('name', $8::text, 'message',
                CASE WHEN j.attempts >= j.max_attempts THEN $6::text || j.lease_owner || $7::text
                     ELSE $11::text || j.lease_owner || $12::text END),
              j.progress, j.progress_message
         FROM ${s}.jobs j
        WHERE j.ctid = ANY (ARRAY(SELECT ctid FROM candidates WHERE taken))
          AND j.started_at IS NOT NULL AND j.executor_id IS NOT NULL
     ), claimed AS (
       UPDATE ${s}.jobs j
          SET status = 'processing',
              attempts = j.attempts + 1,
              lease_owner = $4,
              lease_token = $9,
              lease_expires_at = ${NOW_SQL} + $5::float8 * interval '1 millisecond',
              updated_at = ${NOW_SQL},
              started_at = ${NOW_SQL},
              executor_id = $4,
              host = $10,
              progress = NULL,
              progress_message = NULL,
              result = NULL,
              unique_key = CASE WHEN j.unique_scope = 'queued' THEN NULL ELSE j.unique_key END,
              released_key = CASE WHEN j.unique_scope = 'queued' THEN coalesce(j.unique_key, j.released_key)
                                  ELSE j.released_key END
        WHERE j.ctid = ANY (ARRAY(SELECT ctid FROM candidates WHERE NOT spent))
       RETURNING ${CLAIMED_COLUMNS}
     )
     SELECT * FROM claimed
     UNION ALL
     SELECT r.id${', NULL'.repeat(CLAIMED_COLUMN_COUNT - 1)}
       FROM reaped r
       LEFT JOIN LATERAL (SELECT pg_notify(${finished}, r.id::text) WHERE r.waited) n ON true
      WHERE (SELECT count(*) FROM settled) >= 0 -- runs settled`,
  );
}

/**
 * One walk of the claim: per wanted queue, the claimable jobs of one priority band through the
 * index whose predicate `band` and the fixed terms imply (jobs_ready for 0, jobs_ready_priority
 * otherwise: see migration 5), in `order`, at most `limit` of them, merged over the queues.
 */
function walk(s: string, band: string, order: string, limit: string): string {
  return `SELECT c.ctid, c.taken, c.spent
         FROM unnest($2::text[]) AS wanted(queue)
         CROSS JOIN LATERAL (
           SELECT ctid, id, run_at, priority, status = 'processing' AS taken, attempts >= max_attempts AS spent
             FROM ${s}.jobs
            WHERE queue = wanted.queue AND finished_at IS NULL AND waiting_for IS NULL AND ${band}
              AND run_at <= ${NOW_SQL}
              AND (status IN ('new', 'retry') OR lease_expires_at <= ${NOW_SQL})
              AND (pinned_host IS NULL OR pinned_host = $10
                   OR run_at < ${NOW_SQL} - $13::float8 * interval '1 millisecond')
            ORDER BY ${order}
            LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
         ) c
        ORDER BY ${order.replace(/(\w+)/g, (w) => (w === 'DESC' ? w : `c.${w}`))}
        LIMIT ${limit}`;
}

/** A timestamptz as integer epoch milliseconds, truncated (Date has no finer resolution). */
const ms = (column: string) => `trunc(extract(epoch FROM ${column}) * 1000)::int8`;

/** What a claim returns per job, in this order; see `toClaimedJob` in rows.ts. */
const CLAIMED = [
  'j.id',
  'j.queue',
  'j.target',
  'j.method',
  'j.args',
  ms('j.run_at'),
  'j.attempts',
  'j.retry::text',
  'j.last_error::text',
  // progress, progress_message and result are NULL after a claim, started_at is "now", executor_id
  // and host are the claimer's: none of them is sent back.
  'j.metadata::text',
  'coalesce(j.unique_key, j.released_key)',
  ms('j.created_at'),
  // The same for every row (the claim sets them from one "now"): computed once, as an InitPlan.
  `(SELECT ${ms(NOW_SQL)})`,
  `(SELECT ${ms(`${NOW_SQL} + $5::float8 * interval '1 millisecond'`)})`,
  'j.pinned_host',
  // Migration 5's fields in one JSON array, NULL for a job that has none (nearly every job): one
  // column to send and test instead of nine.
  `CASE WHEN j.priority = 0 AND j.unique_scope = 'stored' AND j.after IS NULL AND j.concurrency_key IS NULL
             AND j.sequence_name IS NULL THEN NULL
        ELSE json_build_array(j.priority, j.unique_scope, j.after, j.concurrency_key, j.concurrency_limit,
                              j.already_running, j.sequence_name, j.sequence_run, j.sequence_step)::text END`,
];
export const CLAIMED_COLUMNS = CLAIMED.join(', ');
const CLAIMED_COLUMN_COUNT = CLAIMED.length;
