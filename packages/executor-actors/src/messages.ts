/**
 * Every message the actors exchange, as closed unions. Replies are ordinary messages carrying the
 * sender's ref (`replyTo`), never nact queries, so each protocol stays typed end to end.
 */
import type { ClaimRequest, ClaimedJob, JobLease, JobOutcome, JobProgress, LeaseCheck, LogAppend } from '@oddjob/core';
import type { ActorRef } from './actors.js';
import type { RunningJob } from './running-job.js';

/** How a worker's run ended. */
export type RunResult =
  /** The method returned (or its promise resolved); its value serialized (null for undefined). */
  | { kind: 'succeeded'; result: string | null }
  /** The method, the target's resolution or the argument decoding threw (or the run was aborted). */
  | { kind: 'threw'; error: unknown }
  /** The run was aborted before the worker started it; the method was never called. */
  | { kind: 'skipped' };

/** An outcome waiting to be written, with what its coordinator needs when the write is confirmed. */
export interface PendingWrite {
  run: RunningJob;
  outcome: JobOutcome;
  replyTo: ActorRef<CoordinatorMessage>;
}

/** A written outcome and what storage said about it. */
export interface RecordedWrite {
  run: RunningJob;
  outcome: JobOutcome;
  check: LeaseCheck;
}

export type WorkerMessage =
  /** Run these jobs one after another, in order, telling the coordinator each result as it comes. */
  { kind: 'run'; runs: RunningJob[] };

export type CoordinatorMessage =
  /** Periodic: look for work (the polling fallback) and report saturation. */
  | { kind: 'pulse' }
  /** The store said jobs may be available on this queue: look now. */
  | { kind: 'nudge' }
  /** Periodic: renew leases and enforce timeouts. */
  | { kind: 'sweep' }
  /** The backoff after a failed claim has elapsed: try again. */
  | { kind: 'retry-fetch' }
  /** A claim came back. `asked` is the limit it was made with, `askedAt` when (its leases count from then). */
  | { kind: 'fetched'; jobs: ClaimedJob[]; asked: number; askedAt: number }
  /** A claim failed (storage unreachable): back off. */
  | { kind: 'fetch-failed'; error: unknown; asked: number }
  /** Workers finished (or skipped) runs: take them from the ResultInbox (see result-inbox.ts). */
  | { kind: 'results' }
  /** The layer wrote these outcomes; hooks may run for the 'ok' ones. */
  | { kind: 'recorded'; writes: RecordedWrite[] }
  /** A lease renewal came back; `at` is the clock time it was asked at. */
  | { kind: 'extended'; runs: RunningJob[]; checks: LeaseCheck[]; at: number }
  /** A lease renewal failed (storage unreachable); the next sweep tries again. */
  | { kind: 'extend-failed'; error: unknown }
  /** Stop fetching, release what has not started, and call `done` once nothing is left in flight. */
  | { kind: 'drain'; done: () => void }
  /** The stop timeout elapsed: abort every run still going (each is then released). */
  | { kind: 'abort-all' };

export type LayerMessage =
  /** Claim jobs; the answer goes to `replyTo` as 'fetched' or 'fetch-failed'. */
  | { kind: 'fetch'; request: ClaimRequest; askedAt: number; replyTo: ActorRef<CoordinatorMessage> }
  /** Queue outcomes for the next batched write. */
  | { kind: 'record'; writes: PendingWrite[] }
  /** Write everything queued so far in one `recordOutcomes` call (self-sent, so it follows the queued records). */
  | { kind: 'flush' }
  /** A batch write came back. */
  | { kind: 'flushed'; batch: PendingWrite[]; checks: LeaseCheck[] }
  /** A batch write failed: keep it and try again after a backoff. */
  | { kind: 'flush-failed'; batch: PendingWrite[]; error: unknown }
  /** Renew these leases; the answer goes to `replyTo` as 'extended' or 'extend-failed'. */
  | { kind: 'extend'; runs: RunningJob[]; leaseMs: number; at: number; replyTo: ActorRef<CoordinatorMessage> }
  /** Store a running job's progress; `reply` gets whether the lease is still held. */
  | {
      kind: 'progress';
      lease: JobLease;
      progress: JobProgress;
      message: string | null;
      reply: (check: LeaseCheck | 'error') => void;
    }
  /**
   * Write running jobs' log lines (from the lease sweep). `failed` gets back the entries of a write
   * that failed, so their lines go out with the next sweep or the outcome instead of being lost.
   */
  | { kind: 'logs'; entries: LogAppend[]; failed: (entries: readonly LogAppend[]) => void };
