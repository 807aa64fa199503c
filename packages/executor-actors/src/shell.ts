import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  QUEUE_PATTERN,
  checkHostName,
  InvalidOptionError,
  OddJobError,
  isArray,
  defaultRegistry,
  newInstanceFactory,
  systemClock,
  ambientContext,
  type AmbientContext,
  type Clock,
  type IContainerFactory,
  type IJobQueueManager,
  type JobLogger,
  type JobRegistry,
} from '@oddjob/core';
import { ActorSystem, type ActorRef } from './actors.js';
import { JobQueueCoordinator, type CoordinatorClass, type CoordinatorState, type QueueFailure } from './coordinator.js';
import { ExecutorEventHub, type ExecutorEventName, type ExecutorListener } from './events.js';
import { defaultLogger } from './logger.js';
import type { CoordinatorMessage, LayerMessage, WorkerMessage } from './messages.js';
import {
  FLUSH_GRACE_MS,
  resolveQueueOptions,
  resolveStopTimeout,
  type QueueOptions,
  type StopOptions,
} from './options.js';
import { QueueLayer } from './queue-layer.js';
import { SchedulerLoop, type ScheduleTicker } from './scheduler-loop.js';
import { JobWorker } from './worker.js';
import { ExecutorHeartbeat, isExecutorRegistry, resolveHeartbeatMs } from './executor-heartbeat.js';
import { RunWrappers, type RunWrapper } from './run-wrappers.js';
import { SandboxPool, checkSandboxTargets } from './sandbox/pool.js';

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
  /**
   * The store (any `IJobQueueManager`: every store object is one). The shell makes every storage
   * call through its queue-layer actor.
   */
  store?: IJobQueueManager;
  /** @deprecated The old name of `store`; still accepted. Give one of the two. */
  manager?: IJobQueueManager;
  /**
   * Several stores (databases), each under a tenant name, served by this one shell. Each tenant has
   * its own queue layer (so its storage outage backs off alone) and its queues their own coordinators
   * and workers (so one tenant's backlog cannot take another's workers). Give this or `store`.
   */
  tenants?: Readonly<Record<string, IJobQueueManager>>;
  /** Opens a DI scope per run. Default: core's newInstanceFactory (`new Target()`, no dependencies). */
  containers?: IContainerFactory;
  /**
   * How often the shell renews its entry in the store's executor registry (`listExecutors`, the
   * CLI's `executors`, the dashboard). Default 10 000 ms.
   */
  heartbeatMs?: number;
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
  /**
   * The host name this shell claims for, records on its runs and registers under: jobs pinned to it
   * (JobOptions.pinnedHost, the adder's `pinToHost`) are claimed by this shell's queues. 1 to 255
   * characters. Default `os.hostname()` (what `pinToHost: true` pins to).
   */
  host?: string;
  /** Things whose `tick()` fires due schedules (core's Scheduler); ticked every schedulePollMs. */
  schedulers?: readonly ScheduleTicker[];
  /** Default 1000 ms. */
  schedulePollMs?: number;
  /**
   * Restores the ambient context captured at enqueue (core's `withAmbient` adder) around each run;
   * the same object you give the adder. Not applied in sandboxed queues (another thread).
   */
  ambient?: AmbientContext<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One store the shell serves: its own queue layer and wake-up subscription. */
interface TenantHandle {
  /** undefined for the single `store`. */
  name: string | undefined;
  store: IJobQueueManager;
  layer: QueueLayer;
  layerRef: ActorRef<LayerMessage>;
  unsubscribe: (() => void) | null;
}

/** Queue handles are keyed by tenant and queue; a tenant name cannot contain this separator. */
const KEY_SEP = '\u0000';
const TENANT_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

