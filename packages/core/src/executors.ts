/** Where a registered executor is in its life: a closed union. */
export type ExecutorState = 'running' | 'stopping';

export const EXECUTOR_STATES: readonly ExecutorState[] = Object.freeze(['running', 'stopping']);

/** One queue an executor serves, and how many workers it runs for it. */
export interface ExecutorQueue {
  name: string;
  workers: number;
}

/** What an executor says about itself each heartbeat. */
export interface ExecutorInfo {
  /** Its lease owner id: the name its runs carry. */
  id: string;
  host: string;
  pid: number;
  /** The executor package's version. */
  version: string;
  queues: ExecutorQueue[];
  startedAt: Date;
  state: ExecutorState;
}

/** A registered executor as a store returns it. */
export interface ExecutorEntry extends ExecutorInfo {
  /** The store's time of the last heartbeat. */
  heartbeatAt: Date;
  /** True when the last heartbeat is older than `staleAfterMs`: the process is probably gone. */
  stale: boolean;
}

export interface ListExecutorsOptions {
  /** An entry whose heartbeat is older than this is flagged stale. Default 30 s (3 heartbeats). */
  staleAfterMs?: number;
}

/** Heartbeat interval the shell uses by default. */
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** Default for `ListExecutorsOptions.staleAfterMs`. */
export const DEFAULT_EXECUTOR_STALE_MS = 30_000;
/** Entries whose heartbeat is older than this are deleted by the next heartbeat or list (any process). */
export const EXECUTOR_PRUNE_MS = 3_600_000;

/**
 * Which executors exist: each shell upserts itself every heartbeat and removes itself when it stops;
 * a crashed one goes stale, then is pruned. Every provider implements this beside the job operations.
 */
export interface IExecutorRegistry {
  /** Inserts or replaces the executor's entry; its heartbeatAt becomes the store's now. Prunes dead entries. */
  heartbeatExecutor(info: ExecutorInfo): Promise<void>;
  /** Deletes the entry (a clean stop). False if there was none. */
  removeExecutor(id: string): Promise<boolean>;
  /** Every entry not yet pruned, by id; stale ones flagged. Prunes dead entries. */
  listExecutors(options?: ListExecutorsOptions): Promise<ExecutorEntry[]>;
}
