/**
 * Every T-SQL statement the store runs, one named builder per operation, each with a line on why it
 * is shaped so. Written against the SQL Server 2017+ documentation (table hints, OUTPUT clause,
 * sp_getapplock, filtered indexes, THROW, STRING_ESCAPE, DATEADD, OFFSET/FETCH).
 *
 * Rules that hold for all of them:
 * - Values are always bound parameters (`request.input`); the only text spliced in is the schema's
 *   table names (validated and bracket-quoted, see identifiers.ts) and generated placeholder names
 *   (`@i0`, `@i1`, ...) for variable-length lists.
 * - `@now` is the store's "now": bound as a parameter when the store has a Clock, otherwise declared at
 *   the top of the batch as `SYSUTCDATETIME()` (see runner.ts). Every statement that compares against
 *   the time uses it, so tests move time instead of sleeping.
 * - A request may bind at most 2100 parameters (SQL Server's limit for an RPC call); builders that take
 *   lists are called with chunks sized by `MAX_PARAMS`.
 * - Times are datetime2(3) in UTC: millisecond precision, exactly what a JS Date holds.
 */
import sql from 'mssql';
import type { SchemaNames } from './identifiers.js';

/** One parameter of a statement. */
export interface Param {
  name: string;
  type: sql.ISqlType | (() => sql.ISqlType);
  value: unknown;
}

/** A statement ready to run: its name (for errors and tests), text and bound parameters. */
export interface BuiltStatement {
  name: string;
  text: string;
  params: Param[];
  /** True if the text uses @now, which the runner binds or declares. */
  usesNow: boolean;
}

/** Parameters per request we allow ourselves: under SQL Server's 2100, leaving room for scalars. */
export const MAX_PARAMS = 2000;

// Column types, one place: they must match the migration's columns.
export const T = {
  id: () => sql.VarChar(36),
  token: () => sql.VarChar(36),
  queue: () => sql.NVarChar(100),
  name: () => sql.NVarChar(200),
  status: () => sql.VarChar(10),
  text: () => sql.NVarChar(sql.MAX),
  uniqueKey: () => sql.NVarChar(512),
  time: () => sql.DateTime2(3),
  int: () => sql.Int(),
  bit: () => sql.Bit(),
} as const;

/** The job columns in the order every SELECT / OUTPUT lists them. */
export const JOB_COLUMNS = [
  'id',
  'queue',
  'target',
  'method',
  'args',
  'status',
  'run_at',
  'attempts',
  'max_attempts',
  'retry',
  'last_error',
  'lease_owner',
  'lease_token',
  'lease_expires_at',
  'progress',
  'metadata',
  'unique_key',
  'created_at',
  'updated_at',
  'finished_at',
] as const;

export const SCHEDULE_COLUMNS = [
  'name',
  'cron',
  'time_zone',
  'target',
  'method',
  'args',
  'queue',
  'retry',
  'metadata',
  'misfire',
  'paused',
  'next_fire_at',
  'last_fire_at',
  'version',
  'created_at',
  'updated_at',
] as const;

const cols = (prefix: string, list: readonly string[]) => list.map((c) => `${prefix}${c}`).join(', ');

/** `@p0, @p1, ...` placeholders and their params for a list of values of one type. */
function list(prefix: string, type: Param['type'], values: readonly unknown[]): { text: string; params: Param[] } {
  const params = values.map((value, i) => ({ name: `${prefix}${i}`, type, value }));
  return { text: params.map((p) => `@${p.name}`).join(', '), params };
}

// ---------------------------------------------------------------------------------------------
// Enqueue

/** A job as the insert statement binds it (serialized by the writer). */
export interface JobRowInput {
  id: string;
  queue: string;
  target: string;
  method: string;
  args: string;
  runAt: Date | null;
  maxAttempts: number;
  retry: string;
  metadata: string;
  uniqueKey: string | null;
}

export const INSERT_PARAMS_PER_JOB = 10;

/**
 * insertJobs — why: one multi-row INSERT ... SELECT FROM (VALUES ...) per chunk, so a job (or a batch)
 * is one round trip with no "inserting" state. A row whose unique key is already held is filtered out
 * by NOT EXISTS under (UPDLOCK, HOLDLOCK): the key-range lock makes a concurrent insert of the same key
 * wait for us instead of racing past the check; 2627/2601 are still caught by the writer as the
 * backstop (not MERGE, whose upsert races are well documented). A row whose id already exists is
 * skipped too, so re-running the statement after a connection dropped mid-commit is harmless. The
 * second statement, in the same round trip, reads which of the chunk's ids now exist and who holds
 * the chunk's unique keys: that answers every job's id. Within-chunk duplicate keys are removed by
 * the writer before this is built.
 */
