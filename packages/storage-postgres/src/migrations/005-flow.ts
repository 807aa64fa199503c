import type { Migration } from './migration.js';
import { flowSettleFunction } from './005-flow-settle.js';

/**
 * Jobs that wait (core's flow.ts): dependencies, concurrency keys, unique-key scopes, priorities and
 * sequence tags. Shaped so that the claim stays one HOT update and plain jobs pay nothing:
 *
 * - `status` gains 'waiting'; `waiting_for` ('parents' or 'slot') is set exactly while a job waits (a
 *   CHECK ties the two). The claim never writes `waiting_for`: only the insert and the release path
 *   do. So it can sit in the claim index's predicate without costing the claim its HOT update.
 * - `jobs_open` is replaced by two claim indexes over the open, not waiting jobs: `jobs_ready`
 *   (queue, run_at, id) for priority 0, exactly the old walk (run_at stays a range bound, so a
 *   backlog of future jobs costs nothing), and `jobs_ready_priority` (queue, priority DESC, run_at,
 *   id) for the rest. The claim walks positive priorities, then 0, then negative ones (see
 *   sql/claim.ts); with no prioritized jobs the first walk finds an empty index range at once.
 *   Waiting jobs are in neither index, so 10,000 jobs waiting on a key slow no claim.
 *   `priority` is written once by the insert; the claim does not change it.
 * - `jobs_keys` (concurrency_key, waiting_for, priority DESC, run_at, id) over open keyed jobs
 *   answers the three questions of a key: how many are admitted (`waiting_for IS NULL`: one range),
 *   which waiting job comes next (the 'slot' range, in claim order) and whether any job of the key is
 *   unfinished ('skip'). None of its columns is written by the claim. A key's admissions are
 *   serialized by `pg_advisory_xact_lock` on a hash of the schema and key (sql/flow.ts), taken in
 *   sorted key order, so concurrent adders and enders admit exactly `limit`.
 * - `job_deps` holds one row per (child, parent) with the parent's final status (`outcome`), NULL
 *   until the parent ends. `job_deps_open` (parent) WHERE outcome IS NULL is how a parent's end
 *   finds its waiting children; decided rows leave it. No foreign keys (see migration 3). The
 *   outcome is recorded on the child's row, so purging the parent later changes nothing.
 * - `has_children` is set on a parent when a child is added: the statements that end jobs call the
 *   release function (`flow_settle`, below) only for rows with it or with a concurrency key, so ending
 *   a plain job costs no extra statement or lookup.
 * - Unique-key scopes: `unique_key` (the indexed column) holds a key while it is held; a key let go
 *   ('queued' at the first claim, 'unfinished' at the end) moves to `released_key`, so the record
 *   still shows it. The claim writes `unique_key` only for rows of scope 'queued' that still hold a
 *   key; for every other row the value is unchanged and PostgreSQL keeps the update HOT.
 * - `after` keeps the JobAfter as given (jsonb), for reads and the 'mixed' rule.
 * - `jobs_sequence_run` and `jobs_sequence` serve listJobs' sequence filters, in id order.
 * - Schedules store the priority and concurrency key of the jobs they make.
 *
 * ADD COLUMN with a constant default or none writes no row, and the CHECKs are added NOT VALID (every
 * existing row satisfies them: no row is waiting or has a key), so only the index builds read the
 * table: the migration holds its lock for one pass over the open jobs, as migration 2 did.
 */
export const flow: Migration = {
  version: 5,
  name: 'flow: waiting, dependencies, concurrency keys, priorities, unique scopes, sequences',
  statements: (s) => [
    `ALTER TABLE ${s}.jobs
       DROP CONSTRAINT jobs_status_check,
       ADD CONSTRAINT jobs_status_check
         CHECK (status IN ('waiting', 'new', 'processing', 'retry', 'done', 'failed', 'cancelled')) NOT VALID,
       ADD COLUMN priority          smallint NOT NULL DEFAULT 0,
       ADD COLUMN unique_scope      text     NOT NULL DEFAULT 'stored',
       ADD COLUMN released_key      text,
       ADD COLUMN after             jsonb,
       ADD COLUMN waiting_for       text,
       ADD COLUMN concurrency_key   text,
       ADD COLUMN concurrency_limit integer,
       ADD COLUMN already_running   text,
       ADD COLUMN has_children      boolean  NOT NULL DEFAULT false,
       ADD COLUMN sequence_name     text,
       ADD COLUMN sequence_run      uuid,
       ADD COLUMN sequence_step     text,
       ADD CONSTRAINT jobs_unique_scope CHECK (unique_scope IN ('queued', 'unfinished', 'stored')) NOT VALID,
       ADD CONSTRAINT jobs_waiting_for_only_while_waiting
         CHECK ((status = 'waiting') = (waiting_for IS NOT NULL) AND waiting_for IN ('parents', 'slot')) NOT VALID,
       ADD CONSTRAINT jobs_concurrency_whole
         CHECK ((concurrency_key IS NULL) = (concurrency_limit IS NULL)
                AND (concurrency_key IS NULL) = (already_running IS NULL)
                AND already_running IN ('skip', 'queue', 'allow')) NOT VALID`,
    `CREATE INDEX jobs_ready ON ${s}.jobs (queue, run_at, id)
       WHERE finished_at IS NULL AND waiting_for IS NULL AND priority = 0`,
    `CREATE INDEX jobs_ready_priority ON ${s}.jobs (queue, priority DESC, run_at, id)
       WHERE finished_at IS NULL AND waiting_for IS NULL AND priority <> 0`,
    `DROP INDEX ${s}.jobs_open`,
    `CREATE INDEX jobs_keys ON ${s}.jobs (concurrency_key, waiting_for, priority DESC, run_at, id)
       WHERE concurrency_key IS NOT NULL AND finished_at IS NULL`,
    `CREATE INDEX jobs_sequence_run ON ${s}.jobs (sequence_run, id) WHERE sequence_run IS NOT NULL`,
    `CREATE INDEX jobs_sequence ON ${s}.jobs (sequence_name, id) WHERE sequence_name IS NOT NULL`,
    `CREATE TABLE ${s}.job_deps (
       child    uuid    NOT NULL,
       position integer NOT NULL,
       parent   uuid    NOT NULL,
       "when"   text    NOT NULL CHECK ("when" IN ('succeeded', 'failed', 'finished')),
       outcome  text             CHECK (outcome IN ('done', 'failed', 'cancelled')),
       PRIMARY KEY (child, position)
     )`,
    `CREATE INDEX job_deps_open ON ${s}.job_deps (parent) WHERE outcome IS NULL`,
    `ALTER TABLE ${s}.schedules
       ADD COLUMN priority    smallint NOT NULL DEFAULT 0,
       ADD COLUMN concurrency jsonb`,
    flowSettleFunction(s),
  ],
};
