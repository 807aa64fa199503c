import type { SchemaNames } from '../identifiers.js';
import { BIN2, T, type BuiltStatement, type Param } from './common.js';
import { flowDeclarations, lockKeysText, settleParams, settleText, type ErrorJsonParts } from './flow.js';
import { HAS_RUN, RUN_INSERT_COLUMNS, runAttempt } from './helpers.js';
// ---------------------------------------------------------------------------------------------
// Outcomes, leases, progress (all fenced by the lease token)

export interface OutcomeRow {
  jobId: string;
  token: string;
  kind: 'done' | 'failed' | 'retry' | 'released';
  /** JSON of the JobError, for failed / retry. */
  error: string | null;
  /** For retry. */
  runAt: Date | null;
  /** The serialized return value, for done (null: none). */
  result: string | null;
}

/** A log line written with an outcome: `outcome` is the row's index in the same statement. */
export interface OutcomeLogLine {
  outcome: number;
  at: Date;
  level: string;
  message: string;
}

export const OUTCOME_PARAMS_PER_ROW = 6;
/** Each log line binds its time, level and message; its job is the outcome's own @i parameter. */
export const LOG_PARAMS_PER_LINE = 3;

function outcomeValues(rows: readonly OutcomeRow[]): { values: string; params: Param[] } {
  const params: Param[] = [];
  const values = rows.map((r, i) => {
    params.push(
      { name: `i${i}`, type: T.id, value: r.jobId },
      { name: `t${i}`, type: T.token, value: r.token },
      { name: `k${i}`, type: T.status, value: r.kind },
      { name: `e${i}`, type: T.text, value: r.error },
      { name: `r${i}`, type: T.time, value: r.runAt },
      { name: `x${i}`, type: T.text, value: r.result },
    );
    return `(@i${i}, @t${i}, @k${i}, @e${i}, @r${i}, @x${i})`;
  });
  return { values: values.join(', '), params };
}

/** The outcome UPDATE's SET list and its fenced comma-style join, shared by both shapes. */
function outcomeUpdate(n: SchemaNames, values: string, output: string): string {
  return `UPDATE j SET
  status = CASE v.kind WHEN 'released' THEN CASE WHEN j.attempts > 1 THEN 'retry' ELSE 'new' END ELSE v.kind END,
  attempts = CASE WHEN v.kind = 'released' THEN j.attempts - 1 ELSE j.attempts END,
  last_error = CASE WHEN v.kind IN ('failed', 'retry') THEN v.error ELSE j.last_error END,
  run_at = CASE v.kind WHEN 'retry' THEN v.run_at WHEN 'released' THEN @now ELSE j.run_at END,
  finished_at = CASE WHEN v.kind IN ('done', 'failed') THEN @now ELSE j.finished_at END,
  result = CASE WHEN v.kind = 'done' THEN v.result ELSE j.result END,
  lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
  updated_at = @now
${output}
FROM ${n.jobs} AS j, (VALUES ${values}) AS v (id, token, kind, error, run_at, result)
WHERE j.id = v.id AND j.status = 'processing' AND j.lease_token = v.token AND j.lease_expires_at > @now;`;
}