export function insertJobs(n: SchemaNames, jobs: readonly JobRowInput[]): BuiltStatement {
  const params: Param[] = [];
  const rows = jobs.map((j, i) => {
    const p = (name: string, type: Param['type'], value: unknown) => {
      params.push({ name: `${name}${i}`, type, value });
      return `@${name}${i}`;
    };
    return `(${[
      p('id', T.id, j.id),
      p('q', T.queue, j.queue),
      p('tg', T.name, j.target),
      p('m', T.name, j.method),
      p('a', T.text, j.args),
      p('r', T.time, j.runAt),
      p('ma', T.int, j.maxAttempts),
      p('rp', T.text, j.retry),
      p('md', T.text, j.metadata),
      p('uk', T.uniqueKey, j.uniqueKey),
    ].join(', ')})`;
  });
  const ids = jobs.map((_, i) => `@id${i}`);
  const keyed = jobs.flatMap((j, i) => (j.uniqueKey === null ? [] : [`@uk${i}`]));
  return {
    name: 'insertJobs',
    usesNow: true,
    params,
    text: `
INSERT INTO ${n.jobs} (${JOB_COLUMNS.join(', ')})
SELECT v.id, v.queue, v.target, v.method, v.args, 'new', COALESCE(v.run_at, @now), 0, v.max_attempts, v.retry,
       NULL, NULL, NULL, NULL, NULL, v.metadata, v.unique_key, @now, @now, NULL
FROM (VALUES ${rows.join(',\n  ')}) AS v (id, queue, target, method, args, run_at, max_attempts, retry, metadata, unique_key)
WHERE NOT EXISTS (SELECT 1 FROM ${n.jobs} AS d WHERE d.id = v.id)
  AND (v.unique_key IS NULL
       OR NOT EXISTS (SELECT 1 FROM ${n.jobs} AS x WITH (UPDLOCK, HOLDLOCK) WHERE x.unique_key = v.unique_key));
SELECT h.id, h.unique_key FROM ${n.jobs} AS h
WHERE h.id IN (${ids.join(', ')})${keyed.length === 0 ? '' : ` OR h.unique_key IN (${keyed.join(', ')})`};`,
  };
}

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
 * 2. The claim: the CTE picks TOP (@limit) claimable rows in (run_at, id) order WITH (ROWLOCK, READPAST,
 *    UPDLOCK, READCOMMITTEDLOCK): UPDLOCK takes update locks as rows are read so two claimers cannot both pick a row,
 *    READPAST makes a claimer skip rows another claimer has locked instead of queueing behind it, and
 *    ROWLOCK keeps those locks at row level. Updating the CTE updates the base rows; OUTPUT returns
 *    them as changed (the docs give no order for OUTPUT, so the caller sorts). NEWID() is evaluated
 *    per row, giving each claimed job its own lease token.
 */
export function claimJobs(
  n: SchemaNames,
  req: { queues: readonly string[]; limit: number; owner: string; leaseMs: number },
  leaseErrorJson: { head: string; tail: string },
): BuiltStatement {
  const queues = list('q', T.queue, req.queues);
  return {
    name: 'claimJobs',
    usesNow: true,
    params: [
      ...queues.params,
      { name: 'limit', type: T.int, value: req.limit },
      { name: 'owner', type: T.name, value: req.owner },
      { name: 'leaseMs', type: T.int, value: req.leaseMs },
      { name: 'errHead', type: T.text, value: leaseErrorJson.head },
      { name: 'errTail', type: T.text, value: leaseErrorJson.tail },
    ],
    text: `
UPDATE j SET
  status = CASE WHEN j.attempts >= j.max_attempts THEN 'failed' ELSE 'retry' END,
  last_error = CASE WHEN j.attempts >= j.max_attempts
                    THEN CONCAT(@errHead, STRING_ESCAPE(j.lease_owner, 'json'), @errTail) ELSE j.last_error END,
  finished_at = CASE WHEN j.attempts >= j.max_attempts THEN @now ELSE j.finished_at END,
  updated_at = CASE WHEN j.attempts >= j.max_attempts THEN @now ELSE j.updated_at END,
  lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
FROM ${n.jobs} AS j WITH (ROWLOCK, READPAST, READCOMMITTEDLOCK)
WHERE j.status = 'processing' AND j.lease_expires_at <= @now;

WITH picked AS (
  SELECT TOP (@limit) *
  FROM ${n.jobs} WITH (ROWLOCK, READPAST, UPDLOCK, READCOMMITTEDLOCK)
  WHERE status IN ('new', 'retry') AND run_at <= @now AND queue IN (${queues.text})
  ORDER BY run_at, id
)
UPDATE picked SET
  status = 'processing',
  attempts = attempts + 1,
  lease_owner = @owner,
  lease_token = LOWER(CONVERT(char(36), NEWID())),
  lease_expires_at = DATEADD(millisecond, @leaseMs, @now),
  updated_at = @now
OUTPUT ${cols('inserted.', JOB_COLUMNS)};`,
  };
}

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
}

