import type { Clock, JobLogger } from '@oddjob/core';
import type { ResolvedQueueOptions } from './options.js';

/**
 * A coordinator's life:
 *   running ──drain──▶ draining ──nothing in flight──▶ (drained; the shell stops the actors) stopped
 *   running ──permanent storage error on a claim──▶ failed ──drain──▶ draining ...
 */
export type CoordinatorState =
  /** Claiming and dispatching jobs. */
  | 'running'
  /**
   * A claim failed with a permanent storage error (see `failure`): no more claims, since backing off
   * cannot help; jobs already claimed still finish and their outcomes are written. Stop the queue.
   */
  | 'failed'
  /** Stopping: no more claims; waits for runs and their writes, releasing what it can. */
  | 'draining'
  /** Its actors are stopped; it receives nothing more. */
  | 'stopped';

/** @internal The state with what each one needs: the drain callback lives only in `draining`. */
export type Lifecycle =
  | { kind: 'running' }
  | { kind: 'failed' }
  /** `done` is null once it has been called. */
  | { kind: 'draining'; done: (() => void) | null }
  | { kind: 'stopped' };

/** What the shell hands a coordinator's constructor. Subclasses pass it on to `super(init)`. */
export interface CoordinatorInit {
  queue: string;
  options: ResolvedQueueOptions;
  clock: Clock;
  logger: JobLogger;
}

/** Passed to `onSaturated`. */
export interface SaturationInfo {
  queue: string;
  /** Jobs handed to workers and not finished yet. */
  pending: number;
  /** options.maxPending (default workers * 2): the most this coordinator holds at once. */
  capacity: number;
}

/** Why a queue is `failed`. */
export interface QueueFailure {
  /** The storage operation that failed ('claim', or the store's own name for it). */
  operation: string;
  error: unknown;
}
