/**
 * Shared parts of every statement builder. Rules that hold for all statements:
 * - Values are always bound parameters (`request.input`); the only text spliced in is the schema's
 *   table names (validated and bracket-quoted, see identifiers.ts) and generated placeholder names
 *   (`@i0`, `@i1`, ...) for variable-length lists.
 * - `@now` is the store's "now": bound as a parameter when the store has a Clock, otherwise declared at
 *   the top of the batch as `SYSUTCDATETIME()` (see runner.ts). Every statement that compares against
 *   the time uses it, so tests move time instead of sleeping.
 * - A request may bind at most 2100 parameters (SQL Server's limit for an RPC call); builders that take
 *   lists are called with chunks sized by `MAX_PARAMS`.
 * - Times are datetime2(3) in UTC: millisecond precision, exactly what a JS Date holds.
 * - One text for every T-SQL engine the store supports: Microsoft SQL Server 2016+ / Azure SQL and
 *   Babelfish for PostgreSQL. Two shapes SQL Server accepts are refused or misread by Babelfish and
 *   are therefore never used (the unit tests pin this): UPDATE through a CTE, and an OUTPUT clause
 *   naming a VALUES list joined with JOIN ... ON. Nor is `deleted.*` read in an UPDATE that has a
 *   FROM clause: there Babelfish returned another row's old value. Where a statement needs a row as it
 *   was before its UPDATE, it reads the columns that UPDATE leaves alone from the row afterwards.
 * - A batch that writes more than one statement atomically runs its own transaction, and starts
 *   with SET XACT_ABORT ON: then an error, or a client time-out (an attention, which otherwise
 *   abandons the batch with the transaction still open on the pooled connection, locks held), rolls
 *   the whole transaction back. The runner sends every statement with request.query(), which tedious
 *   always runs as an RPC call of sp_executesql (connection.execSql, even without parameters), and
 *   the SET docs say a SET inside sp_executesql reverts when it returns: the setting never leaks to
 *   the next user of the pooled connection. (request.batch() would not have that property; only the
 *   migration batch uses it, inside an mssql Transaction of its own.)
 */
import sql from 'mssql';

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

/** The binary collation of every identifier-like column; a table variable joined to one needs it too (error 468 otherwise). */
export const BIN2 = 'COLLATE Latin1_General_100_BIN2';

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
  host: () => sql.NVarChar(255),
  progressMessage: () => sql.NVarChar(1000),
  logMessage: () => sql.NVarChar(4000),
  level: () => sql.VarChar(5),
  version: () => sql.NVarChar(50),
  seq: () => sql.BigInt(),
  priority: () => sql.SmallInt(),
  scope: () => sql.VarChar(10),
  concurrencyKey: () => sql.NVarChar(512),
  policy: () => sql.VarChar(5),
} as const;

/**
 * The job columns migration 1 created, in table order: what an enqueue writes (the history columns
 * of migration 2 start null, so enqueueing writes what it always did).
 */
export const BASE_JOB_COLUMNS = [
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

/** The columns migration 4 added to jobs (flow.ts), in the order every SELECT / OUTPUT lists them. */
export const FLOW_JOB_COLUMNS = [
  'priority',
  'unique_scope',
  'unique_held',
  'after_json',
  'waiting_for',
  'concurrency_key',
  'concurrency_limit',
  'already_running',
  'sequence_name',
  'sequence_run',
  'sequence_step',
] as const;

/** The job columns in the order every SELECT / OUTPUT lists them: the base ones, then migration 2's, 3's and 4's. */
export const JOB_COLUMNS = [
  ...BASE_JOB_COLUMNS,
  'started_at',
  'executor_id',
  'host',
  'result',
  'progress_message',
  'pinned_host',
  ...FLOW_JOB_COLUMNS,
] as const;

/** The run columns in the order every SELECT lists them (seq breaks ties between equal start times). */
export const RUN_COLUMNS = [
  'job_id',
  'seq',
  'attempt',
  'executor_id',
  'host',
  'state',
  'started_at',
  'finished_at',
  'error',
  'progress',
  'progress_message',
] as const;

export const LOG_COLUMNS = ['job_id', 'seq', 'attempt', 'logged_at', 'level', 'message'] as const;

export const EXECUTOR_COLUMNS = [
  'id',
  'host',
  'pid',
  'version',
  'queues',
  'started_at',
  'state',
  'heartbeat_at',
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
  'priority',
  'concurrency',
] as const;
