import type { SchemaNames } from '../identifiers.js';
import { BIN2, T, type BuiltStatement, type Param } from './common.js';
import { RUN_INSERT_COLUMNS } from './helpers.js';
// ---------------------------------------------------------------------------------------------
// Jobs whose attempt 1 ran before they were stored (insertAttempted)

/** One job the insert just wrote as `new`, and how its attempt 1 went (serialized by the writer). */
export interface AttemptedRowInput {
  id: string;
  kind: 'retry' | 'failed' | 'done';
  startedAt: Date;
  finishedAt: Date;
  owner: string;
  host: string | null;
  /** JSON of the JobError, for retry / failed. */
  error: string | null;
  runAt: Date;
  result: string | null;
}

export const ATTEMPTED_PARAMS_PER_ROW = 9;

/** A log line of an attempt 1, for attemptedLogs: `job` indexes the statement's job ids. */
export interface AttemptedLogLine {
  job: number;
  at: Date;
  level: string;
  message: string;
}

export const ATTEMPTED_LOG_PARAMS_PER_LINE = 3;

/**
 * recordAttempted — why: runs in the writer's transaction right after insertJobs wrote these jobs as
 * `new`, so nobody ever sees them so. One UPDATE joined comma-style to a VALUES list (the form
 * Babelfish reads) gives each row what a claim and an outcome would have: attempts 1, the attempt's
 * start, executor and host, then retry (run_at, last_error) or final (finished_at; last_error or
 * result). It touches only rows still as the insert made them (new, no attempt, never started), so
 * a transaction retried after its commit was lost writes no second run. OUTPUT inserted.id INTO a
 * table variable says which rows it applied; attempt 1's run (retry and failed; core derives a done
 * run from the row) is written for those only, from the same VALUES list, whose parameters the
 * statement binds once. XACT_ABORT: any error, or a client time-out, dooms the writer's transaction
 * rather than leaving half of it.
 *
 * Unique-key scopes (migration 4): attempt 1 was the job's first claim, so a 'queued' key is let go;
 * an 'unfinished' one too when that attempt ended it. Such a job has no parents and no key (core
 * refuses both) and nothing can wait on it yet, so nothing else is settled.
 */
export function recordAttempted(n: SchemaNames, rows: readonly AttemptedRowInput[]): BuiltStatement {
  const params: Param[] = [];
  const values = rows.map((r, i) => {
    params.push(
      { name: `i${i}`, type: T.id, value: r.id },
      { name: `k${i}`, type: T.status, value: r.kind },
      { name: `s${i}`, type: T.time, value: r.startedAt },
      { name: `f${i}`, type: T.time, value: r.finishedAt },
      { name: `o${i}`, type: T.name, value: r.owner },
      { name: `h${i}`, type: T.host, value: r.host },
      { name: `e${i}`, type: T.text, value: r.error },
      { name: `r${i}`, type: T.time, value: r.runAt },
      { name: `x${i}`, type: T.text, value: r.result },
    );
    return `(@i${i}, @k${i}, @s${i}, @f${i}, @o${i}, @h${i}, @e${i}, @r${i}, @x${i})`;
  });
  const v = `(VALUES ${values.join(', ')}) AS v (id, kind, started_at, finished_at, owner, host, error, run_at, result)`;
  return {
    name: 'recordAttempted',
    usesNow: true,
    params,
    text: `
SET XACT_ABORT ON;
DECLARE @applied TABLE (id char(36) ${BIN2} NOT NULL PRIMARY KEY);
UPDATE j SET
  status = v.kind, attempts = 1, run_at = v.run_at, last_error = v.error, result = v.result,
  started_at = v.started_at, executor_id = v.owner, host = v.host,
  finished_at = CASE WHEN v.kind IN ('done', 'failed') THEN v.finished_at ELSE NULL END,
  unique_held = CASE WHEN j.unique_scope = 'queued' OR (j.unique_scope = 'unfinished' AND v.kind IN ('done', 'failed'))
                     THEN 0 ELSE j.unique_held END,
  updated_at = @now
OUTPUT inserted.id INTO @applied (id)
FROM ${n.jobs} AS j, ${v}
WHERE j.id = v.id AND j.status = 'new' AND j.attempts = 0 AND j.started_at IS NULL;
INSERT INTO ${n.runs} (${RUN_INSERT_COLUMNS})
SELECT a.id, 1, v.owner, v.host, v.kind, v.started_at, v.finished_at, v.error, NULL, NULL
FROM @applied AS a, ${v}
WHERE v.id = a.id AND v.kind IN ('retry', 'failed');
SELECT id FROM @applied;`,
  };
}

/**
 * attemptedLogs — why: the log lines of attempts recordAttempted applied (the writer sends only
 * those, in the same transaction), under attempt 1, in their order: ORDER BY on their position
 * fixes the order identity values are assigned in. Separate from recordAttempted because one
 * attempt may log up to a thousand lines, more than the parameters one statement may bind beside
 * its rows; the writer chunks them. Each job id is bound once per statement.
 */
export function attemptedLogs(
  n: SchemaNames,
  jobIds: readonly string[],
  lines: readonly AttemptedLogLine[],
): BuiltStatement {
  const params: Param[] = jobIds.map((id, i) => ({ name: `i${i}`, type: T.id, value: id }));
  const values = lines.map((l, m) => {
    params.push(
      { name: `la${m}`, type: T.time, value: l.at },
      { name: `ll${m}`, type: T.level, value: l.level },
      { name: `lm${m}`, type: T.logMessage, value: l.message },
    );
    return `(@i${l.job}, ${m}, @la${m}, @ll${m}, @lm${m})`;
  });
  return {
    name: 'attemptedLogs',
    usesNow: false,
    params,
    text: `
INSERT INTO ${n.logs} (job_id, attempt, logged_at, level, message)
SELECT l.id, 1, l.logged_at, l.level, l.message
FROM (VALUES ${values.join(', ')}) AS l (id, ord, logged_at, level, message)
ORDER BY l.ord;`,
  };
}
