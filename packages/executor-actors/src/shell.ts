import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  InvalidOptionError,
  OddJobError,
  defaultRegistry,
  newInstanceFactory,
  systemClock,
  type Clock,
  type IContainerFactory,
  type IJobQueueManager,
  type JobLogger,
  type JobRegistry,
} from '@oddjob/core';
import { ActorSystem, type ActorRef } from './actors.js';
import { JobQueueCoordinator, type CoordinatorClass } from './coordinator.js';
import { defaultLogger } from './logger.js';
import type { CoordinatorMessage, LayerMessage, WorkerMessage } from './messages.js';
import { FLUSH_GRACE_MS, resolveQueueOptions, resolveStopTimeout, type QueueOptions, type StopOptions } from './options.js';
import { QueueLayer } from './queue-layer.js';
import { SchedulerLoop, type ScheduleTicker } from './scheduler-loop.js';
import { JobWorker } from './worker.js';

/**
 * The shell's life:
 *   running ──shutdown()──▶ stopping ──queues drained, actors stopped──▶ stopped
 */
export type ShellState =
  /** Queues can be started and stopped; jobs run. */
  | 'running'
  /** shutdown() was called: no new queue starts; running jobs get their timeout, then are released. */
  | 'stopping'
  /** Every actor and timer is gone; the shell cannot be used again. */
  | 'stopped';

/** Raised when the shell is asked to do something its state does not allow (e.g. start a queue after shutdown). */
export class ShellStateError extends OddJobError {}

export interface ShellOptions {
  /** The store's executor side. The shell makes every storage call through its queue-layer actor. */
  manager: IJobQueueManager;
  /** Opens a DI scope per run. Default: core's newInstanceFactory (`new Target()`, no dependencies). */
  containers?: IContainerFactory;
  /** Targets this executor may run. Default: core's defaultRegistry (what @job writes to). */
  registry?: JobRegistry;
  /** Default: pino at ODDJOB_LOG_LEVEL or 'info'. */
  logger?: JobLogger;
  /** A subclass of JobQueueCoordinator whose hooks you override. Default: JobQueueCoordinator. */
  coordinator?: CoordinatorClass;
  /** What "now" is for leases, timeouts and retry times. Default: the system clock. */
  clock?: Clock;
  /** Lease owner shown in admin views. Default: `<host>:<pid>:<random>`. */
  owner?: string;
  /** Things whose `tick()` fires due schedules (core's Scheduler); ticked every schedulePollMs. */
  schedulers?: readonly ScheduleTicker[];
  /** Default 1000 ms. */
  schedulePollMs?: number;
}

interface QueueHandle {
  name: string;
  coordinator: JobQueueCoordinator;
  ref: ActorRef<CoordinatorMessage>;
  workers: ActorRef<WorkerMessage>[];
}

const QUEUE_PATTERN = /^[A-Za-z0-9_.:\-]{1,100}$/;

/**
 * Runs job queues on nact actors (see DESIGN §5):
 *
 *   JobExecutorShell
 *     └─ QueueLayer            one per shell: the only caller of storage; batches outcome writes
 *     └─ JobQueueCoordinator   one per queue: claims with backpressure, dispatches round-robin, decides
 *        └─ JobWorker × N      runs one job at a time in its own DI scope
 */
export class JobExecutorShell {
  private shellState: ShellState = 'running';
  private readonly system: ActorSystem;
  private readonly layer: QueueLayer;
  private readonly layerRef: ActorRef<LayerMessage>;
  private readonly queues = new Map<string, QueueHandle>();
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly manager: IJobQueueManager;
  private readonly containers: IContainerFactory;
  private readonly registry: JobRegistry;
  private readonly logger: JobLogger;
  private readonly coordinatorClass: CoordinatorClass;
  private readonly clock: Clock;
  readonly owner: string;
  private readonly schedulerLoop: SchedulerLoop;
  private readonly unsubscribeNudges: (() => void) | null;
  private removeSignalHandlers: (() => void) | null = null;
  private shutdownPromise: Promise<void> | null = null;
  private actorSerial = 0;

