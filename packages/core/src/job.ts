import type { JobError } from './errors.js';
import type { JobRun } from './history.js';
import type { RetryPolicy } from './retry.js';
import type { JobStatus } from './status.js';
import type {
  AfterRule,
  AlreadyRunning,
  DependencyWhen,
  JobAfter,
  JobConcurrency,
  SequenceTag,
  UniqueScope,
  WaitingFor,
} from './flow.js';

/** Free-form, JSON-shaped data carried with a job: user id, tenant, correlation id, ... */
export type JobMetadata = Record<string, unknown>;

/** What a job reports while it runs: a percentage, or any JSON object (e.g. { done: 40, of: 90 }). */
export type JobProgress = number | Record<string, unknown>;

/** The plain, untyped form of a job: what other services, the CLI or HTTP hand in. */
export interface JobCall {
  /** The name the target class is registered under (not its JavaScript class name). */
  target: string;
  /** A method defined on the target class's own prototype. */
  method: string;
  args: unknown[];
}

/** Options accepted by addJob / addJobs. */
export interface JobOptions {
  /** Queue name; default "default". */
  queue?: string;
  /** Not before this time. Takes precedence over delayMs. */
  runAt?: Date;
  /** Not before now + delayMs. */
  delayMs?: number;
  retry?: RetryPolicy;
  /**
   * At most one stored job has this key (until it is purged): adding a job whose key is taken adds
   * nothing and returns the id of the job that holds it. Schedules use (schedule, fire time) keys.
   */
  uniqueKey?: string;
  metadata?: JobMetadata;
  /**
   * Pins the job to the executors on this host (what they pass as `host` in their claims, by default
   * `os.hostname()`): other hosts pass it over until it is overdue by the claim's `takeoverAfterMs`
   * (default 30 minutes), then any host takes it over and its run says so (`run.takeover`). 1 to 255
   * characters; null: not pinned, even when the adder pins by default (`pinToHost`). Default: the
   * adder's `pinToHost`, else not pinned.
   */
  pinnedHost?: string | null;
  /** How long `uniqueKey` is held: 'stored' (default: until purged), 'unfinished', 'queued' (see flow.ts). */
  uniqueScope?: UniqueScope;
  /** An integer from -32768 to 32767; higher is claimed first (before runAt). Default 0. */
  priority?: number;
  /**
   * Parents this job waits for: a stored job's id, the index of an earlier or later job of the same
   * `addJobs` batch, or either with the status to wait for (`{ job, when }`, when defaulting to
   * 'succeeded'). The job is `waiting` until every parent is final, then runs or is cancelled by
   * `afterRule`. At most 1000 parents; unknown parents and cycles are refused.
   */
  after?: readonly (string | number | { job: string | number; when?: DependencyWhen })[];
  /** 'each' (default): every parent meets its `when`; 'mixed': some parents ended done and some did not. */
  afterRule?: AfterRule;
  /**
   * Never more than `concurrencyLimit` (default 1) jobs with this key admitted at once, across every
   * executor and process on the store; other jobs wait (status `waiting`). 1 to 512 characters.
   */
  concurrencyKey?: string;
  /** 1 to 10,000; default 1. Only with concurrencyKey. */
  concurrencyLimit?: number;
  /** With concurrencyKey: 'queue' (default), 'skip' or 'allow' (see flow.ts). */
  alreadyRunning?: AlreadyRunning;
  /** Set by sequence runs (startSequence): which run and step this job is. */
  sequence?: SequenceTag;
}

/** The lease an executor holds on a claimed job; every later write is fenced by its token. */
export interface Lease {
  owner: string;
  /**
   * Changes with every claim of the job, so a write under an older claim's token is refused. Jobs
   * handed out by one claim may share a token (PostgreSQL does: one per claim); a write is always
   * fenced by job id and token together.
   */
  token: string;
  expiresAt: Date;
}

/** Identifies a claimed job and the lease under which a write is made. */
export interface JobLease {
  jobId: string;
  token: string;
}

/** A job ready to be written by a store: validated and serialized by the adder. */
export interface NewJob {
  /** Time-ordered UUID (v7) made by the client, so enqueue needs no read-back. */
  id: string;
  queue: string;
  target: string;
  method: string;
  /** Serialized arguments (see serializer.ts); stores keep the text as it is. */
  args: string;
  /** null: as soon as possible (the store's now). */
  runAt: Date | null;
  retry: RetryPolicy;
  metadata: JobMetadata;
  uniqueKey: string | null;
  /** The host the job is pinned to, or null (see JobOptions.pinnedHost). */
  pinnedHost: string | null;
  uniqueScope: UniqueScope;
  priority: number;
  /** Parents, by stored id (batch indexes resolved by the adder), or null. */
  after: JobAfter | null;
  concurrency: JobConcurrency | null;
  sequence: SequenceTag | null;
}

/** One stored job, as every provider returns it. */
export interface JobRecord {
  id: string;
  queue: string;
  target: string;
  method: string;
  /** Serialized arguments; decode with `deserializeArgs(record.args, record.id)`. */
  args: string;
  status: JobStatus;
  runAt: Date;
  /** Attempts started (counted at claim time, so a crash mid-run counts). */
  attempts: number;
  retry: RetryPolicy;
  lastError: JobError | null;
  lease: Lease | null;
  progress: JobProgress | null;
  /** The message reported with the latest progress (VITA reports a number and a message). */
  progressMessage: string | null;
  /** The serialized return value of a done job (decode with `deserializeResult`); null otherwise. */
  result: string | null;
  /** When the latest attempt started; null before the first claim. */
  startedAt: Date | null;
  /** The executor of the latest attempt (kept after its lease ends); null before the first claim. */
  executorId: string | null;
  /** The host of the latest attempt's executor, when its claim named one. */
  host: string | null;
  metadata: JobMetadata;
  uniqueKey: string | null;
  /** The host the job is pinned to (claimed only by that host's executors until overdue), or null. */
  pinnedHost: string | null;
  uniqueScope: UniqueScope;
  priority: number;
  after: JobAfter | null;
  /** What a `waiting` job waits for; null in every other status. */
  waitingFor: WaitingFor | null;
  concurrency: JobConcurrency | null;
  sequence: SequenceTag | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** The job's runs, oldest first: present only when asked for (`getJob(id, { runs: true })`). */
  runs?: JobRun[];
}

/** A job returned by a claim: processing, with the caller's lease. */
export type ClaimedJob = JobRecord & { status: 'processing'; lease: Lease };

export const DEFAULT_QUEUE = 'default';
