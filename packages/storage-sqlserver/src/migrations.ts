/**
 * Versioned, append-only schema migrations.
 *
 * - Each migration is a list of T-SQL statements written against `{schema}`, which is replaced by the
 *   bracket-quoted, validated schema name. A released migration is never edited: a change is a new
 *   migration with the next version (the unit tests pin each migration's checksum to enforce this).
 * - Applying runs ONE batch inside a transaction that first takes an exclusive application lock
 *   (`sp_getapplock`, owner Transaction, so it is released by commit or rollback, never leaked), then
 *   creates the schema and the ledger table if missing, refuses to go on if the ledger holds a version
 *   newer than this library knows (THROW 51001), and applies each missing migration followed by its
 *   ledger row. Two processes starting together therefore apply each migration exactly once.
 * - Every statement of a migration runs through EXEC(N'...'): each is then compiled only when reached,
 *   so a later statement may use a column or table an earlier one created, and statements that must
 *   begin a batch (CREATE SCHEMA) are allowed. The text inside is our own constant DDL plus the
 *   validated schema name — never user data.
 * - `migrationScript()` prints the same batch wrapped in BEGIN TRAN / TRY...CATCH for a DBA to run by
 *   hand (sqlcmd, SSMS, Azure Data Studio); the store runs the body inside an mssql Transaction.
 */
import { createHash } from 'node:crypto';
import type { SchemaNames } from './identifiers.js';
import { FLOW_MIGRATION } from './migration-flow.js';

export interface Migration {
  /** 1, 2, 3, ...: strictly increasing, no gaps. */
  version: number;
  name: string;
  /** Statements with `{schema}` standing for the quoted schema name. */
  statements: readonly string[];
}

/** Error numbers THROWn by the migration batch (user errors must be >= 50000). */
export const MIGRATION_LOCK_FAILED = 51000;
export const SCHEMA_TOO_NEW = 51001;

/** How long the batch waits for another process's migration (sp_getapplock @LockTimeout). */
export const MIGRATION_LOCK_TIMEOUT_MS = 60_000;

