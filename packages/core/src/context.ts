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
 * Handed to a running job as the argument after its recorded ones:
 *   async send(to: string, subject: string, ctx?: JobContext) { ... }
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
  readonly logger: JobLogger;
  /** Stores progress; resolves false if the lease was lost (the job should stop). */
  reportProgress(progress: JobProgress): Promise<boolean>;
}
