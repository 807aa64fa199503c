import { deserializeArgs, type Clock, type IContainerFactory, type IJobScope, type JobLogger, type JobRegistry } from '@oddjob/core';
import type { ActorRef, Behaviour } from './actors.js';
import { RunContext } from './job-context.js';
import type { LayerMessage, RunResult, WorkerMessage } from './messages.js';
import type { ResultInbox } from './result-inbox.js';

/**
 * A worker's life:
 *   idle ──run──▶ busy ──result sent──▶ idle
 * (its actor stops with the queue; a stopped worker receives nothing more).
 */
export type WorkerState =
  /** Waiting for the coordinator to hand it a job. */
  | 'idle'
  /** Running one job; further jobs wait in its mailbox (at most about two per worker, by backpressure). */
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
 * Runs one job at a time: its actor awaits `receive`, so the mailbox is the worker's queue. Nothing a
 * job does can escape as an exception: every failure becomes a 'threw' result for the coordinator.
 */
export class JobWorker implements Behaviour<WorkerMessage> {
  state: WorkerState = 'idle';

  constructor(private readonly deps: WorkerDeps) {}

  async receive(msg: WorkerMessage): Promise<void> {
    const run = msg.run;
    if (run.abortReason !== null) {
      // Aborted while it waited (shutdown, lost lease): never start it.
      run.state = 'finished';
      this.deps.results.post(run, { kind: 'skipped' });
      return;
    }
    this.state = 'busy';
    run.state = 'running';
    run.startedAt = this.deps.clock.now().getTime();
    const job = run.job;
    let result: RunResult;
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
      if (isThenable(value)) await run.race(value);
      result = { kind: 'succeeded' };
    } catch (error) {
      result = { kind: 'threw', error };
    }
    if (scope !== null) {
      try {
        const disposed = scope.dispose();
        if (isThenable(disposed)) await disposed;
      } catch (err) {
        // The job's result stands; a failing disposal is the container's problem, reported here.
        this.deps.logger.warn({ err, jobId: job.id }, 'oddjob: disposing the job scope failed');
      }
    }
    run.state = 'finished';
    this.state = 'idle';
    this.deps.results.post(run, result);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}
