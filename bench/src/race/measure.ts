/**
 * Timing helpers shared by every contender, so that all of them measure the
 * same way (same clock, same percentile definition, same pacing).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

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
  return sorted[rank - 1]!;
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