/**
 * recordOutcomes — why: one UPDATE joined to a VALUES list applies a whole batch of outcomes in one
 * round trip. The fence is in the WHERE clause: the row must still be `processing` under that very
 * token with an unexpired lease, so a late or duplicate write from an executor that lost its lease
 * changes nothing. OUTPUT inserted.id, v.token tells which outcomes took effect. The caller sends at
 * most one outcome per job per statement (a row joined twice would be updated once, arbitrarily).
 * 'released' gives back the attempt and makes the job claimable at @now. A done outcome stores its
 * result. This is the shape for a batch of `done` outcomes without log lines — the hot path, which
 * writes no run record (core derives a done run from the row): one UPDATE, in a transaction with
 * settleText (migration 4: children, keys and unique scopes of the jobs it ended), whose guard costs
 * two seeks when none of them has a key, a scoped unique key or a waiting child.
 *
 * Why the VALUES list is joined comma-style (FROM jobs AS j, (VALUES ...) AS v WHERE j.id = v.id) and
 * not with JOIN ... ON: OUTPUT may name columns of any table in the UPDATE's FROM clause on SQL Server
 * either way, but Babelfish cannot see `v` from OUTPUT when it is joined with JOIN ... ON ("missing
 * FROM-clause entry for table "v""); comma-style it can, and SQL Server plans the two identically.
 * `deleted.lease_token` is no substitute: Babelfish returned another row's old value for it in an
 * UPDATE ... FROM with a join. Callers read only the returned rows, never rowsAffected (Babelfish
 * reports 0 for an UPDATE with OUTPUT).
 */
export function recordOutcomes(
  n: SchemaNames,
  rows: readonly OutcomeRow[],
  dependencyError: ErrorJsonParts,
): BuiltStatement {
  const { values, params } = outcomeValues(rows);
  return {
    name: 'recordOutcomes',
    usesNow: true,
    params: [...params, ...settleParams(dependencyError)],
    text: outcomeBatch(n, values, ''),
  };
}

/**
 * The batch both outcome shapes share: the keys of the jobs this batch will end are locked before its
 * UPDATE touches them (lockKeysText), the fenced UPDATE collects what it applied, `history` (run
 * records, log lines) follows, and the jobs it made final (done, failed) are settled (settleText),
 * all in one transaction; the applied outcomes are the batch's last result set.
 */
function outcomeBatch(n: SchemaNames, values: string, history: string): string {
  return `
SET XACT_ABORT ON;
DECLARE @applied TABLE (id char(36) ${BIN2} NOT NULL PRIMARY KEY, token char(36) NOT NULL, kind varchar(10) NOT NULL, error nvarchar(max) NULL);
${flowDeclarations()}
BEGIN TRANSACTION;
INSERT INTO @freed (k) SELECT DISTINCT j.concurrency_key
FROM ${n.jobs} AS j, (VALUES ${values}) AS v (id, token, kind, error, run_at, result)
WHERE j.id = v.id AND v.kind IN ('done', 'failed') AND j.concurrency_key IS NOT NULL AND j.status = 'processing' AND j.lease_token = v.token;
IF EXISTS (SELECT 1 FROM @freed)
BEGIN
  ${lockKeysText(n, 'pre').split('\n').join('\n  ')}
END;
${outcomeUpdate(n, values, 'OUTPUT inserted.id, v.token, v.kind, v.error INTO @applied (id, token, kind, error)')}${history}
INSERT INTO @final (id, status) SELECT id, kind FROM @applied WHERE kind IN ('done', 'failed');
${settleText(n)}
COMMIT TRANSACTION;
SELECT id, token FROM @applied;`;
}

/**
 * recordOutcomesWithHistory — why: the same fenced UPDATE for a batch that also writes history (a
 * retry, failed or released outcome, which ends its run with a record, or log lines sent with any
 * outcome), with those writes in the same transaction and round trip. The UPDATE collects what it
 * applied (OUTPUT inserted.id, v.token, v.kind, v.error INTO a table variable: the form Babelfish
 * reads, never deleted.*); the run records and log lines are then written only for those, from the
 * rows as they are after the UPDATE, which leaves every column a run reads alone — except attempts,
 * which a release gave back, so that attempt is attempts + 1. Log lines keep their order through
 * ORDER BY on their position, which the docs say fixes the order identity values are assigned in.
 * The positions are generated integers, spliced like placeholder names; every value is bound.
 */
