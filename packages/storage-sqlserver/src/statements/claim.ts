import type { SchemaNames } from '../identifiers.js';
import { BIN2, JOB_COLUMNS, T, type BuiltStatement } from './common.js';
import { flowDeclarations, settleParams, settleText, type ErrorJsonParts } from './flow.js';
import { cols, HAS_RUN, list, RUN_INSERT_COLUMNS, runAttempt } from './helpers.js';
// ---------------------------------------------------------------------------------------------
// Claim

/**
 * claimJobs — why: one round trip, two statements.
 *
 * 1. Expired leases. A `processing` row whose lease ran out belongs to an executor that died or
 *    stalled. With attempts left it goes back to `retry` (lease cleared, runAt kept, the attempt it
 *    used stays counted) so the claim below can take it through the filtered index of claimable rows;
 *    with none left it becomes `failed` with core's LeaseExpiredError, built here as JSON from the
 *    owner via STRING_ESCAPE(..., 'json') between a bound head and tail, so the text stays core's.
 *    READPAST skips rows another session holds (e.g. one extending that very lease right now).
 *    READCOMMITTEDLOCK (on both statements): the table-hints page says READPAST "cannot be specified"
 *    when the database has READ_COMMITTED_SNAPSHOT ON (Azure SQL Database's default) and the session
 *    is at READ COMMITTED, and that the remedy is to add READCOMMITTEDLOCK. Under UPDLOCK the hint is
 *    otherwise ignored, so on a database without RCSI it changes nothing. (The same combination,
 *    UPDLOCK, READPAST, ROWLOCK, READCOMMITTEDLOCK, is what NServiceBus's SQL Server transport runs.)
 * 2. The claim: the CTE picks the ids of TOP (@limit) claimable rows in (run_at, id) order WITH
 *    (ROWLOCK, READPAST, UPDLOCK, READCOMMITTEDLOCK): UPDLOCK takes update locks as rows are read so two
 *    claimers cannot both pick a row, READPAST makes a claimer skip rows another claimer has locked
 *    instead of queueing behind it, and ROWLOCK keeps those locks at row level. OUTPUT returns the rows
 *    as changed (the docs give no order for OUTPUT, so the caller sorts). NEWID() is evaluated per row,
 *    giving each claimed job its own lease token.
 *
 *    Why the UPDATE names the base table joined to the CTE, not the CTE itself: SQL Server updates
 *    through a CTE, but Babelfish refuses it ("relation "picked" does not exist"). Joining the base
 *    table to the CTE by id is ordinary T-SQL on both. The base table carries (ROWLOCK, READPAST,
 *    READCOMMITTEDLOCK) too: the docs say READPAST in an UPDATE applies while reading to find the
 *    rows to update, so should the optimiser ever scan it instead of seeking by id, it skips other
 *    claimers' locked rows rather than waiting on them (or deadlocking with them).
 *
 *    Why the UPDATE re-checks the claimable condition in its own WHERE: Babelfish parses table hints
 *    and ignores them, so there two claimers' CTEs can pick the same rows. PostgreSQL underneath makes
 *    the second UPDATE wait for the first one's row lock and then re-evaluates the UPDATE's WHERE on the
 *    committed row: with the status test there, a row just claimed is no longer 'new'/'retry' and is
 *    left out; without it the join on id alone still matches and the job was handed out twice (seen:
 *    8 concurrent claimers, 25 distinct jobs for 40 claims). On SQL Server the U locks already make it
 *    redundant, and it costs nothing. The price on Babelfish: concurrent claims serialise on each
 *    other's rows and the loser of a race gets fewer jobs (maybe none) in that round, never duplicates.
 *
 *    The claim also starts the run the row now describes (started_at, executor_id, host) and clears
 *    the previous attempt's progress, so the derived run (core's runs.ts) shows only this attempt's.
 *    result needs no clearing: only a requeue leads from `done` back to claimable, and it clears it.
 *
 * Host affinity (migration 3): a job pinned to another host is passed over until its run_at is more
 * than @takeoverMs before @now, then taken over (the run tells: core's runs.ts). pinned_host is an
 * INCLUDE column of IX_jobs_claimable, so the pick still reads that index alone; it is never
 * updated, so the UPDATE need not re-check it. With @host NULL, `pinned_host = @host` is never true:
 * a claim without a host takes unpinned and overdue jobs only. Jobs pinned elsewhere, due and not
 * yet overdue, are read past like rows other claimers hold.
 *
 * Run history of expired leases (migration 2): the attempt whose lease ran out ended as 'lease-lost',
 * and a run record says so — core's LeaseExpiredError as the row's last_error when the job failed,
 * core's takeover error otherwise. Statement 1 therefore runs in a transaction with the insert of
 * those records: OUTPUT ... INTO a table variable collects which rows it changed (an OUTPUT INTO may
 * not target job_runs itself, which is on one side of a FOREIGN KEY), and the records are built from
 * the rows as they are after it, because statement 1 changes none of the columns a run reads
 * (attempts, executor_id, host, started_at, progress, progress_message). The owner named in the
 * takeover error is executor_id, which every claim since migration 2 sets to the lease owner; a row
 * claimed before migration 2 has none and gets no record, as core's endedRun says. All of that sits
 * behind IF EXISTS on the filtered lease index, so the claim that finds no expired lease — nearly
 * every claim — runs one seek and the claim itself, in one round trip, as before.
 *
 * Jobs that wait (migration 4): the pick orders by priority descending, then run_at, id, which is
 * IX_jobs_claimable's key after the queue; waiting jobs are not in that index, so the claim never
 * walks them. A job whose last lease expired and that is failed here is final: its children record
 * it, are decided (cascading), and its key's waiting jobs are admitted, by settleText in the same
 * transaction, committed before the pick: a job that admission let in is claimable by this very
 * claim (as on the memory store). The claim itself lets go a 'queued' unique key (held until the first claim).
 */
