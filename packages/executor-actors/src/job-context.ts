import type { JobContext, JobLogger, JobMetadata, JobProgress } from '@oddjob/core';
import type { ActorRef } from './actors.js';
import type { LayerMessage } from './messages.js';
import type { RunningJob } from './running-job.js';

/**
 * The JobContext a running method receives as its trailing argument. The logger and the signal are
 * made on first use: a no-op job that never touches them costs no child logger and no AbortController.
 */
export class RunContext implements JobContext {
  private childLogger: JobLogger | null = null;

  constructor(
    private readonly run: RunningJob,
    private readonly layer: ActorRef<LayerMessage>,
    private readonly parentLogger: JobLogger,
  ) {}

  get jobId(): string {
    return this.run.job.id;
  }
  get queue(): string {
    return this.run.job.queue;
  }
  get attempt(): number {
    return this.run.job.attempts;
  }
  get maxAttempts(): number {
    return this.run.job.retry.maxAttempts;
  }
  get metadata(): Readonly<JobMetadata> {
    return this.run.job.metadata;
  }
  get signal(): AbortSignal {
    return this.run.signal;
  }

  get logger(): JobLogger {
    if (this.childLogger === null) {
      const j = this.run.job;
      const bindings = { jobId: j.id, queue: j.queue, target: j.target, method: j.method, attempt: j.attempts, worker: this.run.worker };
      this.childLogger = this.parentLogger.child ? this.parentLogger.child(bindings) : bound(this.parentLogger, bindings);
    }
    return this.childLogger;
  }

  /**
   * Resolves false when the lease is gone (the job should stop: its result will be dropped). A storage
   * error is logged and answered true: the progress was not saved, but the job may well finish, and it
   * must not give up over a progress write. Never rejects, so an un-awaited call cannot crash anything.
   */
  reportProgress(progress: JobProgress): Promise<boolean> {
    if (this.run.abortReason === 'lease-lost') return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      this.layer.tell({
        kind: 'progress',
        lease: this.run.lease,
        progress,
        reply: (check) => {
          if (check === 'lease-lost') this.run.abort('lease-lost');
          resolve(check !== 'lease-lost');
        },
      });
    });
  }
}

/** A logger without child(): merges the bindings into every entry. */
function bound(logger: JobLogger, bindings: object): JobLogger {
  return {
    debug: (o, m) => logger.debug({ ...bindings, ...o }, m),
    info: (o, m) => logger.info({ ...bindings, ...o }, m),
    warn: (o, m) => logger.warn({ ...bindings, ...o }, m),
    error: (o, m) => logger.error({ ...bindings, ...o }, m),
  };
}
