import type { Migration } from './migration.js';

/**
 * The first schema. Shaped for the claim / complete hot path:
 *
 * - `jobs` is one row per job (enqueue is one INSERT, no side tables). Status is text with a CHECK
 *   naming exactly core's JobStatus union, so a bad write fails loudly instead of hiding a job.
 * - Few indexes on purpose: every non-HOT update writes an entry into each index whose predicate the
 *   new row version satisfies, and claim/complete change `status` (which the partial predicates
 *   read), so they are never HOT. Each index below pays for a query on the hot path or for retention.
 * - `jobs_claimable` (queue, run_at, id) WHERE status IN ('new','retry') is what the claim walks, in
 *   exactly its ORDER BY; rows leave it as soon as they are claimed, so it stays as small as the
 *   backlog.
 * - `jobs_leases` (lease_expires_at) WHERE status = 'processing' finds expired leases (crashed
 *   executors) without scanning the backlog; it holds only running jobs.
 * - lease_expires_at is set exactly while a job is processing (a CHECK enforces it). Fenced writes
 *   therefore test `lease_expires_at > now` and the token, never `status = 'processing'`: a status
 *   test would let the planner answer them from `jobs_leases`, whose range "> now" also holds the
 *   dead entries of every recently finished job (measured: 20,000 entries visited to complete 100
 *   jobs), instead of looking up each job by primary key.
 * - `jobs_unique_key` is UNIQUE over every status, so a key stays taken until its job is purged; the
 *   INSERT's ON CONFLICT DO NOTHING arbitrates concurrent adders.
 * - `jobs_finished` (finished_at) over final rows lets retention delete the oldest first in batches.
 * - fillfactor 85 leaves room on each page for HOT updates that touch no indexed column
 *   (reportProgress), and aggressive autovacuum settings keep dead index entries of claimed rows from
 *   piling up in front of the claim.
 */
export const initial: Migration = {
  version: 1,
  name: 'initial: jobs, schedules',
  statements: (s) => [
    `CREATE TABLE ${s}.jobs (
       id               uuid        PRIMARY KEY,
       queue            text        NOT NULL,
       target           text        NOT NULL,
       method           text        NOT NULL,
       args             text        NOT NULL,
       status           text        NOT NULL CHECK (status IN ('new', 'processing', 'retry', 'done', 'failed', 'cancelled')),
       run_at           timestamptz NOT NULL,
       attempts         integer     NOT NULL DEFAULT 0,
       max_attempts     integer     NOT NULL CHECK (max_attempts >= 1),
       retry            jsonb       NOT NULL,
       last_error       jsonb,
       lease_owner      text,
       lease_token      text,
       lease_expires_at timestamptz,
       progress         jsonb,
       metadata         jsonb       NOT NULL,
       unique_key       text,
       created_at       timestamptz NOT NULL,
       updated_at       timestamptz NOT NULL,
       finished_at      timestamptz,
       CONSTRAINT jobs_lease_only_while_processing CHECK ((status = 'processing') = (lease_expires_at IS NOT NULL))
     ) WITH (fillfactor = 85, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.05,
             autovacuum_analyze_scale_factor = 0.05, autovacuum_vacuum_cost_delay = 0)`,
    `CREATE INDEX jobs_claimable ON ${s}.jobs (queue, run_at, id) WHERE status IN ('new', 'retry')`,
    `CREATE INDEX jobs_leases ON ${s}.jobs (lease_expires_at) WHERE status = 'processing'`,
    `CREATE UNIQUE INDEX jobs_unique_key ON ${s}.jobs (unique_key) WHERE unique_key IS NOT NULL`,
    `CREATE INDEX jobs_finished ON ${s}.jobs (finished_at) WHERE status IN ('done', 'failed', 'cancelled')`,
    `CREATE TABLE ${s}.schedules (
       name         text        PRIMARY KEY,
       cron         text        NOT NULL,
       time_zone    text        NOT NULL,
       target       text        NOT NULL,
       method       text        NOT NULL,
       args         text        NOT NULL,
       queue        text        NOT NULL,
       retry        jsonb       NOT NULL,
       metadata     jsonb       NOT NULL,
       misfire      jsonb       NOT NULL,
       paused       boolean     NOT NULL,
       next_fire_at timestamptz,
       last_fire_at timestamptz,
       version      integer     NOT NULL,
       created_at   timestamptz NOT NULL,
       updated_at   timestamptz NOT NULL
     )`,
    `CREATE INDEX schedules_due ON ${s}.schedules (next_fire_at) WHERE NOT paused AND next_fire_at IS NOT NULL`,
  ],
};
