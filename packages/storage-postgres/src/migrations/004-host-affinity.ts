import type { Migration } from './migration.js';

/**
 * Host affinity (JobOptions.pinnedHost): the host a job is pinned to, NULL for an unpinned job.
 *
 * - Written once by the insert and never updated, so the claim stays a HOT update (migration 2): it
 *   is not indexed, and the claim does not write it.
 * - The claim reads it off the heap row it already fetches for `status` and `lease_expires_at`: one
 *   more test per candidate, `pinned_host IS NULL` first, so an unpinned backlog claims as before.
 * - ADD COLUMN without a default writes no row (only the catalog), so this step is instant on a large
 *   backlog.
 * - Runs need no column: a takeover is the run's host differing from the pin (core's runs.ts).
 */
export const hostAffinity: Migration = {
  version: 4,
  name: 'host affinity: jobs.pinned_host',
  statements: (s) => [`ALTER TABLE ${s}.jobs ADD COLUMN pinned_host text`],
};
