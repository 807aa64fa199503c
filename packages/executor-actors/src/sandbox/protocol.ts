/**
 * What crosses the thread boundary, in both directions, as closed unions. Everything here is
 * structured-cloneable: arguments and results travel as the serializer's text (so Date, bigint, Map,
 * Buffer... keep their types exactly as they do in storage), errors as plain {name, message, stack}
 * (structured clone would turn a custom error class into a bare Error and lose its name, which the
 * coordinator matches on to decide "never retried").
 */
import type { JobError, JobMetadata, JobProgress } from '@oddjob/core';

/** One run handed to a thread. */
export interface SandboxTask {
  /** The module the thread imports to find its targets (a file URL); fixed by the queue's options. */
  module: string;
  jobId: string;
  queue: string;
  target: string;
  method: string;
  /** The stored, serialized arguments, decoded inside the thread. */
  args: string;
  attempt: number;
  maxAttempts: number;
  metadata: JobMetadata;
  /** The thread's end of a channel for progress and log lines (transferred with the task). */
  port: import('node:worker_threads').MessagePort;
}

/** How a run ended inside the thread. */
export type SandboxResult =
  /** The method returned; its value as serializeResult made it (null for undefined). */
  | { kind: 'returned'; value: string | null }
  /** The method (or resolving the target, or decoding the arguments) threw. */
  | { kind: 'threw'; error: JobError };

/** Messages from the thread while a run goes on. */
export type ThreadMessage =
  | { kind: 'progress'; id: number; progress: JobProgress; message: string | null }
  | { kind: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg?: string }
  /** A line the job wrote with ctx.log / ctx.logAt, bound for the run's stored log. */
  | { kind: 'log-line'; level: 'debug' | 'info' | 'warn' | 'error'; text: string };

/** Messages to the thread: the answer to a progress report (false = the lease is gone). */
export type HostMessage = { kind: 'progress-ack'; id: number; held: boolean };
