// What a stored outcome sets off: the coordinator's hooks and the executor's job events. Apart from
// coordinator.ts because this fan-out (which hook for which outcome, the event payloads) is one
// concern and the claim and dispatch logic is another.
import type { ClaimedJob, Clock, JobError, JobLogger, JobOutcome } from '@oddjob/core';
import type { ExecutorEventHub } from './events.js';
import type { HookRunner } from './hook-runner.js';
import { MISSING_TARGET } from './outcome-policy.js';
import type { RunningJob } from './running-job.js';
import { unreachable } from './unreachable.js';

/** The coordinator's outcome hooks (a subclass may override them). */
export interface OutcomeHooks {
  onJobSuccess(job: ClaimedJob): void | Promise<void>;
  onJobFailed(job: ClaimedJob, error: JobError): void | Promise<void>;
  onJobRetry(job: ClaimedJob, error: JobError, runAt: Date): void | Promise<void>;
  onMissingTarget(job: ClaimedJob, error: JobError): void | Promise<void>;
}

export class OutcomeAnnouncer {
  constructor(
    private readonly target: OutcomeHooks,
    private readonly hooks: HookRunner,
    private readonly events: ExecutorEventHub | null,
    /** `{ tenant }` spread into event payloads, or nothing for a single-store shell. */
    private readonly tenantTag: { tenant?: string },
    private readonly logger: JobLogger,
    private readonly queue: string,
    private readonly clock: Clock,
  ) {}

  /**
   * From the method's start to now (its outcome stored), on the executor's clock; null for a run
   * whose method never started. Carried in the events so a listener (metrics) keeps no start time
   * per job of its own.
   */
  private durationOf(run: RunningJob): number | null {
    return run.startedAt === 0 ? null : Math.max(0, this.clock.now().getTime() - run.startedAt);
  }

  /** Calls the hooks and tells the events for one outcome storage accepted. */
  stored(run: RunningJob, outcome: JobOutcome): void {
    const job = run.job;
    switch (outcome.kind) {
      case 'done':
        this.hooks.call('onJobSuccess', () => this.target.onJobSuccess(job));
        // The hot event: its payload is built only for listeners, as one literal (no spread).
        if (this.events?.has('job:succeeded')) {
          const tenant = this.tenantTag.tenant;
          const durationMs = this.durationOf(run);
          this.events.emit(
            'job:succeeded',
            tenant === undefined
              ? { queue: this.queue, job, durationMs }
              : { queue: this.queue, tenant, job, durationMs },
          );
        }
        break;
      case 'retry':
        this.hooks.call('onJobRetry', () => this.target.onJobRetry(job, outcome.error, outcome.runAt));
        this.events?.emit('job:retry', {
          queue: this.queue,
          ...this.tenantTag,
          job,
          error: outcome.error,
          runAt: outcome.runAt,
          durationMs: this.durationOf(run),
        });
        break;
      case 'failed':
        if (MISSING_TARGET.has(outcome.error.name))
          this.hooks.call('onMissingTarget', () => this.target.onMissingTarget(job, outcome.error));
        this.hooks.call('onJobFailed', () => this.target.onJobFailed(job, outcome.error));
        this.events?.emit('job:failed', {
          queue: this.queue,
          ...this.tenantTag,
          job,
          error: outcome.error,
          durationMs: this.durationOf(run),
        });
        break;
      case 'released':
        this.logger.info({ jobId: job.id, queue: this.queue }, 'oddjob: job released for another executor');
        break;
      default:
        unreachable(outcome);
    }
  }
}
