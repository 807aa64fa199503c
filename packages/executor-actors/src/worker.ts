import { deserializeArgs, type Clock, type IContainerFactory, type IJobScope, type JobLogger, type JobRegistry } from '@oddjob/core';
import type { ActorRef, Behaviour } from './actors.js';
import { RunContext } from './job-context.js';
import type { LayerMessage, RunResult, WorkerMessage } from './messages.js';
import type { ResultInbox } from './result-inbox.js';
import type { RunningJob } from './running-job.js';

/**
 * A worker's life:
 *   idle ──run──▶ busy ──result sent──▶ idle
 * (its actor stops with the queue; a stopped worker receives nothing more).
 */
export type WorkerState =
  /** Waiting for the coordinator to hand it a job. */
  | 'idle'
  /** Running one job; the rest of its share and later messages wait. */
  | 'busy';

export interface WorkerDeps {
  index: number;
  registry: JobRegistry;
  containers: IContainerFactory;
  clock: Clock;
  logger: JobLogger;
  /** Where results go: the coordinator's batching inbox. */
  results: ResultInbox;
  layer: ActorRef<LayerMessage>;
}

/**
 * How long a worker runs synchronous jobs back to back before it yields to the event loop. A
 * message carries a worker's whole share of a claim; without a yield, a share of slow synchronous
 * jobs would hold the loop (and with it lease renewals, claims and other workers) for all of them.
 */
const SLICE_MS = 5;

/**
 * Runs one job at a time, in the order the coordinator handed them over: its actor waits for
 * `receive`, so the mailbox is the worker's queue, and a message holds several jobs. A job that
 * finishes synchronously costs no promise: the worker goes straight on to the next, yielding to the
 * event loop once SLICE_MS have passed; an asynchronous one is awaited. Nothing a job does can
 * escape as an exception: every failure becomes a 'threw' result for the coordinator.
 */
export class JobWorker implements Behaviour<WorkerMessage> {
  state: WorkerState = 'idle';

  constructor(private readonly deps: WorkerDeps) {}

  receive(msg: WorkerMessage): void | Promise<void> {
    return this.runFrom(msg.runs, 0);
  }

  /**
   * Runs `runs` from index `from` on, synchronously for as long as the jobs are synchronous and the
   * slice lasts; at the first wait (an async job, or the end of the slice) it returns a promise that
   * carries on after the wait.
   */
  private runFrom(runs: readonly RunningJob[], from: number): void | Promise<void> {
    const sliceEnd = performance.now() + SLICE_MS;
    for (let i = from; i < runs.length; i++) {
      const pending = this.runOne(runs[i]!);
      if (pending !== undefined) return this.continueAfter(pending, runs, i + 1);
      if (i + 1 < runs.length && performance.now() >= sliceEnd) return this.continueAfter(yieldToLoop(), runs, i + 1);
    }
    return undefined;
  }

  private async continueAfter(wait: Promise<void>, runs: readonly RunningJob[], from: number): Promise<void> {
    await wait;
    await this.runFrom(runs, from);
  }

  /** Runs one job; returns a promise only if it has to wait for something (an async job or disposal). */
  private runOne(run: RunningJob): Promise<void> | undefined {
    if (run.abortReason !== null) {
      // Aborted while it waited (shutdown, lost lease): never start it.
      run.state = 'finished';
      this.deps.results.post(run, { kind: 'skipped' });
      return undefined;
    }
    this.state = 'busy';
    run.state = 'running';
    run.startedAt = this.deps.clock.now().getTime();
    const job = run.job;
    let scope: IJobScope | null = null;
    try {
      // Resolution goes through the registry only: a stored name can reach a registered class's own
      // methods and nothing else. Unknown names throw errors the coordinator never retries.
      const target = this.deps.registry.resolveTarget(job.target);
      const method = this.deps.registry.resolveMethod(job.target, job.method);
      const args = deserializeArgs(job.args, job.id);
      scope = this.deps.containers.createScope();
      const instance = scope.resolve(target);
      // Pad omitted optional arguments so that a declared trailing `ctx?: JobContext` parameter gets
      // the context, not `undefined` in the context's place.
      const declared = method.length - 1;
      while (args.length < declared) args.push(undefined);
      args.push(new RunContext(run, this.deps.layer, this.deps.logger));
      const value = method.apply(instance, args);
      if (isThenable(value)) return this.settle(run, scope, run.race(value));
      return this.finish(run, scope, { kind: 'succeeded' });
    } catch (error) {
      return this.finish(run, scope, { kind: 'threw', error });
    }
  }

  private async settle(run: RunningJob, scope: IJobScope, work: Promise<unknown>): Promise<void> {
    let result: RunResult;
    try {
      await work;
      result = { kind: 'succeeded' };
    } catch (error) {
      result = { kind: 'threw', error };
    }
    await this.finish(run, scope, result);
  }

  /** Disposes the job's scope, then posts the result; a promise only if disposal is asynchronous. */
  private finish(run: RunningJob, scope: IJobScope | null, result: RunResult): Promise<void> | undefined {
    let disposed: unknown;
    try {
      disposed = scope?.dispose();
    } catch (err) {
      this.disposeFailed(run, err);
    }
    if (isThenable(disposed)) {
      return Promise.resolve(disposed).then(
        () => this.post(run, result),
        (err: unknown) => {
          this.disposeFailed(run, err);
          this.post(run, result);
        },
      );
    }
    this.post(run, result);
    return undefined;
  }

  private disposeFailed(run: RunningJob, err: unknown): void {
    // The job's result stands; a failing disposal is the container's problem, reported here.
    this.deps.logger.warn({ err, jobId: run.job.id }, 'oddjob: disposing the job scope failed');
  }

  private post(run: RunningJob, result: RunResult): void {
    run.state = 'finished';
    this.state = 'idle';
    this.deps.results.post(run, result);
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}
