import { hostname } from 'node:os';
import { checkInt, DEFAULT_TAKEOVER_AFTER_MS, InvalidOptionError, describeValue } from '@oddjob/core';
import { resolveSandboxOptions, type SandboxOptions } from './sandbox/pool.js';

/** How one queue is run. Every field is optional; defaults are listed beside each. */
export interface QueueOptions {
  /** Worker actors, i.e. jobs run at once on this queue. Default 10. */
  workers?: number;
  /** Polling period: the coordinator looks for work this often even without a wake-up. Default 1000 ms. */
  pulseMs?: number;
  /** Lease taken on every claimed job; it is renewed while the job waits or runs. Default 30 000 ms. */
  leaseMs?: number;
  /** A run longer than this is aborted through its signal and counted as a failed attempt. Default 300 000 ms. */
  jobTimeoutMs?: number;
  /**
   * Period of the lease/timeout sweep (one timer per queue, not per job). Leases are renewed once a
   * third of them has passed, and a timeout is noticed within one sweep. Default min(leaseMs / 3, 1000).
   */
  sweepMs?: number;
  /** Who the leases are taken for, shown in admin views. Default: the shell's owner. */
  owner?: string;
  /**
   * The most jobs held at once (running + waiting for a worker); the coordinator claims only while
   * fewer are pending and asks for at most the free room. Default workers * 2: enough to keep every
   * worker busy across one claim's round trip without hoarding jobs another executor could run. Raise
   * it for many short jobs on a remote database, where a claim's round trip costs more than a job.
   * A store that says its claims need bigger batches (`IJobQueueManager.claimBatchHint`, the file
   * store) raises the default to `2 * claimBatchHint` when that is more.
   */
  maxPending?: number;
  /**
   * Claims a queue may have out at once, 1 or 2. With 2, each claim asks for at most half of
   * maxPending and the next is asked while one is still out, so the workers need not wait a whole
   * round trip when they finish a claim's jobs before the next arrives; it pays where the store has
   * a core to spare for a second claim (short jobs, a database on its own cores). Default 1.
   */
  claimsInFlight?: number;
  /**
   * Run this queue's jobs in worker threads instead of on the executor's event loop, for jobs that
   * may block it (CPU-bound work): see the README's "Sandboxed queues". Default: off.
   */
  sandbox?: SandboxOptions;
  /**
   * Jobs pinned to another host (JobOptions.pinnedHost) are claimed by this queue once they are
   * overdue by more than this (their runAt is older than now - takeoverAfterMs): a takeover, recorded
   * on the run. Jobs pinned to this shell's host and unpinned ones are claimed as always. An integer
   * from 0 to 2^31-1 ms. Default 1 800 000 (30 minutes, as VITA).
   */
  takeoverAfterMs?: number;
}

export interface ResolvedQueueOptions {
  workers: number;
  pulseMs: number;
  leaseMs: number;
  jobTimeoutMs: number;
  sweepMs: number;
  owner: string;
  /** The host name claims are made for (recorded on each run). */
  host: string;
  maxPending: number;
  claimsInFlight: 1 | 2;
  sandbox: SandboxOptions | null;
  takeoverAfterMs: number;
}

export interface StopOptions {
  /** How long running jobs may take to finish before they are aborted and released. Default 10 000 ms. */
  timeoutMs?: number;
}

export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * After running jobs were aborted, how long shutdown still waits for their outcomes to be written.
 * Past it (storage is down), the unwritten outcomes are logged and dropped; their leases expire and
 * another executor runs those jobs again, so nothing is lost.
 */
export const FLUSH_GRACE_MS = 5_000;

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(name, `must be an integer >= 1, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * workers * 2, or twice the store's claim batch hint when that is more (claims are made once half of
 * maxPending is free, so they then bring back about the hint). A hint that is not a positive integer
 * (a store's bug) is ignored rather than failing the queue.
 */
function defaultMaxPending(workers: number, claimBatchHint: number | undefined): number {
  const hint = Number.isSafeInteger(claimBatchHint) && claimBatchHint! > 0 ? claimBatchHint! : 0;
  return Math.max(workers * 2, hint * 2);
}

export function resolveQueueOptions(
  queue: string,
  options: QueueOptions,
  defaultOwner: string,
  host = hostname(),
  claimBatchHint?: number,
): ResolvedQueueOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', `queue "${queue}": must be an object`);
  }
  const workers = positiveInteger('workers', options.workers, 10);
  const pulseMs = positiveInteger('pulseMs', options.pulseMs, 1000);
  const leaseMs = positiveInteger('leaseMs', options.leaseMs, 30_000);
  const jobTimeoutMs = positiveInteger('jobTimeoutMs', options.jobTimeoutMs, 300_000);
  const sweepMs = positiveInteger('sweepMs', options.sweepMs, Math.max(1, Math.min(Math.floor(leaseMs / 3), 1000)));
  if (sweepMs * 2 > leaseMs) {
    // A lease must be renewed before it runs out; with a sweep this slow it could lapse between two.
    throw new InvalidOptionError('sweepMs', `must be at most leaseMs / 2 (${leaseMs / 2}), got ${sweepMs}`);
  }
  const maxPending = positiveInteger('maxPending', options.maxPending, defaultMaxPending(workers, claimBatchHint));
  if (maxPending < workers) {
    throw new InvalidOptionError('maxPending', `must be at least workers (${workers}), got ${maxPending}`);
  }
  const claimsInFlight = positiveInteger('claimsInFlight', options.claimsInFlight, 1);
  if (claimsInFlight > 2) throw new InvalidOptionError('claimsInFlight', `must be 1 or 2, got ${claimsInFlight}`);
  const owner = options.owner ?? defaultOwner;
  if (typeof owner !== 'string' || owner.length === 0)
    throw new InvalidOptionError('owner', 'must be a non-empty string');
  const takeoverAfterMs =
    options.takeoverAfterMs === undefined
      ? DEFAULT_TAKEOVER_AFTER_MS
      : checkInt('takeoverAfterMs', options.takeoverAfterMs, 0);
  const sandbox = options.sandbox ?? null;
  if (sandbox !== null) resolveSandboxOptions(sandbox, workers); // refuses a bad module or size now, not at the first job
  return {
    workers,
    pulseMs,
    leaseMs,
    jobTimeoutMs,
    sweepMs,
    owner,
    host: host.slice(0, 255) || 'unknown',
    maxPending,
    claimsInFlight: claimsInFlight as 1 | 2,
    sandbox,
    takeoverAfterMs,
  };
}

export function resolveStopTimeout(options: StopOptions | undefined): number {
  const t = options?.timeoutMs;
  if (t === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
    throw new InvalidOptionError('timeoutMs', `must be a finite number >= 0, got ${String(t)}`);
  }
  return t;
}
