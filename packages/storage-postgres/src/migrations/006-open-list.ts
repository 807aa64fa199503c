import type { Migration } from './migration.js';

/**
 * `jobs_open_list (id, queue) WHERE finished_at IS NULL`: the unfinished jobs (waiting, new,
 * processing, retry) in id order, with their queue, for listJobs filters of a queue that name only
 * unfinished statuses (sql/admin.ts `list_open_jobs_in_queue`). Without it such a filter walks the
 * primary key through every finished job until it has a page: a million rows for
 * `status=retry&queue=q3` when q3 has none. With it the walk passes the unfinished jobs' index
 * entries, tests the queue there, and reads the heap row only of that queue's unfinished jobs.
 *
 * - It reads `id`, `queue` and `finished_at`, none of which the claim writes, so the claim stays a
 *   HOT update (migration 2; the claim never changes `finished_at`: it only takes unfinished rows).
 *   `status` cannot be in it for the same reason, so a status the claim writes (processing) is still
 *   read off each candidate's heap row: the walk is bounded by the unfinished jobs, not by the table.
 * - `id` first, not `queue`: with `(queue, id)` the claim's generic plan took it instead of
 *   `jobs_ready` (measured in the race bench: every claim read its queue's whole backlog, twice the
 *   database CPU per job). Led by `id`, it offers the claim no range on its queue.
 * - Its cost on the hot path: every insert writes one more index entry (every new job is
 *   unfinished), and so does a retry, which is not HOT anyway (it changes `run_at`). Finishing a job
 *   writes none here (the final version is outside the predicate), nor does the claim.
 * - It holds only unfinished jobs, like the claim indexes, so it stays as small as the backlog.
 *
 * CREATE INDEX runs in the migrator's transaction (CONCURRENTLY cannot run in one) and holds a SHARE
 * lock on `jobs` while it reads the table once: readers go on, but inserts, claims and outcomes wait
 * for the build (~1 s for a million rows on the development machine). On a large table, migrate at a
 * quiet time, or create the same index CONCURRENTLY by hand first (same name and definition, and
 * check it is valid: a failed concurrent build leaves an invalid one): this step then finds it and
 * skips the build (IF NOT EXISTS).
 */
export const openList: Migration = {
  version: 6,
  name: 'open list: jobs_open_list',
  statements: (s) => [`CREATE INDEX IF NOT EXISTS jobs_open_list ON ${s}.jobs (id, queue) WHERE finished_at IS NULL`],
};
