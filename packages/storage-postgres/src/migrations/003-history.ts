import type { Migration } from './migration.js';

/**
 * Run history, logs, results, waiting and the executor registry (issue 15).
 *
 * - New `jobs` columns describe the latest attempt (started_at, executor_id, host), what it
 *   reported (progress_message beside progress) and a done job's serialized return value (result).
 *   A job that succeeds first time writes nothing but its row: its run is derived from these columns
 *   (core's runs.ts), so the hot path gains three column writes in the claim and one in the done
 *   UPDATE, no statement and no index. None of them is indexed, so the claim stays a HOT update.
 * - `waited` is set by `waitForJob`. Statements that finish a job NOTIFY `<schema>_finished` only for
 *   rows with it set, so jobs nobody waits on pay nothing for the wake-up. ADD COLUMN with a constant
 *   default does not rewrite the table (PostgreSQL 11+), so this step is quick on a large backlog.
 * - `job_runs` holds every ended attempt that the row cannot describe any more (retry, failed,
 *   released, cancelled, lease lost, a done run overwritten by a requeue), read by job in start
 *   order through (job_id, started_at). No primary key: nothing looks a run up on its own.
 * - `job_logs` is append-only; `seq` (an identity, one sequence for the table) orders lines and lets
 *   a reader page with "after seq". (job_id, seq) serves exactly that read.
 * - No foreign keys to `jobs`: ON DELETE CASCADE would run two RI trigger queries per deleted job,
 *   and deleteDoneJobs deletes a job on every completion. The statements that delete jobs delete
 *   their runs and logs in the same statement instead (data-modifying CTEs). Probing both indexes
 *   for every job deleted at completion cost ~2 µs per job of the done statement's server time
 *   (4 buffer hits per job, measured on 10,000 jobs), nearly always for nothing, so the done path
 *   probes only jobs that may have any: `has_history` (set by the rare writes of a run or log line,
 *   see sql/) or more than one attempt (a run lost to a lease takeover, recorded by the claim,
 *   which does not set the flag to keep its UPDATE as it was). Purges, which are not on the hot
 *   path, probe every job. Writers of runs and logs fence on the job row (the log append locks it)
 *   so none is written for a job being deleted.
 * - `executors` is one row per registered shell, replaced by each heartbeat.
 */
export const history: Migration = {
  version: 3,
  name: 'history: runs, logs, results, waiters, executors',
  statements: (s) => [
    `ALTER TABLE ${s}.jobs
       ADD COLUMN started_at       timestamptz,
       ADD COLUMN executor_id      text,
       ADD COLUMN host             text,
       ADD COLUMN result           text,
       ADD COLUMN progress_message text,
       ADD COLUMN waited           boolean NOT NULL DEFAULT false,
       ADD COLUMN has_history      boolean NOT NULL DEFAULT false`,
    `CREATE TABLE ${s}.job_runs (
       job_id           uuid        NOT NULL,
       attempt          integer     NOT NULL,
       executor_id      text        NOT NULL,
       host             text,
       started_at       timestamptz NOT NULL,
       finished_at      timestamptz NOT NULL,
       state            text        NOT NULL CHECK (state IN ('done', 'retry', 'failed', 'cancelled', 'lease-lost', 'released')),
       error            jsonb,
       progress         jsonb,
       progress_message text
     )`,
    `CREATE INDEX job_runs_job ON ${s}.job_runs (job_id, started_at)`,
    `CREATE TABLE ${s}.job_logs (
       seq     bigint      GENERATED ALWAYS AS IDENTITY,
       job_id  uuid        NOT NULL,
       attempt integer     NOT NULL,
       at      timestamptz NOT NULL,
       level   text        NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
       message text        NOT NULL
     )`,
    `CREATE INDEX job_logs_job ON ${s}.job_logs (job_id, seq)`,
    `CREATE TABLE ${s}.executors (
       id           text        PRIMARY KEY,
       host         text        NOT NULL,
       pid          integer     NOT NULL,
       version      text        NOT NULL,
       queues       jsonb       NOT NULL,
       started_at   timestamptz NOT NULL,
       state        text        NOT NULL CHECK (state IN ('running', 'stopping')),
       heartbeat_at timestamptz NOT NULL
     )`,
  ],
};