const BIN2 = 'COLLATE Latin1_General_100_BIN2';

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'jobs and schedules',
    statements: [
      // Identifier-like text columns use a binary collation: case- and accent-sensitive like the
      // memory store, and ids / names then sort by code point, so "ORDER BY id" is creation order.
      `CREATE TABLE {schema}.[jobs] (
  id char(36) ${BIN2} NOT NULL,
  queue nvarchar(100) ${BIN2} NOT NULL,
  target nvarchar(200) ${BIN2} NOT NULL,
  method nvarchar(200) ${BIN2} NOT NULL,
  args nvarchar(max) NOT NULL,
  status varchar(10) ${BIN2} NOT NULL,
  run_at datetime2(3) NOT NULL,
  attempts int NOT NULL,
  max_attempts int NOT NULL,
  retry nvarchar(max) NOT NULL,
  last_error nvarchar(max) NULL,
  lease_owner nvarchar(200) NULL,
  lease_token char(36) ${BIN2} NULL,
  lease_expires_at datetime2(3) NULL,
  progress nvarchar(max) NULL,
  metadata nvarchar(max) NOT NULL,
  unique_key nvarchar(512) ${BIN2} NULL,
  created_at datetime2(3) NOT NULL,
  updated_at datetime2(3) NOT NULL,
  finished_at datetime2(3) NULL,
  CONSTRAINT [PK_jobs] PRIMARY KEY CLUSTERED (id),
  CONSTRAINT [CK_jobs_status] CHECK (status IN ('new', 'processing', 'retry', 'done', 'failed', 'cancelled')),
  CONSTRAINT [CK_jobs_attempts] CHECK (attempts >= 0 AND max_attempts >= 1)
)`,
      // The claim reads only this index: rows waiting to run, in (queue, run_at, id) order.
      `CREATE NONCLUSTERED INDEX [IX_jobs_claimable] ON {schema}.[jobs] (queue, run_at, id) WHERE status IN ('new', 'retry')`,
      // Expired-lease detection reads only running rows, by expiry.
      `CREATE NONCLUSTERED INDEX [IX_jobs_leases] ON {schema}.[jobs] (lease_expires_at) WHERE status = 'processing'`,
      // One job per unique key across all states, until the holder is purged.
      `CREATE UNIQUE NONCLUSTERED INDEX [UX_jobs_unique_key] ON {schema}.[jobs] (unique_key) WHERE unique_key IS NOT NULL`,
      // Retention purges and admin listings of finished jobs.
      `CREATE NONCLUSTERED INDEX [IX_jobs_finished] ON {schema}.[jobs] (status, finished_at) WHERE finished_at IS NOT NULL`,
      `CREATE TABLE {schema}.[schedules] (
  name nvarchar(200) ${BIN2} NOT NULL,
  cron nvarchar(200) NOT NULL,
  time_zone nvarchar(100) NOT NULL,
  target nvarchar(200) ${BIN2} NOT NULL,
  method nvarchar(200) ${BIN2} NOT NULL,
  args nvarchar(max) NOT NULL,
  queue nvarchar(100) ${BIN2} NOT NULL,
  retry nvarchar(max) NOT NULL,
  metadata nvarchar(max) NOT NULL,
  misfire nvarchar(max) NOT NULL,
  paused bit NOT NULL,
  next_fire_at datetime2(3) NULL,
  last_fire_at datetime2(3) NULL,
  version int NOT NULL,
  created_at datetime2(3) NOT NULL,
  updated_at datetime2(3) NOT NULL,
  CONSTRAINT [PK_schedules] PRIMARY KEY CLUSTERED (name)
)`,
      `CREATE NONCLUSTERED INDEX [IX_schedules_due] ON {schema}.[schedules] (next_fire_at) WHERE paused = 0 AND next_fire_at IS NOT NULL`,
    ],
  },
  {
    version: 2,
    name: 'run history, logs, results, executors',
    statements: [
      // Nullable columns without a default: SQL Server adds them as a metadata-only change (no
      // rewrite of existing rows), so upgrading a large jobs table is instant, and every existing
      // job reads back with them null. One column per ALTER keeps each statement the plainest form.
      `ALTER TABLE {schema}.[jobs] ADD started_at datetime2(3) NULL`,
      `ALTER TABLE {schema}.[jobs] ADD executor_id nvarchar(200) NULL`,
      `ALTER TABLE {schema}.[jobs] ADD host nvarchar(255) NULL`,
      `ALTER TABLE {schema}.[jobs] ADD result nvarchar(max) NULL`,
      `ALTER TABLE {schema}.[jobs] ADD progress_message nvarchar(1000) NULL`,
      // One row per ended attempt that the job's row no longer describes (see core's runs.ts). The
      // key leads with job_id, so listing a job's runs and the cascading delete are both seeks.
      // ON DELETE CASCADE rather than explicit deletes: the database then removes runs and logs for
      // every way a job row goes (purgeJobs, retention, a DBA's own DELETE), and cannot leave orphans.
      `CREATE TABLE {schema}.[job_runs] (
  job_id char(36) ${BIN2} NOT NULL,
  seq bigint IDENTITY(1, 1) NOT NULL,
  attempt int NOT NULL,
  executor_id nvarchar(200) NOT NULL,
  host nvarchar(255) NULL,
  state varchar(10) ${BIN2} NOT NULL,
  started_at datetime2(3) NOT NULL,
  finished_at datetime2(3) NOT NULL,
  error nvarchar(max) NULL,
  progress nvarchar(max) NULL,
  progress_message nvarchar(1000) NULL,
  CONSTRAINT [PK_job_runs] PRIMARY KEY CLUSTERED (job_id, seq),
  CONSTRAINT [FK_job_runs_jobs] FOREIGN KEY (job_id) REFERENCES {schema}.[jobs] (id) ON DELETE CASCADE,
  CONSTRAINT [CK_job_runs_state] CHECK (state IN ('done', 'retry', 'failed', 'cancelled', 'lease-lost', 'released'))
)`,
      // Log lines: seq is one identity for the table, so it increases with every append (the
      // contract asks no more). message fits MAX_LOG_LINE_CHARS (4000 UTF-16 units = nvarchar(4000)).
      `CREATE TABLE {schema}.[job_logs] (
  job_id char(36) ${BIN2} NOT NULL,
  seq bigint IDENTITY(1, 1) NOT NULL,
  attempt int NOT NULL,
  logged_at datetime2(3) NOT NULL,
  level varchar(5) ${BIN2} NOT NULL,
  message nvarchar(4000) NOT NULL,
  CONSTRAINT [PK_job_logs] PRIMARY KEY CLUSTERED (job_id, seq),
  CONSTRAINT [FK_job_logs_jobs] FOREIGN KEY (job_id) REFERENCES {schema}.[jobs] (id) ON DELETE CASCADE,
  CONSTRAINT [CK_job_logs_level] CHECK (level IN ('debug', 'info', 'warn', 'error'))
)`,
      // The executor registry: a handful of rows, one per live shell, replaced every heartbeat.
      `CREATE TABLE {schema}.[executors] (
  id nvarchar(200) ${BIN2} NOT NULL,
  host nvarchar(255) NOT NULL,
  pid int NOT NULL,
  version nvarchar(50) NOT NULL,
  queues nvarchar(max) NOT NULL,
  started_at datetime2(3) NOT NULL,
  state varchar(10) ${BIN2} NOT NULL,
  heartbeat_at datetime2(3) NOT NULL,
  CONSTRAINT [PK_executors] PRIMARY KEY CLUSTERED (id),
  CONSTRAINT [CK_executors_state] CHECK (state IN ('running', 'stopping'))
)`,
    ],
  },
  {
    version: 3,
    name: 'host affinity: jobs.pinned_host',
    statements: [
      // The host a job is pinned to (JobOptions.pinnedHost), NULL for an unpinned job; written by the
      // insert only. Nullable without a default: a metadata-only change, instant on a large table.
      `ALTER TABLE {schema}.[jobs] ADD pinned_host nvarchar(255) NULL`,
      // The claim's pick tests pinned_host; as an INCLUDE column of the index it walks, the pick
      // still reads that index alone (no lookup into the table per row). Dropped and created again
      // rather than WITH (DROP_EXISTING = ON), which Babelfish does not take. The claim never writes
      // pinned_host, so it does not make the claim's UPDATE maintain more of the index than before.
      `DROP INDEX [IX_jobs_claimable] ON {schema}.[jobs]`,
      `CREATE NONCLUSTERED INDEX [IX_jobs_claimable] ON {schema}.[jobs] (queue, run_at, id) INCLUDE (pinned_host) WHERE status IN ('new', 'retry')`,
    ],
  },
  FLOW_MIGRATION,
]);

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** sha256 of a migration's statements as written (schema-independent), pinned by the tests. */
export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(m.statements.join('\n;\n')).digest('hex');
}

