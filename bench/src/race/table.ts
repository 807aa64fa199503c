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
  { label: 'latency p50', better: 'lower', unit: 'ms', read: (r) => r.latencyP50Ms },
  { label: 'latency p99', better: 'lower', unit: 'ms', read: (r) => r.latencyP99Ms },
];

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

/**
 * The ratio is always baseline ÷ best other, so for rates > 1 is better and for
 * latencies < 1 is better; the column header and the "better" column say which.
 * Without a baseline among the results (competitors run alone) it reads "n/a".
 */
export function formatRaceTable(results: readonly RaceResult[], baselineName: string): string {
  const baseline = results.find((r) => r.name === baselineName);
  const others = results.filter((r) => r.name !== baselineName);
  const header = ['metric', 'better', ...results.map((r) => r.name), `${baselineName} / best other`];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const m of METRICS) {
    const cells = results.map((r) => formatValue(m.read(r)));
    let ratio = 'n/a';
    if (baseline && others.length > 0) {
      const values = others.map(m.read);
      const best = m.better === 'higher' ? Math.max(...values) : Math.min(...values);
      ratio = best > 0 ? `${(m.read(baseline) / best).toFixed(2)}×` : 'n/a';
    }
    lines.push(`| ${m.label} (${m.unit}) | ${m.better} | ${cells.join(' | ')} | ${ratio} |`);
  }
  const notes = results.filter((r) => r.notes).map((r) => `- ${r.name}: ${r.notes}`);
  return notes.length > 0 ? `${lines.join('\n')}\n\n${notes.join('\n')}` : lines.join('\n');
}

export function printRaceTable(results: RaceResult[], baselineName: string): void {
  console.log(formatRaceTable(results, baselineName));
}
