import type {
  AlreadyRunning,
  ClaimedJob,
  JobAfter,
  JobConcurrency,
  SequenceTag,
  UniqueScope,
  WaitingFor,
  ExecutorEntry,
  ExecutorQueue,
  ExecutorState,
  JobError,
  JobMetadata,
  JobProgress,
  JobRecord,
  JobRun,
  JobStatus,
  LogLevel,
  RetryPolicy,
  RunState,
  StoredLogLine,
} from '@oddjob/core';

/** A `jobs` row as pg parses it (timestamptz → Date, jsonb → value, uuid → string). */
export interface JobRow {
  id: string;
  queue: string;
  target: string;
  method: string;
  args: string;
  status: JobStatus;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  retry: RetryPolicy;
  last_error: JobError | null;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at: Date | null;
  progress: JobProgress | null;
  metadata: JobMetadata;
  unique_key: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  progress_message: string | null;
  result: string | null;
  started_at: Date | null;
  executor_id: string | null;
  host: string | null;
  pinned_host: string | null;
  priority: number;
  unique_scope: UniqueScope;
  after: JobAfter | null;
  waiting_for: WaitingFor | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  already_running: AlreadyRunning | null;
  sequence_name: string | null;
  sequence_run: string | null;
  sequence_step: string | null;
}

/**
 * The row as core's JobRecord. A lease exists only while the job is processing: finished rows keep
 * their last token in the table (see record-outcomes.ts) but do not show it.
 */
export function toJobRecord(row: JobRow): JobRecord {
  const leased =
    row.status === 'processing' &&
    row.lease_token !== null &&
    row.lease_owner !== null &&
    row.lease_expires_at !== null;
  return {
    id: row.id,
    queue: row.queue,
    target: row.target,
    method: row.method,
    args: row.args,
    status: row.status,
    runAt: row.run_at,
    attempts: row.attempts,
    retry: row.retry,
    lastError: row.last_error,
    lease: leased ? { owner: row.lease_owner!, token: row.lease_token!, expiresAt: row.lease_expires_at! } : null,
    progress: row.progress,
    metadata: row.metadata,
    uniqueKey: row.unique_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    progressMessage: row.progress_message,
    result: row.result,
    startedAt: row.started_at,
    executorId: row.executor_id,
    host: row.host,
    pinnedHost: row.pinned_host,
    uniqueScope: row.unique_scope,
    priority: row.priority,
    after: row.after,
    waitingFor: row.waiting_for,
    concurrency: concurrencyOf(row.concurrency_key, row.concurrency_limit, row.already_running),
    sequence: sequenceOf(row.sequence_name, row.sequence_run, row.sequence_step),
  };
}

function concurrencyOf(
  key: string | null,
  limit: number | string | null,
  policy: string | null,
): JobConcurrency | null {
  return key === null ? null : { key, limit: Number(limit), alreadyRunning: policy as AlreadyRunning };
}

function sequenceOf(name: string | null, run: string | null, step: string | null): SequenceTag | null {
  return name === null || run === null || step === null ? null : { name, run, step };
}

/**
 * A claimed job from one row of the claim's RETURNING list (CLAIMED_COLUMNS in sql/claim.ts), read
 * as raw text: numbers and JSON are parsed here, cheaper than pg's generic per-type parsers.
 */
export function toClaimedJob(
  row: readonly (string | null)[],
  owner: string,
  token: string,
  host: string | null,
): ClaimedJob {
  const now = new Date(Number(row[12]));
  const flow = row[15] === null ? NO_FLOW : claimedFlow(row[15]);
  return {
    id: row[0]!,
    queue: row[1]!,
    target: row[2]!,
    method: row[3]!,
    args: row[4]!,
    status: 'processing',
    runAt: new Date(Number(row[5])),
    attempts: Number(row[6]),
    retry: retryPolicy(row[7]!),
    lastError: row[8] === null ? null : (JSON.parse(row[8]) as JobError),
    lease: { owner, token, expiresAt: new Date(Number(row[13])) },
    progress: null,
    progressMessage: null,
    result: null,
    startedAt: now,
    executorId: owner,
    host,
    metadata: row[9] === '{}' ? {} : (JSON.parse(row[9]!) as JobMetadata),
    uniqueKey: row[10],
    pinnedHost: row[14],
    // Field by field, not spread: every claimed job then gets one object shape, built without a copy loop.
    priority: flow.priority,
    uniqueScope: flow.uniqueScope,
    after: flow.after,
    waitingFor: null,
    concurrency: flow.concurrency,
    sequence: flow.sequence,
    createdAt: new Date(Number(row[11])),
    updatedAt: new Date(now),
    finishedAt: null,
  };
}

interface ClaimedFlow {
  priority: number;
  uniqueScope: UniqueScope;
  after: JobAfter | null;
  concurrency: JobConcurrency | null;
  sequence: SequenceTag | null;
}

/** The flow fields of a job that has none (the claim's JSON column is NULL: nearly every job), read, never handed out. */
const NO_FLOW: ClaimedFlow = { priority: 0, uniqueScope: 'stored', after: null, concurrency: null, sequence: null };

