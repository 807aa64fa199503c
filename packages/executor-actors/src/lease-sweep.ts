import type { JobLogger, LeaseCheck } from '@oddjob/core';
import type { ResolvedQueueOptions } from './options.js';
import type { RunningJob } from './running-job.js';

/**
 * The one lease/timeout sweep per queue (instead of timers per job): aborts runs past their
 * timeout and picks the leases due for renewal. At most one renewal is out at a time.
 */
export class LeaseSweep {
  private renewal: 'idle' | 'in-flight' = 'idle';

  constructor(
    private readonly options: ResolvedQueueOptions,
    private readonly logger: JobLogger,
    private readonly queue: string,
  ) {}

  /** Enforces timeouts; returns the runs whose leases should be renewed now, or null for none. */
  sweep(runs: Iterable<RunningJob>, now: number): RunningJob[] | null {
    const renewAfter = this.options.leaseMs / 3;
    const toRenew: RunningJob[] = [];
    for (const run of runs) {
      if (run.state === 'running' && run.abortReason === null && now - run.startedAt >= this.options.jobTimeoutMs) {
        this.logger.warn(
          { jobId: run.job.id, queue: this.queue, timeoutMs: this.options.jobTimeoutMs },
          'oddjob: job timed out; aborting it',
        );
        run.abort('timeout', this.options.jobTimeoutMs);
      }
      if (run.abortReason !== 'lease-lost' && now - run.leaseRenewedAt >= renewAfter) toRenew.push(run);
    }
    if (toRenew.length === 0 || this.renewal === 'in-flight') return null;
    this.renewal = 'in-flight';
    return toRenew;
  }

  /** A renewal came back: record the new lease start, or abort the runs whose lease is gone. */
  extended(runs: readonly RunningJob[], checks: readonly LeaseCheck[], at: number): void {
    this.renewal = 'idle';
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i];
      if (checks[i] === 'ok') {
        run.leaseRenewedAt = at;
      } else if (run.state !== 'finished') {
        this.logger.warn(
          { jobId: run.job.id, queue: this.queue },
          'oddjob: lease renewal refused; aborting the run and dropping its result',
        );
        run.abort('lease-lost');
      }
    }
  }

  extendFailed(error: unknown): void {
    this.renewal = 'idle';
    this.logger.warn({ err: error, queue: this.queue }, 'oddjob: renewing leases failed; the next sweep tries again');
  }
}