export const OUTCOME_PARAMS_PER_ROW = 5;

/**
 * recordOutcomes — why: one UPDATE joined to a VALUES list applies a whole batch of outcomes in one
 * round trip. The fence is in the WHERE clause: the row must still be `processing` under that very
 * token with an unexpired lease, so a late or duplicate write from an executor that lost its lease
 * changes nothing. OUTPUT inserted.id, v.token tells which outcomes took effect. The caller sends at
 * most one outcome per job per statement (a row joined twice would be updated once, arbitrarily).
 * 'released' gives back the attempt and makes the job claimable at @now.
 */
export function recordOutcomes(n: SchemaNames, rows: readonly OutcomeRow[]): BuiltStatement {
  const params: Param[] = [];
  const values = rows.map((r, i) => {
    params.push(
      { name: `i${i}`, type: T.id, value: r.jobId },
      { name: `t${i}`, type: T.token, value: r.token },
      { name: `k${i}`, type: T.status, value: r.kind },
      { name: `e${i}`, type: T.text, value: r.error },
      { name: `r${i}`, type: T.time, value: r.runAt },
    );
    return `(@i${i}, @t${i}, @k${i}, @e${i}, @r${i})`;
  });
  return {
    name: 'recordOutcomes',
    usesNow: true,
    params,
    text: `
UPDATE j SET
  status = CASE v.kind WHEN 'released' THEN CASE WHEN j.attempts > 1 THEN 'retry' ELSE 'new' END ELSE v.kind END,
  attempts = CASE WHEN v.kind = 'released' THEN j.attempts - 1 ELSE j.attempts END,
  last_error = CASE WHEN v.kind IN ('failed', 'retry') THEN v.error ELSE j.last_error END,
  run_at = CASE v.kind WHEN 'retry' THEN v.run_at WHEN 'released' THEN @now ELSE j.run_at END,
  finished_at = CASE WHEN v.kind IN ('done', 'failed') THEN @now ELSE j.finished_at END,
  lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
  updated_at = @now
OUTPUT inserted.id, v.token
FROM ${n.jobs} AS j
JOIN (VALUES ${values.join(', ')}) AS v (id, token, kind, error, run_at) ON j.id = v.id
WHERE j.status = 'processing' AND j.lease_token = v.token AND j.lease_expires_at > @now;`,
  };
}

export const LEASE_PARAMS_PER_ROW = 2;

/**
 * extendLeases — why: the same fenced join as recordOutcomes, touching only lease_expires_at, so a
 * batch of running jobs is kept alive in one round trip and a lease already lost stays lost.
 */