export function claimJobs(
  n: SchemaNames,
  req: {
    queues: readonly string[];
    limit: number;
    owner: string;
    leaseMs: number;
    host: string | null;
    takeoverAfterMs: number;
  },
  leaseErrorJson: { head: string; tail: string },
  takeoverErrorJson: { head: string; tail: string },
  dependencyErrorJson: ErrorJsonParts,
): BuiltStatement {
  const queues = list('q', T.queue, req.queues);
  return {
    name: 'claimJobs',
    usesNow: true,
    params: [
      ...queues.params,
      { name: 'limit', type: T.int, value: req.limit },
      { name: 'owner', type: T.name, value: req.owner },
      { name: 'host', type: T.host, value: req.host },
      { name: 'leaseMs', type: T.int, value: req.leaseMs },
      { name: 'takeoverMs', type: T.int, value: req.takeoverAfterMs },
      { name: 'errHead', type: T.text, value: leaseErrorJson.head },
      { name: 'errTail', type: T.text, value: leaseErrorJson.tail },
      { name: 'takeHead', type: T.text, value: takeoverErrorJson.head },
      { name: 'takeTail', type: T.text, value: takeoverErrorJson.tail },
      ...settleParams(dependencyErrorJson),
    ],
    text: `
IF EXISTS (SELECT 1 FROM ${n.jobs} WITH (READPAST, READCOMMITTEDLOCK) WHERE status = 'processing' AND lease_expires_at <= @now)
BEGIN
  SET XACT_ABORT ON;
  DECLARE @lost TABLE (id char(36) ${BIN2} NOT NULL PRIMARY KEY, status varchar(10) NOT NULL);
  ${flowDeclarations().split('\n').join('\n  ')}
  BEGIN TRANSACTION;
  UPDATE j SET
    status = CASE WHEN j.attempts >= j.max_attempts THEN 'failed' ELSE 'retry' END,
    last_error = CASE WHEN j.attempts >= j.max_attempts
                      THEN CONCAT(@errHead, STRING_ESCAPE(j.lease_owner, 'json'), @errTail) ELSE j.last_error END,
    finished_at = CASE WHEN j.attempts >= j.max_attempts THEN @now ELSE j.finished_at END,
    updated_at = CASE WHEN j.attempts >= j.max_attempts THEN @now ELSE j.updated_at END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
  OUTPUT inserted.id, inserted.status INTO @lost (id, status)
  FROM ${n.jobs} AS j WITH (ROWLOCK, READPAST, READCOMMITTEDLOCK)
  WHERE j.status = 'processing' AND j.lease_expires_at <= @now;
  INSERT INTO ${n.runs} (${RUN_INSERT_COLUMNS})
  SELECT j.id, ${runAttempt('j.attempts')}, j.executor_id, j.host, 'lease-lost', j.started_at, @now,
         CASE WHEN l.status = 'failed' THEN j.last_error ELSE CONCAT(@takeHead, STRING_ESCAPE(j.executor_id, 'json'), @takeTail) END,
         j.progress, j.progress_message
  FROM @lost AS l JOIN ${n.jobs} AS j ON j.id = l.id
  WHERE ${HAS_RUN};
  INSERT INTO @final (id, status) SELECT id, status FROM @lost WHERE status = 'failed';
  ${settleText(n).split('\n').join('\n  ')}
  COMMIT TRANSACTION;
END;

WITH picked AS (
  SELECT TOP (@limit) id
  FROM ${n.jobs} WITH (ROWLOCK, READPAST, UPDLOCK, READCOMMITTEDLOCK)
  WHERE status IN ('new', 'retry') AND run_at <= @now AND queue IN (${queues.text})
    AND (pinned_host IS NULL OR pinned_host = @host OR run_at < DATEADD(millisecond, -@takeoverMs, @now))
  ORDER BY priority DESC, run_at, id
)
UPDATE j SET
  status = 'processing',
  attempts = j.attempts + 1,
  lease_owner = @owner,
  lease_token = LOWER(CONVERT(char(36), NEWID())),
  lease_expires_at = DATEADD(millisecond, @leaseMs, @now),
  updated_at = @now,
  started_at = @now, executor_id = @owner, host = @host, progress = NULL, progress_message = NULL,
  unique_held = CASE WHEN j.unique_scope = 'queued' THEN 0 ELSE j.unique_held END
OUTPUT ${cols('inserted.', JOB_COLUMNS)}
FROM ${n.jobs} AS j WITH (ROWLOCK, READPAST, READCOMMITTEDLOCK)
JOIN picked AS p ON p.id = j.id
WHERE j.status IN ('new', 'retry') AND j.run_at <= @now;`,
  };
}
