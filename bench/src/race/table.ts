/**
 * Prints the race as one markdown table: a row per metric, a column per
 * contender, and a last column comparing the baseline (OddJob) with the best
 * of the others on that metric.
 */
import type { RaceResult } from './types.js';

type Better = 'higher' | 'lower';

interface Metric {
  label: string;
  better: Better;
  unit: string;
  read: (r: RaceResult) => number;
}

const METRICS: readonly Metric[] = [
  { label: 'enqueue one-by-one', better: 'higher', unit: 'jobs/s', read: (r) => r.enqueueOneJobsPerSec },
  { label: 'enqueue batch', better: 'higher', unit: 'jobs/s', read: (r) => r.enqueueBatchJobsPerSec },
  { label: 'process', better: 'higher', unit: 'jobs/s', read: (r) => r.processJobsPerSec },
  // A contender without a CPU meter reads NaN, printed "n/a" like a remote database's PostgreSQL.
  { label: 'CPU per job, Node', better: 'lower', unit: 'µs', read: (r) => r.processCpuUsPerJob?.node ?? Number.NaN },
  {
    label: 'CPU per job, PostgreSQL',
    better: 'lower',
    unit: 'µs',
    read: (r) => r.processCpuUsPerJob?.postgres ?? Number.NaN,
  },
  { label: 'latency p50', better: 'lower', unit: 'ms', read: (r) => r.latencyP50Ms },
  { label: 'latency p99', better: 'lower', unit: 'ms', read: (r) => r.latencyP99Ms },
];

const CPU_NOTE =
  'CPU per job is measured over the processing phase only. Node is this whole race process during that phase ' +
  '(the library, the no-op handlers and the harness polling for the end), the same for every contender; ' +
  'PostgreSQL is every local postgres process (backends, WAL writer, checkpointer, autovacuum) read from /proc, ' +
  'n/a when the database is not on this machine.';

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return String(value);
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

/**
 * The ratio is always baseline ÷ best other, so for rates > 1 is better and for
 * latencies and CPU < 1 is better; the column header and the "better" column say
 * which. It reads "n/a" without a baseline among the results (competitors run
 * alone) or when the figures to compare were not measured.
 */
export function formatRaceTable(results: readonly RaceResult[], baselineName: string): string {
  const baseline = results.find((r) => r.name === baselineName);
  const others = results.filter((r) => r.name !== baselineName);
  const header = ['metric', 'better', ...results.map((r) => r.name), `${baselineName} / best other`];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const m of METRICS) {
    const cells = results.map((r) => formatValue(m.read(r)));
    let ratio = 'n/a';
    const values = others.map(m.read).filter((v) => !Number.isNaN(v));
    if (baseline && values.length > 0) {
      const best = m.better === 'higher' ? Math.max(...values) : Math.min(...values);
      const own = m.read(baseline);
      ratio = best > 0 && Number.isFinite(best) && Number.isFinite(own) ? `${(own / best).toFixed(2)}×` : 'n/a';
    }
    lines.push(`| ${m.label} (${m.unit}) | ${m.better} | ${cells.join(' | ')} | ${ratio} |`);
  }
  const notes = results.filter((r) => r.notes).map((r) => `- ${r.name}: ${r.notes}`);
  if (results.some((r) => r.processCpuUsPerJob !== undefined)) notes.push(`- ${CPU_NOTE}`);
  return notes.length > 0 ? `${lines.join('\n')}\n\n${notes.join('\n')}` : lines.join('\n');
}

export function printRaceTable(results: RaceResult[], baselineName: string): void {
  console.log(formatRaceTable(results, baselineName));
}

/** One contender's results, one per round, in round order. */
export interface ContenderRounds {
  key: string;
  rounds: readonly RaceResult[];
}

/**
 * The processing rate of every round, one line for all contenders, so that a
 * reader sees how far apart the rounds behind each median were.
 */
export function formatRoundRates(contenders: readonly ContenderRounds[]): string {
  const parts = contenders.map((c) => `${c.key} ${c.rounds.map((r) => formatValue(r.processJobsPerSec)).join(' / ')}`);
  return `- process jobs/s per round: ${parts.join('; ')}`;
}
