import type { JobError } from './errors.js';
import type { JobProgress } from './job.js';

/**
 * How one attempt (a "run") of a job ended, as a closed union. `running` is the attempt in progress.
 *
 *   done        the method returned; the job is done
 *   retry       it failed and another attempt is scheduled
 *   failed      it failed for good (no attempts left, or a JobAbortError)
 *   cancelled   the job was cancelled through the admin API while this attempt ran
 *   lease-lost  its executor stopped renewing the lease (died, hung, lost its database) and the
 *               job was taken over by a later claim, or failed if no attempt was left
 *   released    its executor gave it back at shutdown; the attempt was not counted, so the next
 *               run carries the same attempt number
 */
export type RunState = 'running' | 'done' | 'retry' | 'failed' | 'cancelled' | 'lease-lost' | 'released';

export const RUN_STATES: readonly RunState[] = Object.freeze([
  'running',
  'done',
  'retry',
  'failed',
  'cancelled',
  'lease-lost',
  'released',
]);

export function isRunState(value: unknown): value is RunState {
  return typeof value === 'string' && (RUN_STATES as readonly string[]).includes(value);
}

/**
 * One attempt of a job, readable by any process. Stores keep a record per ended attempt, except that
 * the latest attempt is read off the job's own row while it runs and when it ended `done` — so a job
 * that succeeds first time writes nothing beyond its row (the common case keeps its speed).
 */
export interface JobRun {
  jobId: string;
  /** The attempt number the run was claimed for (1-based; see `released`). */
  attempt: number;
  /** The executor that ran it (its lease owner id). */
  executorId: string;
  /** The host that executor runs on, when it said so in its claim. */
  host: string | null;
  startedAt: Date;
  /** null while running. */
  finishedAt: Date | null;
  state: RunState;
  /** Set for retry, failed, lease-lost (and when a cancelled run had failed). */
  error: JobError | null;
  /** finishedAt - startedAt in ms; null while running. */
  durationMs: number | null;
  /** The last progress the run reported (and its message). */
  progress: JobProgress | null;
  progressMessage: string | null;
  /**
   * Set when the job was pinned to another host and this run's host took it over because it was
   * overdue (see JobOptions.pinnedHost); null otherwise.
   */
  takeover: RunTakeover | null;
}

/** What a run that took over a job pinned to another host records. */
export interface RunTakeover {
  /** The host the job is pinned to (the run's own host is `run.host`). */
  pinnedHost: string;
}

/** The closed set of log levels a job can write with `ctx.log`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = Object.freeze(['debug', 'info', 'warn', 'error']);

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** A log line as a running job writes it. */
export interface JobLogLine {
  at: Date;
  level: LogLevel;
  /** At most MAX_LOG_LINE_CHARS characters (the executor truncates longer lines with a marker). */
  message: string;
}

/** A stored log line: which job and attempt wrote it, and its place in the job's log. */
export interface StoredLogLine extends JobLogLine {
  jobId: string;
  attempt: number;
  /**
   * Increases with every line appended to the job's log (not necessarily by one, and not shared
   * between jobs); page with `afterSeq`.
   */
  seq: number;
}

/** Size bounds on what a job writes, shared by the executor (which enforces them) and every store. */
export const MAX_LOG_LINE_CHARS = 4_000;
/** A run's log stops after this many lines (a marker line says so)... */
export const MAX_LOG_LINES_PER_RUN = 1_000;
/** ...or after this many characters of messages, whichever comes first. */
export const MAX_LOG_CHARS_PER_RUN = 256_000;
/** A job's serialized return value may be at most this many characters; larger fails the job. */
export const MAX_RESULT_CHARS = 1_000_000;
/** A progress message may be at most this many characters (longer is cut with a marker). */
export const MAX_PROGRESS_MESSAGE_CHARS = 1_000;

/** Paging through a job's runs, oldest first. */
export interface RunFilter {
  /** Default 100, at most 1000. */
  limit?: number;
  offset?: number;
}

/** Paging through a job's log, in write order. */
export interface LogFilter {
  /** Only lines of this attempt. */
  attempt?: number;
  /** Only lines after this seq (what the last page's last line carried). */
  afterSeq?: number;
  /** Default 1000, at most 10000. */
  limit?: number;
}

/** Options of `waitForJob`. */
export interface WaitOptions {
  /** Give up after this many ms with a WaitTimeoutError. Default: wait as long as it takes. */
  timeoutMs?: number;
  /** Stop waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
}
