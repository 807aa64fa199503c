import { QUEUE_PATTERN, InvalidOptionError, OddJobError, type JobLogger } from '@oddjob/core';
import { ActorSystem } from './actors.js';
import type { CoordinatorState, QueueFailure } from './coordinator.js';
import { ExecutorEventHub, type ExecutorEventName, type ExecutorListener } from './events.js';
import type { LayerMessage } from './messages.js';
import {
  FLUSH_GRACE_MS,
  resolveQueueOptions,
  resolveStopTimeout,
  type QueueOptions,
  type StopOptions,
} from './options.js';
import { QueueLayer } from './queue-layer.js';
import {
  queueKey,
  spawnQueue,
  stopQueue,
  type QueueHandle,
  type QueueParts,
  type TenantHandle,
} from './queue-actors.js';
import { SchedulerLoop } from './scheduler-loop.js';
import { ExecutorHeartbeat, isExecutorRegistry, resolveHeartbeatMs } from './executor-heartbeat.js';
import { RunWrappers, type RunWrapper } from './run-wrappers.js';
import { checkSandboxTargets } from './sandbox/pool.js';
import { resolveShellOptions, type ShellOptions } from './shell-options.js';
import { within } from './within.js';

export type { ShellOptions } from './shell-options.js';

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

/**
 * Runs job queues on nact actors:
 *
 *   JobExecutorShell
 *     └─ QueueLayer            one per shell: the only caller of storage; batches outcome writes
 *     └─ JobQueueCoordinator   one per queue: claims with backpressure, dispatches round-robin, decides
 *        └─ JobWorker × N      runs one job at a time in its own DI scope
 */
export class JobExecutorShell {
  private shellState: ShellState = 'running';
  private readonly system: ActorSystem;
  private readonly tenants = new Map<string, TenantHandle>();
  private readonly queues = new Map<string, QueueHandle>();
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly logger: JobLogger;
  /** What every queue shares (the coordinator class, registry, clock, ...), handed to spawnQueue. */
  private readonly parts: QueueParts;
  readonly owner: string;
  /** The host name claims are made for (the `host` option, default `os.hostname()`). */
  readonly host: string;
  private readonly schedulerLoop: SchedulerLoop;
  private removeSignalHandlers: (() => void) | null = null;
  private shutdownPromise: Promise<void> | null = null;
  private actorSerial = 0;
  private readonly events: ExecutorEventHub;
  private readonly heartbeat: ExecutorHeartbeat;
  private readonly wrappers = new RunWrappers();

  constructor(options: ShellOptions) {
    const { stores, pollMs, schedulers, ...resolved } = resolveShellOptions(options);
    this.logger = resolved.logger;
    this.host = resolved.host;
    this.owner = resolved.owner;

    this.system = new ActorSystem('oddjob', {
      onError: (actor, message, err) =>
        this.logger.error(
          { err, actor, message: (message as { kind?: string }).kind },
          'oddjob: an actor failed to handle a message',
        ),
      // Expected after a queue stops (a late storage answer, a late timer tick); never a job result,
      // because a queue's actors stop only once its runs and writes are done or given up on.
      onDropped: (actor, message) =>
        this.logger.debug(
          { actor, message: (message as { kind?: string }).kind },
          'oddjob: message to a stopped actor dropped',
        ),
    });
    this.events = new ExecutorEventHub(this.logger);
    const { coordinatorClass, registry, containers, clock, ambient } = resolved;
    const { system, events, wrappers } = this;
    this.parts = { system, coordinatorClass, registry, containers, clock, events, wrappers, ambient };
    for (const [name, store] of stores) {
      const logger = name === undefined || !this.logger.child ? this.logger : this.logger.child({ tenant: name });
      const layer = new QueueLayer(store, logger);
      const layerRef = this.system.spawn<LayerMessage>(
        name === undefined ? 'queue-layer' : `queue-layer-${name}`,
        layer,
      );
      layer.attach(layerRef);
      // One subscription per store; a wake-up for a queue this shell does not run is ignored.
      const unsubscribe =
        typeof store.onJobsAvailable === 'function'
          ? store.onJobsAvailable((queue) => this.queues.get(queueKey(name, queue))?.ref.tell({ kind: 'nudge' }))
          : null;
      this.tenants.set(name ?? '', { name, store, layer, layerRef, unsubscribe });
    }

    this.schedulerLoop = new SchedulerLoop(schedulers, pollMs, this.logger);
    this.schedulerLoop.start();
    const registries = [...this.tenants.values()].map((t): unknown => t.store).filter(isExecutorRegistry);
    this.heartbeat = new ExecutorHeartbeat(
      this.owner,
      this.host,
      registries,
      () =>
        [...this.queues.values()].map((q) => ({
          name: q.tenant === undefined ? q.name : `${q.tenant}/${q.name}`,
          workers: q.workers.length,
        })),
      resolveHeartbeatMs(options.heartbeatMs),
      this.logger,
    );
    this.heartbeat.start();
    // Told on the next turn, so a listener added right after construction hears it.
    queueMicrotask(() => this.events.emit('executor:started', { owner: this.owner }));
  }

