import { InvalidOptionError } from '@oddjob/core';

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
   */
  maxPending?: number;
}

export interface ResolvedQueueOptions {
  workers: number;
  pulseMs: number;
  leaseMs: number;
  jobTimeoutMs: number;
  sweepMs: number;
  owner: string;
  maxPending: number;
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
    throw new InvalidOptionError(name, `must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

export function resolveQueueOptions(queue: string, options: QueueOptions, defaultOwner: string): ResolvedQueueOptions {
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
  const maxPending = positiveInteger('maxPending', options.maxPending, workers * 2);
  if (maxPending < workers) {
    throw new InvalidOptionError('maxPending', `must be at least workers (${workers}), got ${maxPending}`);
  }
  const owner = options.owner ?? defaultOwner;
  if (typeof owner !== 'string' || owner.length === 0) throw new InvalidOptionError('owner', 'must be a non-empty string');
  return { workers, pulseMs, leaseMs, jobTimeoutMs, sweepMs, owner, maxPending };
}

export function resolveStopTimeout(options: StopOptions | undefined): number {
  const t = options?.timeoutMs;
  if (t === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
    throw new InvalidOptionError('timeoutMs', `must be a finite number >= 0, got ${String(t)}`);
  }
  return t;
}
