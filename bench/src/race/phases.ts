/**
 * The parts of a race run that are the same for every contender: its own schema and probe client,
 * the timing of a phase, the end of the processing phase (handlers first, then the database), the
 * latency probes and the result's figures. Each contender file keeps only what is its own: its
 * configuration, its enqueue calls, how it starts and stops, and how its database says "done".
 */
import pg from 'pg';
import type { CpuPerJob, RaceOptions, RaceResult } from './types.js';
import { DEFAULT_LATENCY_INTERVAL_MS, DEFAULT_LATENCY_JOBS } from './types.js';
import { nowMs, paced, percentile, perSec, startCpuMeter, waitFor } from './measure.js';
import { dropSchema } from './schema.js';

/** The race options with the latency knobs' defaults filled in. */
export type RaceSettings = Required<RaceOptions>;

export function raceSettings(opts: RaceOptions): RaceSettings {
  return {
    ...opts,
    latencyJobs: opts.latencyJobs ?? DEFAULT_LATENCY_JOBS,
    latencyIntervalMs: opts.latencyIntervalMs ?? DEFAULT_LATENCY_INTERVAL_MS,
  };
}

/**
 * Runs `race` in the contender's own schema, dropped before and after it, with a client of its own
 * for the "all done?" queries at phase ends. `race` stops its library in its own `finally`, so the
 * schema is dropped only once nothing of the library runs on it.
 */
export async function inOwnSchema<T>(
  connectionString: string,
  schema: string,
  race: (probe: pg.Client) => Promise<T>,
): Promise<T> {
  await dropSchema(connectionString, schema);
  const probe = new pg.Client({ connectionString });
  await probe.connect();
  try {
    return await race(probe);
  } finally {
    await probe.end();
    await dropSchema(connectionString, schema);
  }
}

/** Milliseconds `phase` takes. */
export async function timed(phase: () => Promise<void>): Promise<number> {
  const start = nowMs();
  await phase();
  return nowMs() - start;
}

export interface Processing {
  processMs: number;
  processCpuUsPerJob: CpuPerJob;
}

/**
 * Phase 3: `start` sets the workers going on the pre-filled queue; the phase ends when the handlers
 * have seen every job and then the database shows every job finished (`allFinished`), since most
 * libraries write completions after the handler returned, some in batches. `library` and
 * `finished` only name the waits in a time-out error.
 */
export async function measureProcessing(p: {
  library: string;
  jobs: number;
  start: () => Promise<void>;
  handled: () => number;
  finished: string;
  allFinished: () => Promise<boolean>;
}): Promise<Processing> {
  const cpu = startCpuMeter();
  const processStart = nowMs();
  await p.start();
  await waitFor(`${p.library} handlers to see every job`, () => p.handled() >= p.jobs, { intervalMs: 5 });
  await waitFor(`${p.library} to ${p.finished}`, p.allFinished, { intervalMs: 2 });
  const processMs = nowMs() - processStart;
  return { processMs, processCpuUsPerJob: cpu.stop(p.jobs) };
}

/**
 * Phase 4: the workers are idle; `enqueue(i)` sends probe i (its handler pushes start minus enqueue
 * time onto `latencies`) at the race's steady rate, and this waits until every probe has started.
 */
export async function measureLatency(
  library: string,
  s: RaceSettings,
  latencies: readonly number[],
  enqueue: (i: number) => Promise<void>,
): Promise<void> {
  await paced(s.latencyJobs, s.latencyIntervalMs, enqueue);
  await waitFor(`${library} to start every latency probe`, () => latencies.length >= s.latencyJobs);
}

/** A contender's figures from its phase times and latency samples. */
export function raceResult(r: {
  name: string;
  settings: RaceSettings;
  oneMs: number;
  batchMs: number;
  processing: Processing;
  latencies: readonly number[];
  notes: string;
}): RaceResult {
  const { jobs, enqueueOneJobs } = r.settings;
  return {
    name: r.name,
    enqueueOneJobsPerSec: perSec(enqueueOneJobs, r.oneMs),
    enqueueBatchJobsPerSec: perSec(jobs, r.batchMs),
    processJobsPerSec: perSec(jobs, r.processing.processMs),
    processCpuUsPerJob: r.processing.processCpuUsPerJob,
    latencyP50Ms: percentile(r.latencies, 50),
    latencyP99Ms: percentile(r.latencies, 99),
    notes: r.notes,
  };
}
