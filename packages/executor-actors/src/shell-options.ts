// The shell's options and their checks. Apart from shell.ts because reading and validating a dozen
// options (stores or tenants, coordinator class, host, poll interval) is one concern and the shell's
// queue lifecycle is another; the shell gets the checked values in one object.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  checkHostName,
  InvalidOptionError,
  isArray,
  defaultRegistry,
  newInstanceFactory,
  systemClock,
  ambientContext,
  TENANT_PATTERN,
  type AmbientContext,
  type Clock,
  type IContainerFactory,
  type IJobQueueManager,
  type JobLogger,
  type JobRegistry,
  type SequenceRegistry,
} from '@oddjob/core';
import { JobQueueCoordinator, type CoordinatorClass } from './coordinator.js';
import { defaultLogger } from './logger.js';
import type { ScheduleTicker } from './scheduler-loop.js';
import { checkSequencesOption, withSequences } from './sequence-wiring.js';

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
  /**
   * The sequences this executor can start (core's SequenceRegistry). Given, the shell registers the
   * starter target `oddjob.sequence` with `registry`, and a starter job (a scheduleSequence firing,
   * or `addJob(sequenceJob(name, overrides))`) adds a run of the named sequence from this registry
   * to the store the starter came from. Each store must be able to add jobs (every store's
   * `adder()`). Without it, starter jobs fail, naming this option.
   */
  sequences?: SequenceRegistry;
}

/** The options after their checks, with every default filled in (heartbeatMs is checked later, by the shell). */
export interface ResolvedShellOptions {
  /** Each store with its tenant name; one entry with an undefined name for the single `store`. */
  stores: [string | undefined, IJobQueueManager][];
  containers: IContainerFactory;
  registry: JobRegistry;
  logger: JobLogger;
  coordinatorClass: CoordinatorClass;
  clock: Clock;
  ambient: AmbientContext | undefined;
  host: string;
  owner: string;
  pollMs: number;
  schedulers: readonly ScheduleTicker[];
}

/** Checks the options in a fixed order (so the first bad one is the one named) and fills in defaults. */
export function resolveShellOptions(options: ShellOptions): ResolvedShellOptions {
  if (options === null || typeof options !== 'object')
    throw new InvalidOptionError('store', 'the shell needs { store } implementing IJobQueueManager');
  if (options.store !== undefined && options.manager !== undefined && options.store !== options.manager) {
    throw new InvalidOptionError('store', 'give either store or its deprecated name manager, not two different stores');
  }
  const single = options.store ?? options.manager;
  const stores: [string | undefined, IJobQueueManager | undefined][] = [];
  if (options.tenants !== undefined) {
    if (single !== undefined) throw new InvalidOptionError('tenants', 'give either store or tenants, not both');
    if (options.tenants === null || typeof options.tenants !== 'object' || Object.keys(options.tenants).length === 0) {
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
  const registry = options.registry ?? defaultRegistry;
  const sequences = checkSequencesOption(options.sequences);
  const clock = options.clock ?? systemClock;
  const checkedStores = stores as [string | undefined, IJobQueueManager][];
  const containers =
    sequences === undefined
      ? (options.containers ?? newInstanceFactory)
      : withSequences(options.containers ?? newInstanceFactory, sequences, checkedStores, registry, clock);
  const logger = options.logger ?? defaultLogger();
  const coordinatorClass = options.coordinator ?? JobQueueCoordinator;
  if (
    typeof coordinatorClass !== 'function' ||
    !(coordinatorClass.prototype instanceof JobQueueCoordinator || coordinatorClass === JobQueueCoordinator)
  ) {
    throw new InvalidOptionError('coordinator', 'must be JobQueueCoordinator or a subclass of it');
  }
  const ambient = options.ambient === undefined ? undefined : ambientContext(options.ambient);
  const host = options.host === undefined ? hostname() : checkHostName('host', options.host);
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pollMs = options.schedulePollMs ?? 1000;
  if (!Number.isInteger(pollMs) || pollMs < 1)
    throw new InvalidOptionError('schedulePollMs', `must be an integer >= 1, got ${String(pollMs)}`);
  const schedulers = options.schedulers ?? [];
  if (!isArray(schedulers) || schedulers.some((s) => typeof s?.tick !== 'function')) {
    throw new InvalidOptionError('schedulers', 'must be an array of objects with a tick() method');
  }
  return {
    stores: checkedStores,
    containers,
    registry,
    logger,
    coordinatorClass,
    clock,
    ambient,
    host,
    owner,
    pollMs,
    schedulers,
  };
}
