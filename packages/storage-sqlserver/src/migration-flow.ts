/**
 * Migration 4: jobs that wait (core's flow.ts). Apart from migrations.ts because it is the largest
 * migration and reads as one design: what a waiting job, a dependency, a concurrency key and a
 * unique-key scope are in this schema. Released migrations are never edited (see migrations.ts).
 */
import type { Migration } from './migrations.js';

const BIN2 = 'COLLATE Latin1_General_100_BIN2';

export const FLOW_MIGRATION: Migration = {
  version: 4,
  name: 'jobs that wait: dependencies, concurrency keys, unique scopes, priority, sequence tags',
  statements: [
    // 'waiting' joins the statuses. The constraint is replaced, not altered (T-SQL has no ALTER
    // CONSTRAINT); every existing row passes the new one, which only adds a value.
    `ALTER TABLE {schema}.[jobs] DROP CONSTRAINT [CK_jobs_status]`,
    `ALTER TABLE {schema}.[jobs] ADD CONSTRAINT [CK_jobs_status] CHECK (status IN ('waiting', 'new', 'processing', 'retry', 'done', 'failed', 'cancelled'))`,
    // NOT NULL with a constant default: existing rows read the default (priority 0, scope 'stored',
    // key held), which is exactly what they had before. On Enterprise / Azure SQL this is a
    // metadata-only change; Standard Edition writes the default into every row.
    `ALTER TABLE {schema}.[jobs] ADD priority smallint NOT NULL CONSTRAINT [DF_jobs_priority] DEFAULT 0`,
    `ALTER TABLE {schema}.[jobs] ADD unique_scope varchar(10) ${BIN2} NOT NULL CONSTRAINT [DF_jobs_unique_scope] DEFAULT 'stored'`,
    // Whether the job still holds unique_key (UniqueScope): 'queued' lets go at the first claim,
    // 'unfinished' when the job is final, 'stored' never. unique_key itself is kept, so
    // JobRecord.uniqueKey still shows the key a job was added with.
    `ALTER TABLE {schema}.[jobs] ADD unique_held bit NOT NULL CONSTRAINT [DF_jobs_unique_held] DEFAULT 1`,
    // The job's parents as JobAfter JSON, for reading the record back; the decisions use
    // job_dependencies below. The rule is read with JSON_VALUE, which (unlike OPENJSON) works at
    // every database compatibility level.
    `ALTER TABLE {schema}.[jobs] ADD after_json nvarchar(max) NULL`,
    `ALTER TABLE {schema}.[jobs] ADD waiting_for varchar(10) ${BIN2} NULL`,
    `ALTER TABLE {schema}.[jobs] ADD concurrency_key nvarchar(512) ${BIN2} NULL`,
    `ALTER TABLE {schema}.[jobs] ADD concurrency_limit int NULL`,
    `ALTER TABLE {schema}.[jobs] ADD already_running varchar(5) ${BIN2} NULL`,
    `ALTER TABLE {schema}.[jobs] ADD sequence_name nvarchar(200) ${BIN2} NULL`,
    `ALTER TABLE {schema}.[jobs] ADD sequence_run char(36) ${BIN2} NULL`,
    `ALTER TABLE {schema}.[jobs] ADD sequence_step nvarchar(200) ${BIN2} NULL`,
    `ALTER TABLE {schema}.[jobs] ADD CONSTRAINT [CK_jobs_unique_scope] CHECK (unique_scope IN ('queued', 'unfinished', 'stored'))`,
    // waitingFor is set exactly while the job is waiting (JobRecord.waitingFor).
    `ALTER TABLE {schema}.[jobs] ADD CONSTRAINT [CK_jobs_waiting_for] CHECK ((status = 'waiting' AND waiting_for IN ('parents', 'slot')) OR (status <> 'waiting' AND waiting_for IS NULL))`,
    `ALTER TABLE {schema}.[jobs] ADD CONSTRAINT [CK_jobs_concurrency] CHECK ((concurrency_key IS NULL AND concurrency_limit IS NULL AND already_running IS NULL) OR (concurrency_key IS NOT NULL AND concurrency_limit BETWEEN 1 AND 10000 AND already_running IN ('skip', 'queue', 'allow')))`,
    // The claim walks this index only: claimable rows in claim order (priority first). A waiting
    // job is not in it at all, so a key holding a thousand waiting jobs costs the claim nothing.
    // Dropped and created again (not DROP_EXISTING, which Babelfish does not take).
    `DROP INDEX [IX_jobs_claimable] ON {schema}.[jobs]`,
    `CREATE NONCLUSTERED INDEX [IX_jobs_claimable] ON {schema}.[jobs] (queue, priority DESC, run_at, id) INCLUDE (pinned_host) WHERE status IN ('new', 'retry')`,
    // A key's unfinished jobs: the admitted count (new, retry, processing) and the job a 'skip' add
    // answers. Final jobs are not in it.
    `CREATE NONCLUSTERED INDEX [IX_jobs_key_unfinished] ON {schema}.[jobs] (concurrency_key, status) WHERE concurrency_key IS NOT NULL AND status IN ('waiting', 'new', 'retry', 'processing')`,
    // A key's jobs waiting for a slot, in the order they are admitted (claim order).
    `CREATE NONCLUSTERED INDEX [IX_jobs_key_queue] ON {schema}.[jobs] (concurrency_key, priority DESC, run_at, id) INCLUDE (concurrency_limit) WHERE status = 'waiting' AND waiting_for = 'slot'`,
    // The unique index now covers held keys only, so a key a job let go can be taken by another.
    // Created before the old one is dropped: there is no moment without a unique index.
    `CREATE UNIQUE NONCLUSTERED INDEX [UX_jobs_unique_held] ON {schema}.[jobs] (unique_key) WHERE unique_key IS NOT NULL AND unique_held = 1`,
    `DROP INDEX [UX_jobs_unique_key] ON {schema}.[jobs]`,
    // listJobs({ sequenceRun }) and listJobs({ sequence }): seeks in id (creation) order.
    `CREATE NONCLUSTERED INDEX [IX_jobs_sequence_run] ON {schema}.[jobs] (sequence_run, id) WHERE sequence_run IS NOT NULL`,
    `CREATE NONCLUSTERED INDEX [IX_jobs_sequence_name] ON {schema}.[jobs] (sequence_name, id) WHERE sequence_name IS NOT NULL`,
    // One row per (child, parent): what the child waits for the parent to end as, and the parent's
    // final status once it ended (NULL until then). The outcome is recorded on the child's row, so
    // purging a parent later changes nothing. No foreign key to the parent for that reason; the
    // child's cascades, so a purged child takes its rows with it.
    `CREATE TABLE {schema}.[job_dependencies] (
  child_id char(36) ${BIN2} NOT NULL,
  ord int NOT NULL,
  parent_id char(36) ${BIN2} NOT NULL,
  awaited varchar(10) ${BIN2} NOT NULL,
  outcome varchar(10) ${BIN2} NULL,
  CONSTRAINT [PK_job_dependencies] PRIMARY KEY CLUSTERED (child_id, ord),
  CONSTRAINT [FK_job_dependencies_jobs] FOREIGN KEY (child_id) REFERENCES {schema}.[jobs] (id) ON DELETE CASCADE,
  CONSTRAINT [CK_job_dependencies_awaited] CHECK (awaited IN ('succeeded', 'failed', 'finished')),
  CONSTRAINT [CK_job_dependencies_outcome] CHECK (outcome IS NULL OR outcome IN ('done', 'failed', 'cancelled'))
)`,
    // A parent's end finds its open dependencies by this seek (and only the open ones).
    `CREATE NONCLUSTERED INDEX [IX_job_dependencies_parent] ON {schema}.[job_dependencies] (parent_id) WHERE outcome IS NULL`,
    `ALTER TABLE {schema}.[schedules] ADD priority smallint NOT NULL CONSTRAINT [DF_schedules_priority] DEFAULT 0`,
    // JobConcurrency JSON or NULL: a schedule's key is only copied onto the jobs it makes.
    `ALTER TABLE {schema}.[schedules] ADD concurrency nvarchar(max) NULL`,
  ],
};
