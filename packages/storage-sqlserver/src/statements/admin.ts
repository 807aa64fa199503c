import { InvalidOptionError } from '@oddjob/core';
import type { SchemaNames } from '../identifiers.js';
import { BIN2, JOB_COLUMNS, T, type BuiltStatement, type Param } from './common.js';
import { admitText, flowDeclarations, lockKeysText, settleParams, settleText, type ErrorJsonParts } from './flow.js';
import { HAS_RUN, list, RUN_INSERT_COLUMNS, runAttempt } from './helpers.js';
// ---------------------------------------------------------------------------------------------
// Admin

/**
 * A status filter as parameters: each distinct status once. There are seven job statuses, so a filter
 * can never need more than a handful of parameters however often a caller repeats one (the 2100
 * limit); more distinct values than that cannot all be statuses and are refused here rather than
 * sent. Parameters rather than one STRING_SPLIT string because STRING_SPLIT needs database
 * compatibility level 130 even on SQL Server 2016+ (an upgraded database may sit lower).
 */
export const MAX_STATUS_FILTER = 7;

function statusFilter(statuses: readonly string[]): ReturnType<typeof list> {
  const distinct = [...new Set(statuses)];
  if (distinct.length > MAX_STATUS_FILTER) {
    throw new InvalidOptionError(
      'status',
      `a filter names at most ${MAX_STATUS_FILTER} distinct statuses, got ${distinct.length}`,
    );
  }
  return list('s', T.status, distinct);
}

/** getJob — why: a primary-key seek. */
export function getJob(n: SchemaNames, id: string): BuiltStatement {
  return {
    name: 'getJob',
    usesNow: false,
    params: [{ name: 'id', type: T.id, value: id }],
    text: `SELECT ${JOB_COLUMNS.join(', ')} FROM ${n.jobs} WHERE id = @id;`,
  };
}

/**
 * listJobs — why: only the filters given become predicates (each bound), ordered by id (= creation
 * order, ids are UUIDv7 compared byte-wise under the BIN2 collation), paged with OFFSET/FETCH.
 * `fromId` (core's uuidBoundAfter of the caller's afterId) is an inclusive lower bound that is always
 * 36 characters of UUID text: `id >= @fromId` seeks the clustered primary key, and comparing the
 * char(36) column with a varchar(36) parameter of the same length leaves no trailing-space padding
 * rule to make SQL Server disagree with the string order the other stores use.
 */
export function listJobs(
  n: SchemaNames,
  f: {
    statuses?: readonly string[];
    queue?: string;
    target?: string;
    fromId?: string;
    sequenceRun?: string;
    sequence?: string;
    limit: number;
    offset: number;
  },
): BuiltStatement {
  const where: string[] = [];
  const params: Param[] = [
    { name: 'offset', type: T.int, value: f.offset },
    { name: 'limit', type: T.int, value: f.limit },
  ];
  if (f.fromId !== undefined) {
    where.push('id >= @fromId');
    params.push({ name: 'fromId', type: T.id, value: f.fromId });
  }
  if (f.statuses !== undefined) {
    const s = statusFilter(f.statuses);
    where.push(`status IN (${s.text})`);
    params.push(...s.params);
  }
  if (f.queue !== undefined) {
    where.push('queue = @queue');
    params.push({ name: 'queue', type: T.queue, value: f.queue });
  }
  if (f.target !== undefined) {
    where.push('target = @target');
    params.push({ name: 'target', type: T.name, value: f.target });
  }
  // Sequence filters (migration 4): each has a filtered index on (column, id), so a run's steps are
  // a seek in id order. sequence_run is char(36): a value of another length cannot match.
  if (f.sequenceRun !== undefined) {
    where.push('sequence_run = @seqRun');
    params.push({ name: 'seqRun', type: T.id, value: f.sequenceRun });
  }
  if (f.sequence !== undefined) {
    where.push('sequence_name = @seqName');
    params.push({ name: 'seqName', type: T.name, value: f.sequence });
  }
  return {
    name: 'listJobs',
    usesNow: false,
    params,
    text: `SELECT ${JOB_COLUMNS.join(', ')} FROM ${n.jobs}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
ORDER BY id OFFSET @offset ROWS FETCH NEXT @limit ROWS ONLY;`,
  };
}

/** countJobs — why: one GROUP BY; COUNT (int) rather than COUNT_BIG because tedious returns bigint as a string. */
export function countJobs(n: SchemaNames, queue?: string): BuiltStatement {
  return {
    name: 'countJobs',
    usesNow: false,
    params: queue === undefined ? [] : [{ name: 'queue', type: T.queue, value: queue }],
    text: `SELECT queue, status, COUNT(*) AS n FROM ${n.jobs}${queue === undefined ? '' : ' WHERE queue = @queue'} GROUP BY queue, status;`,
  };
}

/**
 * cancelJob — why: one conditional UPDATE; clearing the lease is what fences out a running executor.
 * A job cancelled while it ran ends that run with a 'cancelled' record, written in the same
 * transaction: the UPDATE has no FROM clause (a primary-key update), the one place deleted.* is read,
 * for the status the row had; the record is built from the row after the UPDATE, which leaves every
 * column a run reads alone. The caller reads the count, not rowsAffected.
 *
 * Migration 4: a waiting job can be cancelled too, and the cancelled job is settled (settleText): its
 * children record it and are decided, its unique key is let go if scoped, and its key's next job is
 * admitted. The key's lock is taken before the UPDATE when the job holds a slot (an admitted job).
 */
