import { AsyncLocalStorage } from 'node:async_hooks';
import { NoJobContextError } from './errors.js';
import type { LogLevel } from './history.js';
import type { JobMetadata, JobProgress } from './job.js';

/** The logging surface the library writes to; pino's Logger fits it, as does a console shim. */
export interface JobLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child?(bindings: object): JobLogger;
}

/**
 * What a running job knows about its run. Reach it with `jobContext()` from anywhere inside the run
 * (the method, and every function and promise it starts):
 *   async send(to: string, subject: string) { await jobContext().reportProgress(50); ... }
 * The executor also passes it as an extra argument when that cannot collide with the job's own
 * parameters (see the executor's README: only when the method declares, before any default or rest
 * parameter, more parameters than were recorded).
 */
export interface JobContext {
  readonly jobId: string;
  readonly queue: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly metadata: Readonly<JobMetadata>;
  /** Aborted when the job times out or the executor shuts down; long jobs should honour it. */
  readonly signal: AbortSignal;
  /**
   * The executor's logger, bound to this job. What a job writes through it also goes into the run's
   * stored log (see `log`), so it is readable from the dashboard, the CLI and `listLogs`.
   */
  readonly logger: JobLogger;
  /** The name of the store (tenant) the job came from, when the shell serves several. */
  readonly tenant?: string;
  /** The ambient context captured at enqueue (see `ambientContext`), restored around this run. */
  readonly ambient?: unknown;
  /**
   * Stores progress (a number or a JSON object) and an optional message such as "copied 40 of 90
   * files"; readable by other processes at once. Resolves false if the lease was lost (the job should
   * stop).
   */
  reportProgress(progress: JobProgress, message?: string): Promise<boolean>;
  /**
   * Writes a line to this run's stored log (`console.log`-style formatting of the parts; level info).
   * Lines are batched and written while the job runs and with its outcome; a run's log is bounded
   * (see MAX_LOG_LINES_PER_RUN): past the bound one marker line says so and the rest is dropped.
   */
  log(...parts: unknown[]): void;
  /** `log` at a chosen level. */
  logAt(level: LogLevel, ...parts: unknown[]): void;
}

// One store per copy of core: the executor that sets it and the job that reads it use the same copy
// of @oddjob/core, because the job's class is registered through that copy's registry.
const current = new AsyncLocalStorage<JobContext>();

/**
 * The context of the job this code runs in. Works in the job's method and in anything it calls or
 * awaits, and can never land in one of the job's own parameters. Throws `NoJobContextError` outside a
 * job run; `currentJobContext()` returns undefined there instead.
 */
export function jobContext(): JobContext {
  const ctx = current.getStore();
  if (ctx === undefined) throw new NoJobContextError();
  return ctx;
}

/** The context of the job this code runs in, or undefined outside a job run. */
export function currentJobContext(): JobContext | undefined {
  return current.getStore();
}

/**
 * For executors: runs `fn` (a job's method call) with `ctx` as its context. Whatever `fn` starts
 * synchronously or asynchronously sees it too.
 */
export function runWithJobContext<T>(ctx: JobContext, fn: () => T): T {
  return current.run(ctx, fn);
}