/** The flow fields of a claimed job, from the claim's one JSON column when it is not NULL. */
function claimedFlow(text: string): ClaimedFlow {
  const [priority, uniqueScope, after, key, limit, policy, name, run, step] = JSON.parse(text) as [
    number,
    UniqueScope,
    JobAfter | null,
    string | null,
    number | null,
    string | null,
    string | null,
    string | null,
    string | null,
  ];
  return {
    priority,
    uniqueScope,
    after,
    concurrency: concurrencyOf(key, limit, policy),
    sequence: sequenceOf(name, run, step),
  };
}

/**
 * Retry policies parsed once per distinct text: a queue's jobs nearly always share a handful, and the
 * parsed objects are frozen so sharing one between jobs is safe. Bounded, so odd workloads that give
 * every job its own policy cannot grow it without limit.
 */
const retryPolicies = new Map<string, RetryPolicy>();
const RETRY_CACHE_SIZE = 256;
/**
 * The last policy looked up: the jobs of one claim nearly always share it, and comparing a fresh
 * text with the last one is cheaper than hashing it for the map (the texts are ~120 characters).
 */
let lastRetry: { text: string; policy: RetryPolicy } | null = null;

function retryPolicy(text: string): RetryPolicy {
  if (lastRetry !== null && lastRetry.text === text) return lastRetry.policy;
  let policy = retryPolicies.get(text);
  if (policy === undefined) {
    policy = deepFreeze(JSON.parse(text) as RetryPolicy);
    if (retryPolicies.size >= RETRY_CACHE_SIZE) retryPolicies.clear();
    retryPolicies.set(text, policy);
  }
  lastRetry = { text, policy };
  return policy;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * A stored run as the job_runs statement sends it (sql/admin.ts): one element of a JSON array, times
 * as epoch milliseconds. `state` is CHECKed in the table to the ended RunStates.
 */
export interface RunJson {
  attempt: number;
  executorId: string;
  host: string | null;
  startedAt: number;
  finishedAt: number;
  state: Exclude<RunState, 'running'>;
  error: JobError | null;
  progress: JobProgress | null;
  progressMessage: string | null;
}

/** A `jobs` row with its stored runs (the job_runs statement). */
export interface JobRunsRow extends JobRow {
  runs: RunJson[] | null;
}

export function toJobRun(jobId: string, run: RunJson): JobRun {
  return {
    jobId,
    attempt: run.attempt,
    executorId: run.executorId,
    host: run.host,
    startedAt: new Date(run.startedAt),
    finishedAt: new Date(run.finishedAt),
    state: run.state,
    error: run.error,
    durationMs: Math.max(0, run.finishedAt - run.startedAt),
    progress: run.progress,
    progressMessage: run.progressMessage,
    // Filled in from the job's pin by core's withDerivedRun: a takeover is not a stored column.
    takeover: null,
  };
}

/**
 * A `job_logs` row. `seq` is a bigint, which pg hands over as text; it is read as a number (exact up
 * to 2^53, i.e. nine thousand million million lines).
 */
export interface LogRow {
  seq: string;
  job_id: string;
  attempt: number;
  at: Date;
  level: LogLevel;
  message: string;
}

export function toStoredLogLine(row: LogRow): StoredLogLine {
  return {
    jobId: row.job_id,
    attempt: row.attempt,
    seq: Number(row.seq),
    at: row.at,
    level: row.level,
    message: row.message,
  };
}

/** An `executors` row with the listing's computed `stale` flag. */
export interface ExecutorRow {
  id: string;
  host: string;
  pid: number;
  version: string;
  queues: ExecutorQueue[];
  started_at: Date;
  state: ExecutorState;
  heartbeat_at: Date;
  stale: boolean;
}

export function toExecutorEntry(row: ExecutorRow): ExecutorEntry {
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    version: row.version,
    // Hand-edited JSON must not break the whole listing: anything but a list of queues reads as none.
    queues: Array.isArray(row.queues)
      ? row.queues
          .filter((q) => typeof q === 'object' && q !== null)
          .map((q) => ({ name: String(q.name), workers: Number(q.workers) }))
      : [],
    startedAt: row.started_at,
    state: row.state,
    heartbeatAt: row.heartbeat_at,
    stale: row.stale,
  };
}

/** `\u0000` in JSON text, not preceded by an escaped backslash. */
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/;
const NUL_ESCAPE_GLOBAL = new RegExp(NUL_ESCAPE.source, 'g');

/**
 * JSON text for a jsonb column. jsonb cannot hold the character U+0000; rather than have the database
 * reject a batch with a vague message, say which value holds it.
 */
export function jsonText(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${what} cannot be stored as JSON`);
  if (NUL_ESCAPE.test(text))
    throw new TypeError(`${what} contains the character U+0000, which PostgreSQL jsonb cannot store`);
  return text;
}

/** A stored error must never be refused (that would lose the outcome): U+0000 becomes U+FFFD. */
export function errorJson(error: JobError): string {
  return JSON.stringify(error).replace(NUL_ESCAPE_GLOBAL, '$1\\ufffd');
}