  get state(): ShellState {
    return this.shellState;
  }

  /** Listens to an executor event (see `ExecutorEvents`); returns a function that removes the listener. */
  on<K extends ExecutorEventName>(event: K, listener: ExecutorListener<K>): () => void {
    return this.events.on(event, listener);
  }

  off<K extends ExecutorEventName>(event: K, listener: ExecutorListener<K>): void {
    this.events.off(event, listener);
  }

  /**
   * Runs `wrapper(job, run)` around every in-process run from now on (not sandboxed ones: their
   * method runs in another thread), inside the job's async context; returns a function that removes
   * it. Tracing uses it to make the run's span active inside the job.
   */
  aroundRun(wrapper: RunWrapper): () => void {
    if (typeof wrapper !== 'function')
      throw new InvalidOptionError('aroundRun', 'must be a function (job, run) => run()');
    return this.wrappers.add(wrapper);
  }

  /** A running queue's state (`failed` after a permanent storage error), or undefined if it does not run. */
  queueState(name: string, tenant?: string): CoordinatorState | undefined {
    return this.queues.get(queueKey(tenant, name))?.coordinator.state;
  }

  /** Why a queue is `failed`: the operation and the storage error; null when it is not failed or not running. */
  queueFailure(name: string, tenant?: string): QueueFailure | null {
    return this.queues.get(queueKey(tenant, name))?.coordinator.failure ?? null;
  }

  /** Names of the queues currently running (with tenants: `tenant/queue`). */
  runningQueues(): string[] {
    return [...this.queues.values()].map((h) => (h.tenant === undefined ? h.name : `${h.tenant}/${h.name}`));
  }

  /** The tenant names this shell serves (empty for a single store). */
  tenantNames(): string[] {
    return [...this.tenants.values()].flatMap((t) => (t.name === undefined ? [] : [t.name]));
  }

  /** Starts running a queue. Starting a queue that already runs does nothing (its options stay). */
  startJobQueue(name: string, options: QueueOptions & { tenant?: string } = {}): void {
    const { tenant, ...queueOptions } = options ?? {};
    if (this.tenantNames().length > 0 && tenant === undefined) {
      // With tenants and no tenant named: the queue runs for every tenant, each on its own workers.
      for (const t of this.tenantNames()) this.startJobQueue(name, { ...queueOptions, tenant: t });
      return;
    }
    const handleOf = this.tenants.get(tenant ?? '');
    if (handleOf === undefined)
      throw new InvalidOptionError(
        'tenant',
        `"${String(tenant)}" is not one of this shell's tenants (${this.tenantNames().join(', ') || 'none'})`,
      );
    this.startOne(name, queueOptions, handleOf);
  }

