/**
 * Runs the competitors of the speed race (graphile-worker, pg-boss), plus any
 * contenders the caller adds (OddJob), one after another in interleaved rounds,
 * and prints the table of per-contender medians.
 *
 *   node bench/dist/src/race/run-competitors.js
 *
 * Environment (all optional):
 *   RACE_DATABASE_URL  default postgres://postgres@127.0.0.1:5432/test
 *   RACE_JOBS          batch-enqueue and processing jobs, default 20000
 *   RACE_WORKERS       concurrency, default 10
 *   RACE_ENQUEUE_ONE   one-by-one enqueue jobs, default 2000
 *   RACE_LATENCY_JOBS  latency probes, default 500; RACE_LATENCY_INTERVAL_MS default 5
 *   RACE_ROUNDS        rounds, default 3: every contender runs once per round, the table shows medians
 *   RACE_ONLY          comma list of contender keys to run (graphile, pgboss, or an extra's key)
 *   PGBOSS_BATCH_SIZE, GRAPHILE_LOCAL_QUEUE_SIZE: see pgboss.ts / graphile.ts
 */
import { pathToFileURL } from 'node:url';
import type { RaceContender, RaceOptions, RaceResult } from './types.js';
import { DEFAULT_LATENCY_INTERVAL_MS, DEFAULT_LATENCY_JOBS } from './types.js';
import { raceGraphile } from './graphile.js';
import { racePgBoss } from './pgboss.js';
import { medianResult } from './measure.js';
import { RaceConfigError, intFromEnv } from './env.js';

export { RaceConfigError } from './env.js';
import { formatRoundRates, formatValue, printRaceTable, type ContenderRounds } from './table.js';

/** A contender with a short key, for RACE_ONLY and progress lines. */
export interface NamedContender {
  key: string;
  run: RaceContender;
}

export const COMPETITORS: readonly NamedContender[] = [
  { key: 'graphile', run: raceGraphile },
  { key: 'pgboss', run: racePgBoss },
];

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
  /** The competitors; default COMPETITORS (the releases that run on Node 20). The Node 24 race passes the newest. */
  competitors?: readonly NamedContender[];
  /** Result name the ratio column compares against; default the first extra's result, else "oddjob". */
  baselineName?: string;
  options?: RaceOptions;
  /** Rounds to run; default RACE_ROUNDS, else 3. */
  rounds?: number;
}

export function raceRoundsFromEnv(): number {
  return intFromEnv('RACE_ROUNDS', 3, 1);
}

/**
 * Runs contenders strictly one at a time: two at once would share the two
 * cores and the database and measure each other's load. The machine is shared
 * and its speed drifts, so the contenders take turns (round 1 = A, B, C;
 * round 2 = A, B, C; ...) rather than each running all its rounds in a block:
 * a slow stretch then hits every contender instead of one, and the median per
 * contender drops the odd disturbed round. Resolves to the median results.
 */
export async function main(run: RaceRunOptions = {}): Promise<RaceResult[]> {
  const options = run.options ?? raceOptionsFromEnv();
  const roundCount = run.rounds ?? raceRoundsFromEnv();
  if (!Number.isInteger(roundCount) || roundCount < 1)
    throw new RaceConfigError(`rounds must be an integer ≥ 1, got ${roundCount}`);
  const all = [...(run.extraContenders ?? []), ...(run.competitors ?? COMPETITORS)];
  const only = process.env.RACE_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (only) {
    const unknown = only.filter((k) => !all.some((c) => c.key === k));
    if (unknown.length > 0)
      throw new RaceConfigError(
        `RACE_ONLY names unknown contenders: ${unknown.join(', ')} (known: ${all.map((c) => c.key).join(', ')})`,
      );
  }
  const chosen = only ? all.filter((c) => only.includes(c.key)) : all;

  console.log(
    `Race: ${options.jobs} jobs, ${options.workers} workers, ${options.enqueueOneJobs} one-by-one enqueues, ` +
      `${options.latencyJobs ?? DEFAULT_LATENCY_JOBS} latency probes every ${options.latencyIntervalMs ?? DEFAULT_LATENCY_INTERVAL_MS} ms, ` +
      `${roundCount} round${roundCount === 1 ? '' : 's'}`,
  );
  const rounds: RaceResult[][] = chosen.map(() => []);
  for (let round = 1; round <= roundCount; round++) {
    for (const [i, contender] of chosen.entries()) {
      const result = await contender.run(options);
      rounds[i].push(result);
      console.log(
        `… round ${round}/${roundCount} ${contender.key}: process ${formatValue(result.processJobsPerSec)} jobs/s`,
      );
    }
  }
  const perContender: ContenderRounds[] = chosen.map((c, i) => ({ key: c.key, rounds: rounds[i] }));
  const results = perContender.map((c) => medianResult(c.rounds));
  const extras = run.extraContenders ?? [];
  const firstExtraName = extras.length > 0 ? results.find((_, i) => chosen[i] === extras[0])?.name : undefined;
  console.log('');
  printRaceTable(results, run.baselineName ?? firstExtraName ?? 'oddjob');
  console.log(formatRoundRates(perContender));
  const basis = roundCount === 1 ? 'one round' : `medians of ${roundCount} interleaved rounds`;
  console.log(`\nFigures are indicative: ${basis} on a shared 2-core machine.`);
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
