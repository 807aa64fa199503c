import {
  JobTimeoutError,
  LeaseLostError,
  RunLogBuffer,
  ShutdownError,
  type ClaimedJob,
  type Clock,
  type JobLease,
  type JobLogLine,
  type LogLevel,
} from '@oddjob/core';

/**
 * Where a claimed job is in this executor:
 *   queued ──worker starts it──▶ running ──method settled──▶ finished
 *   queued ──aborted before start──────────────────────────▶ finished
 */
export type RunState =
  /** Handed to a worker, waiting in its mailbox. Its lease is renewed all the same. */
  | 'queued'
  /** The worker invoked the method and awaits it. */
  | 'running'
  /** The worker reported a result (or skipped it); the coordinator decides the outcome. */
  | 'finished';

/** Why a run's signal was aborted. The coordinator maps each to an outcome. */
export type AbortReason =
  /** Ran past jobTimeoutMs: a failed attempt, retried per the job's policy. */
  | 'timeout'
  /** The queue is stopping: the job is released unrun/unfinished, its attempt not counted. */
  | 'shutdown'
  /** A lease renewal was refused: someone else owns the job now; whatever this run produces is dropped. */
  | 'lease-lost';

/**
 * One claimed job as it moves through the executor. Owned by its queue's coordinator; the worker that
 * runs it writes `state` and `startedAt` only. Sharing this object between the two actors is safe
 * because Node runs both on one thread and neither awaits between reading and writing these fields;
 * it saves a 'started' message per job on the hot path.
 */
export class RunningJob {
  state: RunState = 'queued';
  /** Clock time (ms) the method was invoked; meaningful once running. */
  startedAt = 0;
  /**
   * Clock time (ms) the lease was last taken or renewed, counted from when the claim or renewal was
   * *asked*, so the executor's idea of the lease never outlasts the store's.
   */
  leaseRenewedAt: number;
  abortReason: AbortReason | null = null;
  /** Which worker (0-based) the coordinator handed it to. */
  readonly worker: number;
  readonly lease: JobLease;
  private controller: AbortController | null = null;
  /** The run's log lines not yet written; made on the first line (most jobs never log). */
  private logBuffer: RunLogBuffer | null = null;
  private abortError: Error | null = null;
  /** Set by the worker while it awaits the method, so an abort ends the wait even if the job ignores its signal. */
  private onAbort: ((error: Error) => void) | null = null;

  constructor(
    readonly job: ClaimedJob,
    worker: number,
    claimedAt: number,
    /** The lease length the job was claimed (and is renewed) with. */
    readonly leaseMs: number,
  ) {
    this.worker = worker;
    this.leaseRenewedAt = claimedAt;
    this.lease = { jobId: job.id, token: job.lease.token };
  }

  /**
   * The job's AbortSignal, made on first use: most jobs never look at it, and an AbortController per
   * job is a measurable cost at tens of thousands of jobs a second.
   */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abortError !== null) this.controller.abort(this.abortError);
    }
    return this.controller.signal;
  }

  /** Adds a line to the run's stored log (bounded: see RunLogBuffer). */
  log(clock: Clock, level: LogLevel, message: string): void {
    (this.logBuffer ??= new RunLogBuffer(clock)).add(level, message);
  }

  /** The log lines not yet written, once; undefined when there are none. */
  takeLogs(): JobLogLine[] | undefined {
    return this.logBuffer?.take();
  }

  /** Gives back lines whose write failed, so the next write carries them. */
  putBackLogs(lines: readonly JobLogLine[]): void {
    this.logBuffer?.putBack(lines);
  }

  get hasPendingLogs(): boolean {
    return this.logBuffer?.hasPending === true;
  }

  /** The error the run ended with because of the abort (what a timeout is recorded as). */
  get abortedWith(): Error | null {
    return this.abortError;
  }

  /**
   * True once the lease has run out as far as this executor knows (no renewal came back in time, e.g.
   * because a job blocked the event loop). A job in that state must not start: another executor may
   * already hold it.
   */
  leaseLapsed(now: number): boolean {
    return now >= this.leaseRenewedAt + this.leaseMs;
  }

  /** Aborts once; later calls keep the first reason (a timeout then a shutdown stays a timeout). */
  abort(reason: AbortReason, timeoutMs = 0): void {
    if (this.abortReason !== null || this.state === 'finished') return;
    this.abortReason = reason;
    this.abortError =
      reason === 'timeout'
        ? new JobTimeoutError(this.job.id, timeoutMs)
        : reason === 'shutdown'
          ? new ShutdownError()
          : new LeaseLostError(this.job.id);
    // End the worker's wait first, so the run is reported as aborted even if the job's own abort
    // handler throws something of its own synchronously.
    const wake = this.onAbort;
    this.onAbort = null;
    wake?.(this.abortError);
    this.controller?.abort(this.abortError);
  }

  /** Resolves with the method's promise, or rejects as soon as the run is aborted. */
  race<T>(work: PromiseLike<T>): Promise<T> {
    if (this.abortError !== null) return Promise.reject(this.abortError);
    return new Promise<T>((resolve, reject) => {
      this.onAbort = reject;
      work.then(
        (v) => {
          this.onAbort = null;
          resolve(v);
        },
        (e: unknown) => {
          this.onAbort = null;
          reject(e);
        },
      );
    });
  }
}
