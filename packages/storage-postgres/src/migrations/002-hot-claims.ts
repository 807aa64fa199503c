import type { Migration } from './migration.js';

/**
 * Makes the claim a HOT update: PostgreSQL then writes the claimed row's new version on the same
 * page and adds no index entry for it. Measured on 100,000 queued jobs (claim 250 at a time, delete
 * at completion): the claiming backend's CPU fell from ~16 to ~10 µs per job and WAL from ~5 to ~2
 * records per job.
 *
 * An update is HOT only if no column that any index reads changes, predicates included, and the new
 * version fits on the old one's page. Version 1 ruled out both: the claim
 * changes `status` (in the predicates of `jobs_claimable`, `jobs_leases` and `jobs_finished`) and
 * `lease_expires_at` (the key of `jobs_leases`), and fillfactor 85 left room for a new version of only
 * a few rows per page. So:
 *
 * - `jobs_open (queue, run_at, id) WHERE finished_at IS NULL` replaces `jobs_claimable`. It holds
 *   waiting *and* running jobs, so a row stays in it, unchanged, when claimed. The claim walks it in
 *   (run_at, id) order and passes over running jobs whose lease is live; they are the oldest, so the
 *   walk passes at most the jobs in flight. A running job whose lease expired is met in the same walk,
 *   which replaces `jobs_leases` and the claim's second arm.
 * - `jobs_finished` keys on `finished_at` alone, predicate `finished_at IS NOT NULL`: same rows,
 *   without naming `status`.
 * - A CHECK ties `finished_at` to the final statuses, so "open" and "not final" can never disagree
 *   (a final job in `jobs_open` would be claimed again).
 * - fillfactor 40: inserts fill 40% of a page and leave the rest for the claimed versions, which are
 *   a little wider (owner, token, expiry). With 40% every row on a page can be claimed in one
 *   statement and still fit (at 50%, ~8% of claims went to another page in the measurement). The
 *   cost is space: a backlog takes about twice the pages it did; finished rows are deleted or pruned
 *   and their room reused.
 *
 * The rebuild runs in the migrator's transaction and holds the table's lock while it builds one
 * index over the open jobs: on a very large backlog, migrate while it is small.
 */
export const hotClaims: Migration = {
  version: 2,
  name: 'hot claims: jobs_open, fillfactor 40',
  statements: (s) => [
    `ALTER TABLE ${s}.jobs
       ADD CONSTRAINT jobs_finished_only_when_final
       CHECK ((status IN ('done', 'failed', 'cancelled')) = (finished_at IS NOT NULL))`,
    `CREATE INDEX jobs_open ON ${s}.jobs (queue, run_at, id) WHERE finished_at IS NULL`,
    `DROP INDEX ${s}.jobs_claimable`,
    `DROP INDEX ${s}.jobs_leases`,
    `DROP INDEX ${s}.jobs_finished`,
    `CREATE INDEX jobs_finished ON ${s}.jobs (finished_at) WHERE finished_at IS NOT NULL`,
    `ALTER TABLE ${s}.jobs SET (fillfactor = 40)`,
  ],
};