export function recordOutcomesWithHistory(
  n: SchemaNames,
  rows: readonly OutcomeRow[],
  lines: readonly OutcomeLogLine[],
  dependencyError: ErrorJsonParts,
): BuiltStatement {
  const { values, params } = outcomeValues(rows);
  const lineValues = lines.map((l, m) => {
    params.push(
      { name: `la${m}`, type: T.time, value: l.at },
      { name: `ll${m}`, type: T.level, value: l.level },
      { name: `lm${m}`, type: T.logMessage, value: l.message },
    );
    return `(@i${l.outcome}, ${m}, @la${m}, @ll${m}, @lm${m})`;
  });
  const attemptBefore = "(CASE WHEN a.kind = 'released' THEN j.attempts + 1 ELSE j.attempts END)";
  const logInsert =
    lines.length === 0
      ? ''
      : `
INSERT INTO ${n.logs} (job_id, attempt, logged_at, level, message)
SELECT a.id, ${attemptBefore}, l.logged_at, l.level, l.message
FROM @applied AS a, ${n.jobs} AS j, (VALUES ${lineValues.join(', ')}) AS l (id, ord, logged_at, level, message)
WHERE j.id = a.id AND l.id = a.id
ORDER BY l.ord;`;
  const runs = `
INSERT INTO ${n.runs} (${RUN_INSERT_COLUMNS})
SELECT j.id, ${runAttempt(attemptBefore)}, j.executor_id, j.host, a.kind, j.started_at, @now, a.error, j.progress, j.progress_message
FROM @applied AS a, ${n.jobs} AS j
WHERE j.id = a.id AND a.kind <> 'done' AND ${HAS_RUN};`;
  return {
    name: 'recordOutcomesWithHistory',
    usesNow: true,
    params: [...params, ...settleParams(dependencyError)],
    text: outcomeBatch(n, values, runs + logInsert),
  };
}

export const LEASE_PARAMS_PER_ROW = 2;

/**
 * extendLeases — why: the same fenced join as recordOutcomes, touching only lease_expires_at, so a
 * batch of running jobs is kept alive in one round trip and a lease already lost stays lost. Comma-style
 * join for the same reason as there (OUTPUT names v.token, which Babelfish resolves only so).
 */
export function extendLeases(
  n: SchemaNames,
  leases: readonly { jobId: string; token: string }[],
  leaseMs: number,
): BuiltStatement {
  const params: Param[] = [{ name: 'leaseMs', type: T.int, value: leaseMs }];
  const values = leases.map((l, i) => {
    params.push({ name: `i${i}`, type: T.id, value: l.jobId }, { name: `t${i}`, type: T.token, value: l.token });
    return `(@i${i}, @t${i})`;
  });
  return {
    name: 'extendLeases',
    usesNow: true,
    params,
    text: `
UPDATE j SET lease_expires_at = DATEADD(millisecond, @leaseMs, @now)
OUTPUT inserted.id, v.token
FROM ${n.jobs} AS j, (VALUES ${values.join(', ')}) AS v (id, token)
WHERE j.id = v.id AND j.status = 'processing' AND j.lease_token = v.token AND j.lease_expires_at > @now;`,
  };
}

/**
 * reportProgress — why: a single fenced UPDATE; @@ROWCOUNT (rowsAffected) answers whether the lease
 * held. The message is written with every report (null clears the last one), as core's rules say.
 */
export function reportProgress(
  n: SchemaNames,
  lease: { jobId: string; token: string },
  progress: string,
  message: string | null,
): BuiltStatement {
  return {
    name: 'reportProgress',
    usesNow: true,
    params: [
      { name: 'id', type: T.id, value: lease.jobId },
      { name: 'token', type: T.token, value: lease.token },
      { name: 'progress', type: T.text, value: progress },
      { name: 'message', type: T.progressMessage, value: message },
    ],
    text: `
UPDATE ${n.jobs} SET progress = @progress, progress_message = @message, updated_at = @now
WHERE id = @id AND status = 'processing' AND lease_token = @token AND lease_expires_at > @now;`,
  };
}
