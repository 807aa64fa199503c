import type { ClaimedJob, JobError, JobLogger, JobProgress } from '@oddjob/core';

/**
 * What the shell tells listeners, in process: `shell.on('job:failed', ({ job, error }) => ...)`.
 * One line per event: add a key and its payload here, and emit it where it happens. Payloads are one
 * object each, so fields can be added later without breaking listeners. `tenant` names the store a
 * job or queue belongs to when the shell serves several (absent otherwise).
 */
export interface ExecutorEvents {
  /** The shell was constructed and is ready to start queues. */
  'executor:started': { owner: string };
  /** shutdown() began: no queue starts any more; running jobs get `timeoutMs` to finish. */
  'executor:stopping': { timeoutMs: number };
  /** A worker invoked the job's method. */
  'job:started': { queue: string; tenant?: string; job: ClaimedJob; worker: number };
  /** A running job reported progress (told when the job calls reportProgress, before it is stored). */
  'job:progress': { queue: string; tenant?: string; jobId: string; progress: JobProgress; message: string | null };
  /**
   * The job's `done` outcome was written (as the `onJobSuccess` hook). `durationMs` in these three:
   * from the method's start to the stored outcome, on the executor's clock (null if it never started).
   */
  'job:succeeded': { queue: string; tenant?: string; job: ClaimedJob; durationMs: number | null };
  /** The job's `retry` outcome was written (as `onJobRetry`). */
  'job:retry': {
    queue: string;
    tenant?: string;
    job: ClaimedJob;
    error: JobError;
    runAt: Date;
    durationMs: number | null;
  };
  /** The job's `failed` outcome was written (as `onJobFailed`). */
  'job:failed': { queue: string; tenant?: string; job: ClaimedJob; error: JobError; durationMs: number | null };
  /**
   * The queue stopped claiming because storage answered with a permanent error (a
   * `StorageOperationError`: a broken statement, a missing table, a permission): backing off cannot
   * help. Jobs already claimed still finish; the queue stays `failed` until stopped.
   */
  'queue:failed': { queue: string; tenant?: string; operation: string; error: unknown };
}

export type ExecutorEventName = keyof ExecutorEvents;
export type ExecutorListener<K extends ExecutorEventName> = (payload: ExecutorEvents[K]) => void;

/**
 * A tiny typed emitter rather than Node's EventEmitter: no special 'error' event that throws when
 * nobody listens, a listener that throws is logged and never reaches the executor's actors, and
 * `has()` lets the hot path skip building a payload nobody reads.
 */
export class ExecutorEventHub {
  private readonly listeners = new Map<ExecutorEventName, Set<(payload: never) => void>>();

  constructor(private readonly logger: JobLogger) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends ExecutorEventName>(event: K, listener: ExecutorListener<K>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends ExecutorEventName>(event: K, listener: ExecutorListener<K>): void {
    const set = this.listeners.get(event);
    set?.delete(listener);
    if (set?.size === 0) this.listeners.delete(event);
  }

  has(event: ExecutorEventName): boolean {
    return this.listeners.has(event);
  }

  emit<K extends ExecutorEventName>(event: K, payload: ExecutorEvents[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as ExecutorListener<K>)(payload);
      } catch (err) {
        this.logger.error({ err, event }, 'oddjob: an event listener threw');
      }
    }
  }
}