/** A T-SQL N'...' literal of our own constant text (quotes doubled). */
function literal(text: string): string {
  return `N'${text.replace(/'/g, "''")}'`;
}

export function renderStatement(statement: string, names: SchemaNames): string {
  return statement.split('{schema}').join(names.quotedSchema);
}

/**
 * The lock's resource name: per schema, so stores in different schemas migrate independently.
 * Lower-cased because sp_getapplock compares resource names byte for byte (case-sensitive whatever
 * the collation), while schema names in the usual case-insensitive database are not: stores opened
 * with "Jobs" and "jobs" name one schema and must take one lock. (In a case-sensitive database two
 * such schemas merely share the lock, which only serializes their migrations.)
 */
export function applockResource(names: SchemaNames): string {
  return `oddjob.migrate.${names.schema.toLowerCase()}`;
}

/**
 * The migration batch, to run inside a transaction: lock, schema, ledger, version check, then each
 * migration not yet in the ledger.
 */
export function migrationBody(names: SchemaNames, migrations: readonly Migration[] = MIGRATIONS): string {
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  const lines = [
    'DECLARE @lock int;',
    `EXEC @lock = sys.sp_getapplock @Resource = ${literal(applockResource(names))}, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = ${MIGRATION_LOCK_TIMEOUT_MS};`,
    `IF @lock < 0 THROW ${MIGRATION_LOCK_FAILED}, ${literal(`OddJob: could not take the migration lock on schema ${names.schema} within ${MIGRATION_LOCK_TIMEOUT_MS / 1000} s`)}, 1;`,
    `IF SCHEMA_ID(${literal(names.schema)}) IS NULL EXEC(${literal(`CREATE SCHEMA ${names.quotedSchema}`)});`,
    `IF OBJECT_ID(${literal(names.migrations)}, N'U') IS NULL EXEC(${literal(
      `CREATE TABLE ${names.migrations} (version int NOT NULL CONSTRAINT [PK_migrations] PRIMARY KEY, name nvarchar(200) NOT NULL, checksum char(64) NOT NULL, applied_at datetime2(3) NOT NULL)`,
    )});`,
    `IF EXISTS (SELECT 1 FROM ${names.migrations} WHERE version > ${latest}) THROW ${SCHEMA_TOO_NEW}, ${literal(
      `OddJob: schema ${names.schema} has migrations newer than version ${latest}, which is the newest this library knows; upgrade @oddjob/storage-sqlserver`,
    )}, 1;`,
  ];
  for (const m of migrations) {
    lines.push(`IF NOT EXISTS (SELECT 1 FROM ${names.migrations} WHERE version = ${m.version})`, 'BEGIN');
    for (const s of m.statements) lines.push(`  EXEC(${literal(renderStatement(s, names))});`);
    lines.push(
      `  INSERT INTO ${names.migrations} (version, name, checksum, applied_at) VALUES (${m.version}, ${literal(m.name)}, '${migrationChecksum(m)}', SYSUTCDATETIME());`,
      'END;',
    );
  }
  return lines.join('\n');
}

/**
 * The whole script for a DBA: one batch (no GO), all-or-nothing. XACT_ABORT makes any error roll the
 * transaction back; the CATCH block rolls back what is left and re-raises the error.
 */
export function migrationScript(names: SchemaNames, migrations: readonly Migration[] = MIGRATIONS): string {
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  return [
    `-- OddJob for TypeScript: SQL Server schema ${names.quotedSchema}, migrations up to version ${latest}.`,
    '-- Safe to run more than once: applied migrations are skipped. Needs SQL Server 2017 or later.',
    'SET XACT_ABORT ON;',
    'BEGIN TRY',
    'BEGIN TRANSACTION;',
    migrationBody(names, migrations),
    'COMMIT TRANSACTION;',
    'END TRY',
    'BEGIN CATCH',
    'IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;',
    'THROW;',
    'END CATCH;',
    '',
  ].join('\n');
}