export function extendLeases(n: SchemaNames, leases: readonly { jobId: string; token: string }[], leaseMs: number): BuiltStatement {
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
FROM ${n.jobs} AS j
JOIN (VALUES ${values.join(', ')}) AS v (id, token) ON j.id = v.id
WHERE j.status = 'processing' AND j.lease_token = v.token AND j.lease_expires_at > @now;`,
  };
}

/** reportProgress — why: a single fenced UPDATE; @@ROWCOUNT (rowsAffected) answers whether the lease held. */
export function reportProgress(n: SchemaNames, lease: { jobId: string; token: string }, progress: string): BuiltStatement {
  return {
    name: 'reportProgress',
    usesNow: true,
    params: [
      { name: 'id', type: T.id, value: lease.jobId },
      { name: 'token', type: T.token, value: lease.token },
      { name: 'progress', type: T.text, value: progress },
    ],
    text: `
UPDATE ${n.jobs} SET progress = @progress, updated_at = @now
WHERE id = @id AND status = 'processing' AND lease_token = @token AND lease_expires_at > @now;`,
  };
}

// ---------------------------------------------------------------------------------------------
// Admin

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
 */
export function listJobs(
  n: SchemaNames,
  f: { statuses?: readonly string[]; queue?: string; target?: string; limit: number; offset: number },
): BuiltStatement {
  const where: string[] = [];
  const params: Param[] = [
    { name: 'offset', type: T.int, value: f.offset },
    { name: 'limit', type: T.int, value: f.limit },
  ];
  if (f.statuses !== undefined) {
    const s = list('s', T.status, f.statuses);
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

/** cancelJob — why: one conditional UPDATE; clearing the lease is what fences out a running executor. */
export function cancelJob(n: SchemaNames, id: string): BuiltStatement {
  return {
    name: 'cancelJob',
    usesNow: true,
    params: [{ name: 'id', type: T.id, value: id }],
    text: `
UPDATE ${n.jobs} SET status = 'cancelled', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
  finished_at = @now, updated_at = @now
WHERE id = @id AND status IN ('new', 'retry', 'processing');`,
  };
}

/** requeueJob — why: one conditional UPDATE from a final state back to `new` with attempts reset. */
export function requeueJob(n: SchemaNames, id: string, runAt: Date | null): BuiltStatement {
  return {
    name: 'requeueJob',
    usesNow: true,
    params: [
      { name: 'id', type: T.id, value: id },
      { name: 'runAt', type: T.time, value: runAt },
    ],
    text: `
UPDATE ${n.jobs} SET status = 'new', attempts = 0, run_at = COALESCE(@runAt, @now), finished_at = NULL, updated_at = @now
WHERE id = @id AND status IN ('done', 'failed', 'cancelled');`,
  };
}

/**
 * purgeJobs — why: one DELETE of final rows; deleting the row is what frees its unique key (the
 * filtered unique index covers every state).
 */
export function purgeJobs(n: SchemaNames, f: { statuses: readonly string[]; queue?: string; finishedBefore?: Date }): BuiltStatement {
  const s = list('s', T.status, f.statuses);
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

/** corruptJobArgs — why: test support only (the contract suite's "bad stored data" case); never called by the store. */
export function corruptJobArgs(n: SchemaNames, id: string): BuiltStatement {
  return {
    name: 'corruptJobArgs',
    usesNow: false,
    params: [
      { name: 'id', type: T.id, value: id },
      { name: 'junk', type: T.text, value: '{not json' },
    ],
    text: `UPDATE ${n.jobs} SET args = @junk WHERE id = @id;`,
  };
}

// ---------------------------------------------------------------------------------------------
// Schedules

export interface ScheduleRowInput {
  name: string;
  cron: string;
  timeZone: string;
  target: string;
  method: string;
  args: string;
  queue: string;
  retry: string;
  metadata: string;
  misfire: string;
  paused: boolean;
  nextFireAt: Date | null;
  lastFireAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

function scheduleParams(s: ScheduleRowInput): Param[] {
  return [
    { name: 'name', type: T.name, value: s.name },
    { name: 'cron', type: T.name, value: s.cron },
    { name: 'tz', type: T.queue, value: s.timeZone },
    { name: 'target', type: T.name, value: s.target },
    { name: 'method', type: T.name, value: s.method },
    { name: 'args', type: T.text, value: s.args },
    { name: 'queue', type: T.queue, value: s.queue },
    { name: 'retry', type: T.text, value: s.retry },
    { name: 'metadata', type: T.text, value: s.metadata },
    { name: 'misfire', type: T.text, value: s.misfire },
    { name: 'paused', type: T.bit, value: s.paused },
    { name: 'next', type: T.time, value: s.nextFireAt },
    { name: 'last', type: T.time, value: s.lastFireAt },
    { name: 'version', type: T.int, value: s.version },
    { name: 'created', type: T.time, value: s.createdAt },
    { name: 'updated', type: T.time, value: s.updatedAt },
  ];
}

/**
 * insertSchedule — why: INSERT ... WHERE NOT EXISTS answers "name taken" without an error in the common
 * case; the primary key (2627) stays the arbiter when two inserts race, and the caller maps it to false.
 */
export function insertSchedule(n: SchemaNames, s: ScheduleRowInput): BuiltStatement {
  return {
    name: 'insertSchedule',
    usesNow: false,
    params: scheduleParams(s),
    text: `
INSERT INTO ${n.schedules} (${SCHEDULE_COLUMNS.join(', ')})
SELECT @name, @cron, @tz, @target, @method, @args, @queue, @retry, @metadata, @misfire, @paused, @next, @last, @version, @created, @updated
WHERE NOT EXISTS (SELECT 1 FROM ${n.schedules} WITH (UPDLOCK, HOLDLOCK) WHERE name = @name);`,
  };
}

/** getSchedule — why: a primary-key seek. */
export function getSchedule(n: SchemaNames, name: string): BuiltStatement {
  return {
    name: 'getSchedule',
    usesNow: false,
    params: [{ name: 'name', type: T.name, value: name }],
    text: `SELECT ${SCHEDULE_COLUMNS.join(', ')} FROM ${n.schedules} WHERE name = @name;`,
  };
}

/** listSchedules — why: all of them, by name (BIN2, so the order is code-point order, as in JS). */
export function listSchedules(n: SchemaNames): BuiltStatement {
  return { name: 'listSchedules', usesNow: false, params: [], text: `SELECT ${SCHEDULE_COLUMNS.join(', ')} FROM ${n.schedules} ORDER BY name;` };
}

/**
 * updateSchedule — why: compare-and-set in one UPDATE: the WHERE clause requires the version the
 * caller read, and the new version is that plus one, so of two executors advancing the same schedule
 * exactly one sees rowsAffected = 1.
 */
export function updateSchedule(n: SchemaNames, s: ScheduleRowInput, expectedVersion: number): BuiltStatement {
  return {
    name: 'updateSchedule',
    usesNow: false,
    params: [...scheduleParams(s).filter((p) => p.name !== 'version' && p.name !== 'created'), { name: 'expected', type: T.int, value: expectedVersion }],
    text: `
UPDATE ${n.schedules} SET cron = @cron, time_zone = @tz, target = @target, method = @method, args = @args, queue = @queue,
  retry = @retry, metadata = @metadata, misfire = @misfire, paused = @paused, next_fire_at = @next, last_fire_at = @last,
  updated_at = @updated, version = @expected + 1
WHERE name = @name AND version = @expected;`,
  };
}

/** deleteSchedule — why: a primary-key DELETE; rowsAffected answers whether it existed. */
export function deleteSchedule(n: SchemaNames, name: string): BuiltStatement {
  return {
    name: 'deleteSchedule',
    usesNow: false,
    params: [{ name: 'name', type: T.name, value: name }],
    text: `DELETE FROM ${n.schedules} WHERE name = @name;`,
  };
}

/** listDueSchedules — why: the filtered index on unpaused next_fire_at makes this a range seek; `due` is the caller's time, not @now. */
export function listDueSchedules(n: SchemaNames, due: Date, limit: number): BuiltStatement {
  return {
    name: 'listDueSchedules',
    usesNow: false,
    params: [
      { name: 'due', type: T.time, value: due },
      { name: 'limit', type: T.int, value: limit },
    ],
    text: `
SELECT TOP (@limit) ${SCHEDULE_COLUMNS.join(', ')} FROM ${n.schedules}
WHERE paused = 0 AND next_fire_at IS NOT NULL AND next_fire_at <= @due
ORDER BY next_fire_at, name;`,
  };
}

// ---------------------------------------------------------------------------------------------
// Schema version

/** schemaVersion — why: OBJECT_ID first, so a database the store never touched answers 0, not an error. */
export function schemaVersion(n: SchemaNames): BuiltStatement {
  return {
    name: 'schemaVersion',
    usesNow: false,
    params: [],
    text: `
IF OBJECT_ID(N'${n.migrations}', N'U') IS NULL SELECT CAST(0 AS int) AS version
ELSE SELECT COALESCE(MAX(version), 0) AS version FROM ${n.migrations};`,
  };
}

/**
 * dropSchema — why: removes everything the store created (tests, uninstall). DROP ... IF EXISTS needs
 * SQL Server 2016+; tables go before the schema, which must be empty to be dropped.
 */
export function dropSchema(n: SchemaNames): BuiltStatement {
  return {
    name: 'dropSchema',
    usesNow: false,
    params: [],
    text: `
DROP TABLE IF EXISTS ${n.jobs};
DROP TABLE IF EXISTS ${n.schedules};
DROP TABLE IF EXISTS ${n.migrations};
DROP SCHEMA IF EXISTS ${n.quotedSchema};`,
  };
}