export function cancelJob(n: SchemaNames, id: string, dependencyError: ErrorJsonParts): BuiltStatement {
  return {
    name: 'cancelJob',
    usesNow: true,
    params: [{ name: 'id', type: T.id, value: id }, ...settleParams(dependencyError)],
    text: `
SET XACT_ABORT ON;
DECLARE @c TABLE (id char(36) ${BIN2} NOT NULL, was varchar(10) NOT NULL);
${flowDeclarations()}
BEGIN TRANSACTION;
INSERT INTO @freed (k) SELECT concurrency_key FROM ${n.jobs}
WHERE id = @id AND concurrency_key IS NOT NULL AND status IN ('new', 'retry', 'processing');
${lockKeysText(n, 'pre')}
UPDATE ${n.jobs} SET status = 'cancelled', waiting_for = NULL, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
  finished_at = @now, updated_at = @now
OUTPUT inserted.id, deleted.status INTO @c (id, was)
WHERE id = @id AND status IN ('waiting', 'new', 'retry', 'processing');
INSERT INTO ${n.runs} (${RUN_INSERT_COLUMNS})
SELECT j.id, ${runAttempt('j.attempts')}, j.executor_id, j.host, 'cancelled', j.started_at, @now, NULL, j.progress, j.progress_message
FROM @c AS c JOIN ${n.jobs} AS j ON j.id = c.id
WHERE c.was = 'processing' AND ${HAS_RUN};
INSERT INTO @final (id, status) SELECT id, 'cancelled' FROM @c;
${settleText(n)}
COMMIT TRANSACTION;
SELECT COUNT(*) AS n FROM @c;`,
  };
}

/**
 * requeueJob — why: one conditional UPDATE from a final state back to `new` with attempts reset and
 * the result cleared. A done job's run was only ever derived from its row, which this overwrites, so
 * it is first kept as a record (core's endedRun(row, 'done', null, finishedAt)), in the same
 * transaction: attempts and finished_at come from deleted.* of this primary-key UPDATE (no FROM
 * clause), the rest from the row after it. Failed and cancelled jobs already have their run recorded.
 *
 * Migration 4: a requeued job does not wait for its parents again (they decided it once) and does
 * not take back a unique key it let go (unique_held is left as it is).
 */
export function requeueJob(n: SchemaNames, id: string, runAt: Date | null): BuiltStatement {
  // A keyed job goes back through its key: it waits for a slot, and admitText lets it in at once if
  // the key has room (in claim order with the key's other waiting jobs); 'allow' goes at once.
  const placed = "concurrency_key IS NULL OR already_running = 'allow'";
  return {
    name: 'requeueJob',
    usesNow: true,
    params: [
      { name: 'id', type: T.id, value: id },
      { name: 'runAt', type: T.time, value: runAt },
    ],
    text: `
SET XACT_ABORT ON;
DECLARE @r TABLE (id char(36) ${BIN2} NOT NULL, was varchar(10) NOT NULL, attempts int NOT NULL, finished_at datetime2(3) NULL);
${flowDeclarations()}
BEGIN TRANSACTION;
INSERT INTO @freed (k) SELECT concurrency_key FROM ${n.jobs}
WHERE id = @id AND concurrency_key IS NOT NULL AND status IN ('done', 'failed', 'cancelled');
${lockKeysText(n, 'pre')}
UPDATE ${n.jobs} SET status = CASE WHEN ${placed} THEN 'new' ELSE 'waiting' END,
  waiting_for = CASE WHEN ${placed} THEN NULL ELSE 'slot' END, attempts = 0, result = NULL, run_at = COALESCE(@runAt, @now), finished_at = NULL, updated_at = @now
OUTPUT inserted.id, deleted.status, deleted.attempts, deleted.finished_at INTO @r (id, was, attempts, finished_at)
WHERE id = @id AND status IN ('done', 'failed', 'cancelled');
INSERT INTO ${n.runs} (${RUN_INSERT_COLUMNS})
SELECT j.id, ${runAttempt('r.attempts')}, j.executor_id, j.host, 'done', j.started_at, COALESCE(r.finished_at, @now), NULL, j.progress, j.progress_message
FROM @r AS r JOIN ${n.jobs} AS j ON j.id = r.id
WHERE r.was = 'done' AND ${HAS_RUN};
IF EXISTS (SELECT 1 FROM @freed)
BEGIN
  ${admitText(n).split('\n').join('\n  ')}
END;
COMMIT TRANSACTION;
SELECT COUNT(*) AS n FROM @r;`,
  };
}

/**
 * purgeJobs — why: one DELETE of final rows; deleting the row is what frees its unique key (the
 * filtered unique index covers every state), and the foreign keys' ON DELETE CASCADE removes the
 * job's runs and logs in the same statement (migration 2).
 */
export function purgeJobs(
  n: SchemaNames,
  f: { statuses: readonly string[]; queue?: string; finishedBefore?: Date },
): BuiltStatement {
  const s = statusFilter(f.statuses);
  const params = [...s.params];
  const where = [`status IN (${s.text})`];
  if (f.queue !== undefined) {
    where.push('queue = @queue');
    params.push({ name: 'queue', type: T.queue, value: f.queue });
  }
  if (f.finishedBefore !== undefined) {
    where.push('finished_at < @before');
    params.push({ name: 'before', type: T.time, value: f.finishedBefore });
  }
  return { name: 'purgeJobs', usesNow: false, params, text: `DELETE FROM ${n.jobs} WHERE ${where.join(' AND ')};` };
}
