import {
  deserializeArgs,
  runWithJobContext,
  serializeResult,
  storedAmbient,
  type AmbientContext,
  type Clock,
  type IContainerFactory,
  type IJobScope,
  type JobLogger,
  type JobRegistry,
} from '@oddjob/core';
import type { ActorRef, Behaviour } from './actors.js';
import { unreachable } from './unreachable.js';
import type { ExecutorEventHub } from './events.js';
import { RunContext } from './job-context.js';
import type { LayerMessage, RunResult, WorkerMessage } from './messages.js';
import type { ResultInbox } from './result-inbox.js';
import type { RunningJob } from './running-job.js';
import type { SandboxPool } from './sandbox/pool.js';
import type { RunWrappers } from './run-wrappers.js';

export interface WorkerDeps {
  index: number;
  registry: JobRegistry;
  containers: IContainerFactory;
  clock: Clock;
  logger: JobLogger;
  /** Where results go: the coordinator's batching inbox. */
  results: ResultInbox;
  layer: ActorRef<LayerMessage>;
  /** The shell's events ('job:started' is told from here). */
  events?: ExecutorEventHub;
  /** Set for a sandboxed queue: the method runs in one of these threads, not on this event loop. */
  sandbox?: SandboxPool;
  /** Restores the ambient context captured at enqueue around each run (not in sandboxed queues). */
  ambient?: AmbientContext;
  /** The tenant (store name) this worker's queue belongs to, shown as jobContext().tenant. */
  tenant?: string;
  /** Code run around each in-process run (the shell's `aroundRun`). */
  wrappers?: RunWrappers;
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
  constructor(private readonly deps: WorkerDeps) {}

  receive(msg: WorkerMessage): void | Promise<void> {
    switch (msg.kind) {
      case 'run':
        return this.runFrom(msg.runs, 0);
      default:
        return unreachable(msg.kind);
    }
  }

  /**
   * Runs `runs` from index `from` on, synchronously for as long as the jobs are synchronous and the
   * slice lasts; at the first wait (an async job, or the end of the slice) it returns a promise that
   * carries on after the wait.
   */
  private runFrom(runs: readonly RunningJob[], from: number): void | Promise<void> {
    const sliceEnd = performance.now() + SLICE_MS;
    for (let i = from; i < runs.length; i++) {
      const pending = this.runOne(runs[i]);
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
    const now = this.deps.clock.now().getTime();
    if (run.abortReason !== null || run.leaseLapsed(now)) {
      // Aborted while it waited (shutdown, lost lease), or its lease ran out while it waited (a
      // neighbour blocked the loop past it): never start it. A skipped run is released, so it is
      // claimable again at once with its attempt not counted (or refused harmlessly if another
      // executor took it meanwhile).
      if (run.abortReason === null)
        this.deps.logger.warn(
          { jobId: run.job.id },
          'oddjob: the lease ran out before the job started; releasing it unrun',
        );
      run.state = 'finished';
      this.deps.results.post(run, { kind: 'skipped' });
      return undefined;
    }
    run.state = 'running';
    run.startedAt = now;
    if (this.deps.events?.has('job:started')) {
      // Two literals rather than a spread of a maybe-empty object: one allocation per run, not two.
      const tenant = this.deps.tenant;
      const { queue } = run.job;
      this.deps.events.emit(
        'job:started',
        tenant === undefined
          ? { queue, job: run.job, worker: this.deps.index }
          : { queue, tenant, job: run.job, worker: this.deps.index },
      );
    }
    const job = run.job;
    let scope: IJobScope | null = null;
    try {
      // Resolution goes through the registry only: a stored name can reach a registered class's own
      // methods and nothing else. Unknown names throw errors the coordinator never retries.
      const target = this.deps.registry.resolveTarget(job.target);
      const method = this.deps.registry.resolveMethod(job.target, job.method);
      const ctx = new RunContext(
        run,
        this.deps.layer,
        this.deps.logger,
        this.deps.clock,
        this.deps.tenant,
        this.deps.events,
      );
      if (this.deps.sandbox?.takes(job.target) === true) {
        // The thread decodes the arguments and builds the target itself; its progress and logs come
        // back through this run's context, and an abort terminates the thread.
        return this.settle(run, null, run.race(this.deps.sandbox.run(job, ctx, run.signal)));
      }
      const args = deserializeArgs(job.args, job.id);
      scope = this.deps.containers.createScope();
      const instance: unknown = scope.resolve(target);
      passContextPositionally(method, args, ctx);
      const call = () => runWithJobContext(ctx, () => method.apply(instance, args));
      const wrappers = this.deps.wrappers;
      const invoke = wrappers === undefined || wrappers.empty ? call : () => wrappers.wrap(job, call);
      const captured = this.deps.ambient === undefined ? undefined : storedAmbient(job.metadata);
      // Restored outside the job context, so the application's own context is the outer one and
      // anything the job starts sees both.
      const value = captured === undefined ? invoke() : this.deps.ambient!.restore(captured, invoke);
      if (isThenable(value)) return this.settle(run, scope, run.race(value));
      // Serialized here, on the job's turn: a value that cannot be stored (too large, a class
      // instance, a function) fails the job with a JobResultError naming it, never retried.
      return this.finish(run, scope, {
        kind: 'succeeded',
        result: serializeResult(value, job.id),
      });
    } catch (error) {
      return this.finish(run, scope, { kind: 'threw', error });
    }
  }

  private async settle(run: RunningJob, scope: IJobScope | null, work: Promise<unknown>): Promise<void> {
    let result: RunResult;
    try {
      const value = await work;
      result = { kind: 'succeeded', result: serializeResult(value, run.job.id) };
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
    this.deps.results.post(run, result);
  }
}

/**
 * The old, positional form of the context, kept only where it cannot land in a job's own parameter.
 * `Function.length` counts the parameters before the first default value or rest parameter, so the
 * context goes into the slot at `method.length - 1` only when the recorded arguments do not reach
 * it (`send(to, subject, ctx?)` enqueued as `send(to, subject)` or `send(to)`; omitted ones are
 * padded with undefined). When they do reach it (`make(file, width = 100, ctx?)` enqueued as
 * `make('cat.png')`; `log(...lines)`), nothing is appended: there the slot after the arguments is a
 * default or rest parameter of the job's own. `jobContext()` works in every case.
 */
export function passContextPositionally(method: { length: number }, args: unknown[], ctx: unknown): void {
  const slot = method.length - 1;
  if (args.length > slot) return;
  while (args.length < slot) args.push(undefined);
  args.push(ctx);
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}
