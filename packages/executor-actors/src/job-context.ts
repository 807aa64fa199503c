import { formatLogParts, loggerCallText, storedAmbient } from '@oddjob/core';
import type { Clock, JobContext, JobLogger, JobMetadata, JobProgress, LogLevel } from '@oddjob/core';
import type { ActorRef } from './actors.js';
import type { ExecutorEventHub } from './events.js';
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
    private readonly clock: Clock,
    /** The store's tenant name, when the shell serves several. */
    readonly tenant?: string,
    private readonly events?: ExecutorEventHub,
  ) {}

  get jobId(): string {
    return this.run.job.id;
  }
  get queue(): string {
    return this.run.job.queue;
  }
  /** An immediate attempt 1 made before the job was stored is counted in attempts (insertAttempted). */
  get attempt(): number {
    return this.run.job.attempts;
  }
  get maxAttempts(): number {
    return this.run.job.retry.maxAttempts;
  }
  get ambient(): unknown {
    return storedAmbient(this.run.job.metadata);
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
      const bindings = {
        jobId: j.id,
        queue: j.queue,
        target: j.target,
        method: j.method,
        attempt: j.attempts,
        worker: this.run.worker,
      };
      const child = this.parentLogger.child ? this.parentLogger.child(bindings) : bound(this.parentLogger, bindings);
      this.childLogger = teed(child, (level, text) => this.run.log(this.clock, level, text));
    }
    return this.childLogger;
  }

  log(...parts: unknown[]): void {
    this.run.log(this.clock, 'info', formatLogParts(parts));
  }

  logAt(level: LogLevel, ...parts: unknown[]): void {
    this.run.log(this.clock, level, formatLogParts(parts));
  }

  /**
   * Resolves false when the lease is gone (the job should stop: its result will be dropped). A storage
   * error is logged and answered true: the progress was not saved, but the job may well finish, and it
   * must not give up over a progress write. Never rejects, so an un-awaited call cannot crash anything.
   */
  reportProgress(progress: JobProgress, message?: string): Promise<boolean> {
    if (this.run.abortReason === 'lease-lost') return Promise.resolve(false);
    if (this.events?.has('job:progress')) {
      this.events.emit('job:progress', {
        ...(this.tenant === undefined ? {} : { tenant: this.tenant }),
        queue: this.run.job.queue,
        jobId: this.run.job.id,
        progress,
        message: message ?? null,
      });
    }
    return new Promise<boolean>((resolve) => {
      this.layer.tell({
        kind: 'progress',
        lease: this.run.lease,
        progress,
        message: message ?? null,
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

/** The job's logger, also writing each line into the run's stored log. */
function teed(logger: JobLogger, store: (level: LogLevel, text: string) => void): JobLogger {
  const at =
    (level: LogLevel) =>
    (obj: object, msg?: string): void => {
      logger[level](obj, msg);
      store(level, loggerCallText(obj, msg));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b) => teed(logger.child ? logger.child(b) : bound(logger, b), store),
  };
}
