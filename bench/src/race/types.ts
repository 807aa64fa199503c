/**
 * The shape every contender in the speed race shares, so that OddJob and the
 * competing libraries are measured by the same four phases and printed in one
 * table. A contender owns its own schema, runs the phases one after another
 * (never concurrently with another contender: they would compete for the same
 * database and the same two cores) and leaves nothing running when it resolves.
 */

/** What one contender measured. Rates are jobs per second, latencies milliseconds. */
export interface RaceResult {
  /** Display name, also used to pick the baseline column of the table. */
  name: string;
  /** Phase 1: `enqueueOneJobs` sequential single-job enqueue calls. */
  enqueueOneJobsPerSec: number;
  /** Phase 2: `jobs` jobs enqueued through the library's batch API. */
  enqueueBatchJobsPerSec: number;
  /** Phase 3: from starting the workers until every one of `jobs` no-op jobs is recorded done in the database. */
  processJobsPerSec: number;
  /**
   * Phase 3 CPU in µs per processed job: `node` is this whole race process (library, handlers and the
   * harness's polling alike for every contender), `postgres` every local postgres process (NaN when
   * the database is not on this machine). Optional so that a contender without a meter still fits.
   */
  processCpuUsPerJob?: CpuPerJob;
  /** Phase 4: handler start minus enqueue time (taken just before the enqueue call), idle listening workers. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Settings used and anything that qualifies the figures (migration time, batch sizes). */
  notes?: string;
}

/** CPU per job in µs, split by where it was spent. */
export interface CpuPerJob {
  node: number;
  postgres: number;
}

export interface RaceOptions {
  /** PostgreSQL to race on; each contender creates (and drops) its own schema there. */
  connectionString: string;
  /** Jobs in the batch-enqueue and processing phases (the race is meant to be run with ≥ 20000). */
  jobs: number;
  /** Concurrency of the one worker process (10 in the standard race). */
  workers: number;
  /** Jobs in the one-by-one enqueue phase (e.g. 2000). */
  enqueueOneJobs: number;
  /** Jobs in the latency phase, enqueued one at a time (default 500). */
  latencyJobs?: number;
  /** Gap between two latency-phase enqueues in ms (default 5). */
  latencyIntervalMs?: number;
}

export type RaceContender = (opts: RaceOptions) => Promise<RaceResult>;

/** Defaults for the optional latency-phase knobs, shared so every contender uses the same. */
export const DEFAULT_LATENCY_JOBS = 500;
export const DEFAULT_LATENCY_INTERVAL_MS = 5;