  constructor(options: ShellOptions) {
    if (options === null || typeof options !== 'object' || typeof options.manager?.getJobs !== 'function') {
      throw new InvalidOptionError('manager', 'the shell needs { manager } implementing IJobQueueManager');
    }
    this.manager = options.manager;
    this.containers = options.containers ?? newInstanceFactory;
    this.registry = options.registry ?? defaultRegistry;
    this.logger = options.logger ?? defaultLogger();
    this.coordinatorClass = options.coordinator ?? JobQueueCoordinator;
    if (typeof this.coordinatorClass !== 'function' || !(this.coordinatorClass.prototype instanceof JobQueueCoordinator || this.coordinatorClass === JobQueueCoordinator)) {
      throw new InvalidOptionError('coordinator', 'must be JobQueueCoordinator or a subclass of it');
    }
    this.clock = options.clock ?? systemClock;
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const pollMs = options.schedulePollMs ?? 1000;
    if (!Number.isInteger(pollMs) || pollMs < 1) throw new InvalidOptionError('schedulePollMs', `must be an integer >= 1, got ${String(pollMs)}`);
    const schedulers = options.schedulers ?? [];
    if (!Array.isArray(schedulers) || schedulers.some((s) => typeof s?.tick !== 'function')) {
      throw new InvalidOptionError('schedulers', 'must be an array of objects with a tick() method');
    }

    this.system = new ActorSystem('oddjob', {
      onError: (actor, message, err) =>
        this.logger.error({ err, actor, message: (message as { kind?: string }).kind }, 'oddjob: an actor failed to handle a message'),
      // Expected after a queue stops (a late storage answer, a late timer tick); never a job result,
      // because a queue's actors stop only once its runs and writes are done or given up on.
      onDropped: (actor, message) => this.logger.debug({ actor, message: (message as { kind?: string }).kind }, 'oddjob: message to a stopped actor dropped'),
    });
    this.layer = new QueueLayer(this.manager, this.logger);
    this.layerRef = this.system.spawn('queue-layer', this.layer);
    this.layer.attach(this.layerRef);

    // One subscription for all queues; a wake-up for a queue this shell does not run is ignored.
    this.unsubscribeNudges =
      typeof this.manager.onJobsAvailable === 'function'
        ? this.manager.onJobsAvailable((queue) => this.queues.get(queue)?.ref.tell({ kind: 'nudge' }))
        : null;

    this.schedulerLoop = new SchedulerLoop(schedulers, pollMs, this.logger);
    this.schedulerLoop.start();
  }

  get state(): ShellState {
    return this.shellState;
  }

  /** Names of the queues currently running. */
  runningQueues(): string[] {
    return [...this.queues.keys()];
  }

  /** Starts running a queue. Starting a queue that already runs does nothing (its options stay). */
  startJobQueue(name: string, options: QueueOptions = {}): void {
    if (this.shellState !== 'running') throw new ShellStateError(`cannot start queue "${name}": the shell is ${this.shellState}`);
    if (typeof name !== 'string' || !QUEUE_PATTERN.test(name)) {
      throw new InvalidOptionError('queue', `"${String(name)}" must match ${QUEUE_PATTERN}`);
    }
    if (this.queues.has(name)) return;
    if (this.stopping.has(name)) throw new ShellStateError(`cannot start queue "${name}": it is still stopping`);
    const resolved = resolveQueueOptions(name, options, this.owner);
    const logger = this.logger.child ? this.logger.child({ queue: name }) : this.logger;
    const coordinator = new this.coordinatorClass({ queue: name, options: resolved, clock: this.clock, logger });
    // Names are made unique per start: nact refuses two live children with one name, and a queue can
    // be stopped and started again.
    const serial = ++this.actorSerial;
    const ref = this.system.spawn<CoordinatorMessage>(`coordinator-${name}-${serial}`, coordinator);
    const workers: ActorRef<WorkerMessage>[] = [];
    coordinator.attach({ self: ref, layer: this.layerRef, workers });
    for (let i = 0; i < resolved.workers; i++) {
      const worker = new JobWorker({
        index: i,
        registry: this.registry,
        containers: this.containers,
        clock: this.clock,
        logger,
        results: coordinator.results,
        layer: this.layerRef,
      });
      workers.push(this.system.spawn<WorkerMessage>(`worker-${name}-${serial}-${i}`, worker));
    }
    this.queues.set(name, { name, coordinator, ref, workers });
    coordinator.start();
    this.logger.info({ queue: name, ...resolved }, 'oddjob: queue started');
  }