  private startOne(name: string, options: QueueOptions, tenantHandle: TenantHandle): void {
    const tenant = tenantHandle.name;
    const key = queueKey(tenant, name);
    if (this.shellState !== 'running')
      throw new ShellStateError(`cannot start queue "${name}": the shell is ${this.shellState}`);
    if (typeof name !== 'string' || !QUEUE_PATTERN.test(name)) {
      throw new InvalidOptionError('queue', `"${String(name)}" must match ${QUEUE_PATTERN}`);
    }
    if (this.queues.has(key)) return;
    if (this.stopping.has(key)) throw new ShellStateError(`cannot start queue "${name}": it is still stopping`);
    const resolved = resolveQueueOptions(name, options, this.owner, this.host, tenantHandle.store.claimBatchHint);
    if (resolved.sandbox !== null) checkSandboxTargets(resolved.sandbox, this.parts.registry);
    const logger = this.logger.child
      ? this.logger.child(tenant === undefined ? { queue: name } : { tenant, queue: name })
      : this.logger;
    const handle = spawnQueue(this.parts, name, resolved, tenantHandle, logger, () => ++this.actorSerial);
    this.queues.set(key, handle);
    handle.coordinator.start();
    this.heartbeat.changed();
    this.logger.info(
      { queue: name, ...(tenant === undefined ? {} : { tenant }), ...resolved },
      'oddjob: queue started',
    );
  }

  /**
   * Stops one queue: no more claims; jobs not started yet are released at once; running jobs get
   * `timeoutMs` to finish, then are aborted through their signal and released (attempt not counted);
   * their outcomes are written; then the queue's actors stop.
   */
  async stopJobQueue(name: string, options?: StopOptions & { tenant?: string }): Promise<void> {
    const timeoutMs = resolveStopTimeout(options);
    if (options?.tenant === undefined && this.tenantNames().length > 0) {
      await Promise.all(this.tenantNames().map((tenant) => this.stopKey(queueKey(tenant, name), timeoutMs)));
      return;
    }
    return this.stopKey(queueKey(options?.tenant, name), timeoutMs);
  }

  private stopKey(key: string, timeoutMs: number): Promise<void> {
    const inProgress = this.stopping.get(key);
    if (inProgress) return inProgress;
    const handle = this.queues.get(key);
    if (!handle) return Promise.resolve();
    this.queues.delete(key); // wake-ups for it are ignored from now on
    this.heartbeat.changed();
    const done = stopQueue(this.system, handle, timeoutMs, this.logger).finally(() => this.stopping.delete(key));
    this.stopping.set(key, done);
    return done;
  }

  /** Stops every queue (as stopJobQueue), the scheduler loop and the actors. Idempotent. */
  shutdown(options?: StopOptions): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    const timeoutMs = resolveStopTimeout(options);
    this.shellState = 'stopping';
    this.events.emit('executor:stopping', { timeoutMs });
    this.shutdownPromise = (async () => {
      this.logger.info({ timeoutMs }, 'oddjob: shutting down');
      await within(this.heartbeat.stopping(), FLUSH_GRACE_MS);
      await this.schedulerLoop.stop();
      await Promise.all([...this.queues.keys()].map((key) => this.stopKey(key, timeoutMs)));
      await Promise.all([...this.stopping.values()]);
      const unwritten = [];
      for (const t of this.tenants.values()) {
        t.unsubscribe?.();
        unwritten.push(...t.layer.stop());
      }
      if (unwritten.length > 0) {
        this.logger.error(
          { jobIds: unwritten.map((w) => w.run.job.id) },
          'oddjob: outcomes could not be written before shutdown; their leases will expire and the jobs will run again',
        );
      }
      await within(this.heartbeat.stop(), FLUSH_GRACE_MS);
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
      this.shutdown({ timeoutMs: options.timeoutMs }).catch((err: unknown) =>
        this.logger.error({ err }, 'oddjob: shutdown failed'),
      );
    };
    for (const s of signals) process.once(s, onSignal);
    const remove = () => {
      for (const s of signals) process.removeListener(s, onSignal);
    };
    this.removeSignalHandlers = remove;
    return remove;
  }
}