interface QueueHandle {
  name: string;
  tenant: string | undefined;
  coordinator: JobQueueCoordinator;
  ref: ActorRef<CoordinatorMessage>;
  workers: ActorRef<WorkerMessage>[];
  /** The queue's worker threads, when it is sandboxed. */
  sandbox: SandboxPool | undefined;
}

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
  private readonly containers: IContainerFactory;
  private readonly registry: JobRegistry;
  private readonly logger: JobLogger;
  private readonly coordinatorClass: CoordinatorClass;
  private readonly clock: Clock;
  readonly owner: string;
  /** The host name claims are made for (the `host` option, default `os.hostname()`). */
  readonly host: string;
  private readonly schedulerLoop: SchedulerLoop;
  private removeSignalHandlers: (() => void) | null = null;
  private shutdownPromise: Promise<void> | null = null;
  private actorSerial = 0;
  private readonly events: ExecutorEventHub;
  private readonly ambient: AmbientContext | undefined;
  private readonly heartbeat: ExecutorHeartbeat;
  private readonly wrappers = new RunWrappers();

  constructor(options: ShellOptions) {
    if (options === null || typeof options !== 'object')
      throw new InvalidOptionError('store', 'the shell needs { store } implementing IJobQueueManager');
    if (options.store !== undefined && options.manager !== undefined && options.store !== options.manager) {
      throw new InvalidOptionError(
        'store',
        'give either store or its deprecated name manager, not two different stores',
      );
    }
    const single = options.store ?? options.manager;
    const stores: [string | undefined, IJobQueueManager | undefined][] = [];
    if (options.tenants !== undefined) {
      if (single !== undefined) throw new InvalidOptionError('tenants', 'give either store or tenants, not both');
      if (
        options.tenants === null ||
        typeof options.tenants !== 'object' ||
        Object.keys(options.tenants).length === 0
      ) {
        throw new InvalidOptionError('tenants', 'must be an object of one or more { name: store }');
      }
      for (const [name, store] of Object.entries(options.tenants)) {
        if (!TENANT_PATTERN.test(name))
          throw new InvalidOptionError('tenants', `tenant name "${name}" must match ${TENANT_PATTERN}`);
        stores.push([name, store]);
      }
    } else {
      stores.push([undefined, single]);
    }
    for (const [name, store] of stores) {
      if (typeof store?.claimJobs !== 'function') {
        throw new InvalidOptionError(
          name === undefined ? 'store' : `tenants.${name}`,
          'the shell needs { store } implementing IJobQueueManager',
        );
      }
    }
    this.containers = options.containers ?? newInstanceFactory;
    this.registry = options.registry ?? defaultRegistry;
    this.logger = options.logger ?? defaultLogger();
    this.coordinatorClass = options.coordinator ?? JobQueueCoordinator;
    if (
      typeof this.coordinatorClass !== 'function' ||
      !(this.coordinatorClass.prototype instanceof JobQueueCoordinator || this.coordinatorClass === JobQueueCoordinator)
    ) {
      throw new InvalidOptionError('coordinator', 'must be JobQueueCoordinator or a subclass of it');
    }
    this.clock = options.clock ?? systemClock;
    this.ambient = options.ambient === undefined ? undefined : ambientContext(options.ambient);
    this.host = options.host === undefined ? hostname() : checkHostName('host', options.host);
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const pollMs = options.schedulePollMs ?? 1000;
    if (!Number.isInteger(pollMs) || pollMs < 1)
      throw new InvalidOptionError('schedulePollMs', `must be an integer >= 1, got ${String(pollMs)}`);
    const schedulers = options.schedulers ?? [];
    if (!isArray(schedulers) || schedulers.some((s) => typeof s?.tick !== 'function')) {
      throw new InvalidOptionError('schedulers', 'must be an array of objects with a tick() method');
    }

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
    for (const [name, store] of stores as [string | undefined, IJobQueueManager][]) {
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
    const resolved = resolveQueueOptions(name, options, this.owner, this.host);
    if (resolved.sandbox !== null) checkSandboxTargets(resolved.sandbox, this.registry);
    const logger = this.logger.child
      ? this.logger.child(tenant === undefined ? { queue: name } : { tenant, queue: name })
      : this.logger;
    const coordinator = new this.coordinatorClass({ queue: name, options: resolved, clock: this.clock, logger });
    // Names are made unique per start: nact refuses two live children with one name, and a queue can
    // be stopped and started again.
    const serial = ++this.actorSerial;
    const ref = this.system.spawn<CoordinatorMessage>(`coordinator-${name}-${serial}`, coordinator);
    const layerRef = tenantHandle.layerRef;
    const workers: ActorRef<WorkerMessage>[] = [];
    const sandbox = resolved.sandbox === null ? undefined : new SandboxPool(resolved.sandbox, resolved.workers);
    coordinator.attach({
      self: ref,
      layer: layerRef,
      workers,
      events: this.events,
      ...(tenant === undefined ? {} : { tenant }),
    });
    for (let i = 0; i < resolved.workers; i++) {
      const worker = new JobWorker({
        index: i,
        registry: this.registry,
        containers: this.containers,
        clock: this.clock,
        logger,
        results: coordinator.results,
        layer: layerRef,
        events: this.events,
        wrappers: this.wrappers,
        ...(tenant === undefined ? {} : { tenant }),
        ...(this.ambient === undefined ? {} : { ambient: this.ambient }),
        ...(sandbox === undefined ? {} : { sandbox }),
      });
      workers.push(this.system.spawn<WorkerMessage>(`worker-${name}-${serial}-${i}`, worker));
    }
    this.queues.set(key, { name, tenant, coordinator, ref, workers, sandbox });
    coordinator.start();
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
    const done = this.stopQueue(handle, timeoutMs).finally(() => this.stopping.delete(key));
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
      this.logger.warn(
        { queue: name, jobIds: coordinator.unfinished() },
        'oddjob: stop timeout reached; aborting and releasing running jobs',
      );
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
    await handle.sandbox?.close();
    this.logger.info({ queue: name }, 'oddjob: queue stopped');
  }
}

function queueKey(tenant: string | undefined, queue: string): string {
  return tenant === undefined ? queue : `${tenant}${KEY_SEP}${queue}`;
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
