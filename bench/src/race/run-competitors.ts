/**
 * Runs the competitors of the speed race (graphile-worker, pg-boss), plus any
 * contenders the caller adds (OddJob), one after another, and prints the table.
 *
 *   node bench/dist/src/race/run-competitors.js
 *
 * Environment (all optional):
 *   RACE_DATABASE_URL  default postgres://postgres@127.0.0.1:5432/test
 *   RACE_JOBS          batch-enqueue and processing jobs, default 20000
 *   RACE_WORKERS       concurrency, default 10
 *   RACE_ENQUEUE_ONE   one-by-one enqueue jobs, default 2000
 *   RACE_LATENCY_JOBS  latency probes, default 500; RACE_LATENCY_INTERVAL_MS default 5
 *   RACE_ONLY          comma list of contender keys to run (graphile, pgboss, or an extra's key)
 *   PGBOSS_BATCH_SIZE, GRAPHILE_LOCAL_QUEUE_SIZE: see pgboss.ts / graphile.ts
 */
import { pathToFileURL } from 'node:url';
import type { RaceContender, RaceOptions, RaceResult } from './types.js';
import { DEFAULT_LATENCY_INTERVAL_MS, DEFAULT_LATENCY_JOBS } from './types.js';
import { raceGraphile } from './graphile.js';
import { racePgBoss } from './pgboss.js';
import { printRaceTable } from './table.js';

/** A contender with a short key, for RACE_ONLY and progress lines. */
export interface NamedContender {
  key: string;
  run: RaceContender;
}

export const COMPETITORS: readonly NamedContender[] = [
  { key: 'graphile', run: raceGraphile },
  { key: 'pgboss', run: racePgBoss },
];

export class RaceConfigError extends Error {
  override name = 'RaceConfigError';
}

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new RaceConfigError(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

export function raceOptionsFromEnv(): RaceOptions {
  return {
    connectionString: process.env.RACE_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    jobs: intFromEnv('RACE_JOBS', 20000, 1),
    workers: intFromEnv('RACE_WORKERS', 10, 1),
    enqueueOneJobs: intFromEnv('RACE_ENQUEUE_ONE', 2000, 1),
    latencyJobs: intFromEnv('RACE_LATENCY_JOBS', DEFAULT_LATENCY_JOBS, 1),
    latencyIntervalMs: intFromEnv('RACE_LATENCY_INTERVAL_MS', DEFAULT_LATENCY_INTERVAL_MS, 0),
  };
}

export interface RaceRunOptions {
  /** Contenders run before the competitors (OddJob goes here). */
  extraContenders?: readonly NamedContender[];
  /** Result name the ratio column compares against; default the first extra's result, else "oddjob". */
  baselineName?: string;
  options?: RaceOptions;
}

/**
 * Runs contenders strictly one at a time: two at once would share the two
 * cores and the database and measure each other's load.
 */
export async function main(run: RaceRunOptions = {}): Promise<RaceResult[]> {
  const options = run.options ?? raceOptionsFromEnv();
  const all = [...(run.extraContenders ?? []), ...COMPETITORS];
  const only = process.env.RACE_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  if (only) {
    const unknown = only.filter((k) => !all.some((c) => c.key === k));
    if (unknown.length > 0) throw new RaceConfigError(`RACE_ONLY names unknown contenders: ${unknown.join(', ')} (known: ${all.map((c) => c.key).join(', ')})`);
  }
  const chosen = only ? all.filter((c) => only.includes(c.key)) : all;

  console.log(
    `Race: ${options.jobs} jobs, ${options.workers} workers, ${options.enqueueOneJobs} one-by-one enqueues, ` +
      `${options.latencyJobs ?? DEFAULT_LATENCY_JOBS} latency probes every ${options.latencyIntervalMs ?? DEFAULT_LATENCY_INTERVAL_MS} ms`,
  );
  const results: RaceResult[] = [];
  for (const contender of chosen) {
    console.log(`… ${contender.key}`);
    results.push(await contender.run(options));
  }
  const extras = run.extraContenders ?? [];
  const firstExtraName = extras.length > 0 ? results.find((_, i) => chosen[i] === extras[0])?.name : undefined;
  console.log('');
  printRaceTable(results, run.baselineName ?? firstExtraName ?? 'oddjob');
  console.log('\nFigures are indicative: one run on a shared 2-core machine.');
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
