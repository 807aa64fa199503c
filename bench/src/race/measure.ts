/**
 * Timing helpers shared by every contender, so that all of them measure the
 * same way (same clock, same percentile definition, same pacing).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CpuPerJob, RaceResult } from './types.js';

/**
 * Milliseconds since the epoch with sub-millisecond resolution. Latency is
 * "handler start − enqueue time", both taken in this process, so a monotonic
 * clock anchored at the process start is exact and avoids Date.now()'s 1 ms
 * granularity (which would round p50 values of 1–3 ms badly).
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Jobs per second, rounded to a whole number (the figures are indicative anyway). */
export function perSec(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((count * 1000) / elapsedMs) : Number.POSITIVE_INFINITY;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted sample; NaN for an empty one. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export class RaceTimeoutError extends Error {
  override name = 'RaceTimeoutError';
  constructor(what: string, timeoutMs: number) {
    super(`Timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/**
 * Polls `check` until it returns true. Used only at phase ends (after the
 * handlers have seen every job) so the polling adds no load while the library
 * is being measured. A deadline turns a stuck library into a clear error
 * instead of a benchmark that never ends.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 600_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new RaceTimeoutError(what, timeoutMs);
    await sleep(intervalMs);
  }
}

/**
 * Calls `enqueue(i)` `count` times, one after another, the i-th no earlier than
 * `start + i * intervalMs`: a steady arrival rate that does not bunch up when one
 * call is slow (a late call just starts at once; the schedule is not shifted).
 */
export async function paced(count: number, intervalMs: number, enqueue: (i: number) => Promise<void>): Promise<void> {
  const start = nowMs();
  for (let i = 0; i < count; i++) {
    const wait = start + i * intervalMs - nowMs();
    if (wait > 0) await sleep(wait);
    await enqueue(i);
  }
}

/** Splits 0..total-1 into consecutive [from, to) ranges of at most `size`. */
export function* ranges(total: number, size: number): Generator<[number, number]> {
  for (let from = 0; from < total; from += size) yield [from, Math.min(total, from + size)];
}

/**
 * Median of a sample; for an even count the mean of the two middle values. NaN entries (a figure that
 * could not be measured in that round) are left out; NaN when nothing is left.
 */
export function median(samples: readonly number[]): number {
  const known = samples.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (known.length === 0) return Number.NaN;
  const mid = known.length >> 1;
  return known.length % 2 === 1 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
}

/**
 * One contender's rounds folded into one result: every figure is its median over the rounds, so one
 * round disturbed by the noisy machine moves nothing. Name and notes come from the first round (the
 * notes differ between rounds only in the migration time, which is not a race figure).
 */
export function medianResult(rounds: readonly RaceResult[]): RaceResult {
  const first = rounds[0];
  if (!first) throw new RangeError('medianResult needs at least one round');
  const of = (read: (r: RaceResult) => number): number => median(rounds.map(read));
  const measuredCpu = rounds.some((r) => r.processCpuUsPerJob !== undefined);
  return {
    name: first.name,
    enqueueOneJobsPerSec: of((r) => r.enqueueOneJobsPerSec),
    enqueueBatchJobsPerSec: of((r) => r.enqueueBatchJobsPerSec),
    processJobsPerSec: of((r) => r.processJobsPerSec),
    processCpuUsPerJob: measuredCpu
      ? {
          node: of((r) => r.processCpuUsPerJob?.node ?? Number.NaN),
          postgres: of((r) => r.processCpuUsPerJob?.postgres ?? Number.NaN),
        }
      : undefined,
    latencyP50Ms: of((r) => r.latencyP50Ms),
    latencyP99Ms: of((r) => r.latencyP99Ms),
    notes: first.notes,
  };
}

let clockTicks: number | undefined;

/** Clock ticks per second, the unit of the times in /proc/<pid>/stat; asked once, 100 (Linux's usual value) if getconf fails. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    let ticks = Number.NaN;
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      // no getconf: keep the fallback below
    }
    clockTicks = Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  }
  return clockTicks;
}

/**
 * CPU time (µs) used so far by every local process whose comm is "postgres": the postmaster, the
 * backends and the background processes (WAL writer, checkpointer, autovacuum). NaN when /proc cannot
 * be read or holds no postgres process, as when the database runs on another machine.
 *
 * Besides utime+stime (fields 14, 15) it adds cutime+cstime (16, 17): the time of children that
 * exited and were reaped. Only the postmaster has such children (every backend is one), so a
 * connection closed mid-phase (a pool's idle time-out) moves its time into the postmaster's
 * instead of making it vanish from the sum.
 */
export function postgresCpuUs(): number {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return Number.NaN;
  }
  let ticks = 0;
  let found = false;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited since readdir, or not ours to read
    }
    // comm sits in parentheses and may itself contain ") ", so the fields start after the last ')'.
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
    // The text after ") " starts at field 3, so field n is at index n - 3.
    const fields = stat.slice(close + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    found = true;
  }
  return found ? (ticks * 1_000_000) / ticksPerSecond() : Number.NaN;
}

export interface CpuMeter {
  /** CPU spent since the meter started, divided by `jobs`: µs per job for this Node process and for PostgreSQL. */
  stop(jobs: number): CpuPerJob;
}

/**
 * Starts measuring the CPU of the processing phase. Wall-clock rates on a shared 2-core machine swing
 * with whatever else runs; CPU per job leaves out the time spent waiting for a core, so it tells what
 * the work itself costs.
 * The Node figure is this whole process: the library, its handlers, and the harness's polling.
 * The /proc scans happen outside the Node interval (first scan before it starts, last after it ends),
 * so the meter does not count its own reading.
 */
export function startCpuMeter(): CpuMeter {
  const postgresStart = postgresCpuUs();
  const nodeStart = process.cpuUsage();
  return {
    stop(jobs: number): CpuPerJob {
      const node = process.cpuUsage(nodeStart);
      const postgres = postgresCpuUs() - postgresStart;
      return { node: (node.user + node.system) / jobs, postgres: postgres / jobs };
    },
  };
}