  /**
   * Stops one queue: no more claims; jobs not started yet are released at once; running jobs get
   * `timeoutMs` to finish, then are aborted through their signal and released (attempt not counted);
   * their outcomes are written; then the queue's actors stop.
   */
  async stopJobQueue(name: string, options?: StopOptions): Promise<void> {
    const timeoutMs = resolveStopTimeout(options);
    const inProgress = this.stopping.get(name);
    if (inProgress) return inProgress;
    const handle = this.queues.get(name);
    if (!handle) return;
    this.queues.delete(name); // wake-ups for it are ignored from now on
    const done = this.stopQueue(handle, timeoutMs).finally(() => this.stopping.delete(name));
    this.stopping.set(name, done);
    return done;
  }

  /** Stops every queue (as stopJobQueue), the scheduler loop and the actors. Idempotent. */
  shutdown(options?: StopOptions): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    const timeoutMs = resolveStopTimeout(options);
    this.shellState = 'stopping';
    this.shutdownPromise = (async () => {
      this.logger.info({ timeoutMs }, 'oddjob: shutting down');
      await this.schedulerLoop.stop();
      await Promise.all([...this.queues.keys()].map((q) => this.stopJobQueue(q, { timeoutMs })));
      await Promise.all([...this.stopping.values()]);
      this.unsubscribeNudges?.();
      const unwritten = this.layer.stop();
      if (unwritten.length > 0) {
        this.logger.error(
          { jobIds: unwritten.map((w) => w.run.job.id) },
          'oddjob: outcomes could not be written before shutdown; their leases will expire and the jobs will run again',
        );
      }
      this.system.shutdown();
      this.removeSignalHandlers?.();
      this.removeSignalHandlers = null;
      this.shellState = 'stopped';
      this.logger.info({}, 'oddjob: shut down');
    })();
    return this.shutdownPromise;
  }

  /**
   * Shuts down gracefully on SIGINT/SIGTERM. Handlers are `once`: a second Ctrl-C falls through to
   * Node's default and ends the process at once. Returns a function that removes the handlers (they
   * are also removed when shutdown completes, so nothing keeps the process alive).
   */
  handleSignals(options: StopOptions & { signals?: readonly NodeJS.Signals[] } = {}): () => void {
    const signals = options.signals ?? (['SIGINT', 'SIGTERM'] as const);
    const onSignal = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, 'oddjob: signal received; shutting down (send it again to exit at once)');
      this.shutdown({ timeoutMs: options.timeoutMs }).catch((err: unknown) => this.logger.error({ err }, 'oddjob: shutdown failed'));
    };
    for (const s of signals) process.once(s, onSignal);
    const remove = () => {
      for (const s of signals) process.removeListener(s, onSignal);
    };
    this.removeSignalHandlers = remove;
    return remove;
  }

  private async stopQueue(handle: QueueHandle, timeoutMs: number): Promise<void> {
    const { coordinator, ref, name } = handle;
    let drained = false;
    const drainedPromise = new Promise<void>((resolve) =>
      ref.tell({
        kind: 'drain',
        done: () => {
          drained = true;
          resolve();
        },
      }),
    );
    if (!(await within(drainedPromise, timeoutMs))) {
      this.logger.warn({ queue: name, jobIds: coordinator.unfinished() }, 'oddjob: stop timeout reached; aborting and releasing running jobs');
      ref.tell({ kind: 'abort-all' });
      await within(drainedPromise, FLUSH_GRACE_MS);
    }
    if (!drained) {
      this.logger.error(
        { queue: name, jobIds: coordinator.unfinished() },
        'oddjob: queue did not drain (storage unreachable?); unwritten jobs run again once their leases expire',
      );
    }
    await within(coordinator.settleHooks(), FLUSH_GRACE_MS);
    coordinator.stop();
    for (const w of handle.workers) this.system.stop(w);
    this.system.stop(ref);
    this.logger.info({ queue: name }, 'oddjob: queue stopped');
  }
}

/** True if `p` settled within `ms`; the timer is always cleared, so nothing is left running. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
