import { readFileSync } from 'node:fs';
import {
  DEFAULT_HEARTBEAT_MS,
  InvalidOptionError,
  type ExecutorInfo,
  type ExecutorQueue,
  type ExecutorState,
  type IExecutorRegistry,
  type JobLogger,
} from '@oddjob/core';

/** This package's version, as heartbeats report it (read once; "unknown" if the file is not where it should be). */
export const EXECUTOR_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

/** Whether a store also keeps the executor registry (every OddJob store does; a user's own may not). */
export function isExecutorRegistry(store: unknown): store is IExecutorRegistry {
  const s = store as Partial<IExecutorRegistry> | null;
  return typeof s?.heartbeatExecutor === 'function' && typeof s.removeExecutor === 'function';
}

export function resolveHeartbeatMs(value: unknown): number {
  if (value === undefined) return DEFAULT_HEARTBEAT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > 3_600_000) {
    throw new InvalidOptionError(
      'heartbeatMs',
      `must be an integer from 100 to 3600000, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  return value;
}

/**
 * Keeps this shell's entry in each store's executor registry: one upsert right away, one per
 * interval, one soon after a queue starts or stops (so `oddjob executors` shows it), one saying
 * `stopping` when shutdown begins, and a delete at the end. A failing heartbeat is logged and
 * retried next interval; it never affects jobs (the registry is for people and dashboards, leases
 * are what keep jobs safe).
 */
export class ExecutorHeartbeat {
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private state: ExecutorState = 'running';
  private readonly startedAt = new Date();
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly id: string,
    private readonly host: string,
    private readonly stores: readonly IExecutorRegistry[],
    private readonly queues: () => ExecutorQueue[],
    private readonly intervalMs: number,
    private readonly logger: JobLogger,
  ) {}

  start(): void {
    if (this.stores.length === 0) return;
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /** A queue started or stopped: beat on the next turn (several changes in one turn make one beat). */
  changed(): void {
    if (this.timer === null || this.soon !== null) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.beat();
    }, 0);
    this.soon.unref();
  }

  async stopping(): Promise<void> {
    this.state = 'stopping';
    if (this.timer === null) return;
    this.beat();
    await this.inFlight;
  }

  /** Ends the beats and removes the entry from every store. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.soon !== null) clearTimeout(this.soon);
    const wasStarted = this.timer !== null;
    this.timer = null;
    this.soon = null;
    await this.inFlight;
    if (!wasStarted) return;
    await Promise.all(
      this.stores.map((s) =>
        s
          .removeExecutor(this.id)
          .catch((err: unknown) =>
            this.logger.warn(
              { err },
              'oddjob: removing this executor from the registry failed; it goes stale, then is pruned',
            ),
          ),
      ),
    );
  }

  private beat(): void {
    const info: ExecutorInfo = {
      id: this.id,
      host: this.host,
      pid: process.pid,
      version: EXECUTOR_VERSION,
      queues: this.queues(),
      startedAt: this.startedAt,
      state: this.state,
    };
    // One beat at a time: a slow store must not pile up upserts.
    this.inFlight = this.inFlight.then(() =>
      Promise.all(
        this.stores.map((s) =>
          s
            .heartbeatExecutor(info)
            .catch((err: unknown) =>
              this.logger.warn({ err }, 'oddjob: executor heartbeat failed; trying again next interval'),
            ),
        ),
      ).then(() => undefined),
    );
  }
}
