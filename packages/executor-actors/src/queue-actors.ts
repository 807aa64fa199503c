// One running queue's actors: how the shell spawns a coordinator with its workers, and how it drains
// and stops them. Apart from shell.ts so the shell keeps to its own concerns (options, tenants,
// the map of running queues, shutdown) while the spawn-and-stop sequence of one queue reads in one place.
import type { AmbientContext, Clock, IContainerFactory, IJobQueueManager, JobLogger, JobRegistry } from '@oddjob/core';
import type { ActorRef, ActorSystem } from './actors.js';
import type { CoordinatorClass, JobQueueCoordinator } from './coordinator.js';
import type { ExecutorEventHub } from './events.js';
import type { CoordinatorMessage, LayerMessage, WorkerMessage } from './messages.js';
import { FLUSH_GRACE_MS, type ResolvedQueueOptions } from './options.js';
import type { QueueLayer } from './queue-layer.js';
import type { RunWrappers } from './run-wrappers.js';
import { SandboxPool } from './sandbox/pool.js';
import { within } from './within.js';
import { JobWorker } from './worker.js';

/** One store the shell serves: its own queue layer and wake-up subscription. */
export interface TenantHandle {
  /** undefined for the single `store`. */
  name: string | undefined;
  store: IJobQueueManager;
  layer: QueueLayer;
  layerRef: ActorRef<LayerMessage>;
  unsubscribe: (() => void) | null;
}

export interface QueueHandle {
  name: string;
  tenant: string | undefined;
  coordinator: JobQueueCoordinator;
  ref: ActorRef<CoordinatorMessage>;
  workers: ActorRef<WorkerMessage>[];
  /** The queue's worker threads, when it is sandboxed. */
  sandbox: SandboxPool | undefined;
}

/** Queue handles are keyed by tenant and queue; a tenant name cannot contain this separator. */
const KEY_SEP = '\u0000';

export function queueKey(tenant: string | undefined, queue: string): string {
  return tenant === undefined ? queue : `${tenant}${KEY_SEP}${queue}`;
}

/** What every queue of one shell shares. */
export interface QueueParts {
  system: ActorSystem;
  coordinatorClass: CoordinatorClass;
  registry: JobRegistry;
  containers: IContainerFactory;
  clock: Clock;
  events: ExecutorEventHub;
  wrappers: RunWrappers;
  ambient: AmbientContext | undefined;
}

/**
 * Spawns a queue's coordinator and its workers and wires them together; the coordinator is not
 * started. `nextSerial` is asked once the coordinator exists: nact refuses two live children with
 * one name, and a queue can be stopped and started again, so actor names carry a serial.
 */
export function spawnQueue(
  parts: QueueParts,
  name: string,
  resolved: ResolvedQueueOptions,
  tenantHandle: TenantHandle,
  logger: JobLogger,
  nextSerial: () => number,
): QueueHandle {
  const tenant = tenantHandle.name;
  const coordinator = new parts.coordinatorClass({ queue: name, options: resolved, clock: parts.clock, logger });
  const serial = nextSerial();
  const ref = parts.system.spawn<CoordinatorMessage>(`coordinator-${name}-${serial}`, coordinator);
  const layerRef = tenantHandle.layerRef;
  const workers: ActorRef<WorkerMessage>[] = [];
  const sandbox = resolved.sandbox === null ? undefined : new SandboxPool(resolved.sandbox, resolved.workers);
  coordinator.attach({
    self: ref,
    layer: layerRef,
    workers,
    events: parts.events,
    ...(tenant === undefined ? {} : { tenant }),
  });
  for (let i = 0; i < resolved.workers; i++) {
    const worker = new JobWorker({
      index: i,
      registry: parts.registry,
      containers: parts.containers,
      clock: parts.clock,
      logger,
      results: coordinator.results,
      layer: layerRef,
      events: parts.events,
      wrappers: parts.wrappers,
      ...(tenant === undefined ? {} : { tenant }),
      ...(parts.ambient === undefined ? {} : { ambient: parts.ambient }),
      ...(sandbox === undefined ? {} : { sandbox }),
    });
    workers.push(parts.system.spawn<WorkerMessage>(`worker-${name}-${serial}-${i}`, worker));
  }
  return { name, tenant, coordinator, ref, workers, sandbox };
}

/**
 * Drains a queue (running jobs get `timeoutMs`, then are aborted and released), waits a short grace
 * for its hooks, then stops its actors and closes its sandbox.
 */
export async function stopQueue(
  system: ActorSystem,
  handle: QueueHandle,
  timeoutMs: number,
  logger: JobLogger,
): Promise<void> {
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
    logger.warn(
      { queue: name, jobIds: coordinator.unfinished() },
      'oddjob: stop timeout reached; aborting and releasing running jobs',
    );
    ref.tell({ kind: 'abort-all' });
    await within(drainedPromise, FLUSH_GRACE_MS);
  }
  if (!drained) {
    logger.error(
      { queue: name, jobIds: coordinator.unfinished() },
      'oddjob: queue did not drain (storage unreachable?); unwritten jobs run again once their leases expire',
    );
  }
  await within(coordinator.settleHooks(), FLUSH_GRACE_MS);
  coordinator.stop();
  for (const w of handle.workers) system.stop(w);
  system.stop(ref);
  await handle.sandbox?.close();
  logger.info({ queue: name }, 'oddjob: queue stopped');
}
