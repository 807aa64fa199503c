import type {
  JobAfter,
  JobConcurrency,
  JobError,
  JobMetadata,
  JobProgress,
  JobRecord,
  RetryPolicy,
  SequenceTag,
  UniqueScope,
} from '@oddjob/core';
import { DEPENDENCY_ERROR_NAME, validateRetryPolicy } from '@oddjob/core';
import { decidedMessage, decodeFlowFields } from './flow-content.js';
import type { ParsedName } from './job-names.js';
import { UnreadableFileError } from './errors.js';
import { lastRunOf, statusOf } from './job-names.js';

/**
 * What a job file holds: the parts of a job that do not change on the hot path. The file's name and
 * directory hold the rest (see layout.ts), so that claims and completions are renames.
 */
export interface JobContent {
  id: string;
  queue: string;
  target: string;
  method: string;
  /** Serialized arguments, kept as the adder made them. */
  args: string;
  retry: RetryPolicy;
  metadata: JobMetadata;
  uniqueKey: string | null;
  createdAt: number;
  /** runAt as inserted; lets an interrupted keyed insert be finished from the key file alone. */
  insertedRunAt: number;
  lastError: JobError | null;
  progress: JobProgress | null;
  /** The message reported with `progress` (format 2; null in format 1 files). */
  progressMessage: string | null;
  /** When `progress` was reported, by the store's clock (a running job's updatedAt); null if never. */
  progressAt: number | null;
  /** A done job's serialized return value; shown only when the job's name says it is this job's (see FinalName.result). */
  result: string | null;
  /** The host the job is pinned to (format 3; null in older files); its names carry flag `h` when set. */
  pinnedHost: string | null;
  /** Format 4 (jobs that wait, see name-flags.ts); older files read as 'stored', 0 and null. */
  uniqueScope: UniqueScope;
  priority: number;
  after: JobAfter | null;
  concurrency: JobConcurrency | null;
  sequence: SequenceTag | null;
}

/**
 * The file format version written in every job file; a reader refuses one it does not know. Format 1
 * (layout 1) lacks progressMessage, progressAt and result: they read as null, so job files need no
 * rewrite when a store is upgraded.
 */
const FORMAT = 4;
const READABLE_FORMATS: readonly unknown[] = [1, 2, 3, 4];

export function encodeContent(content: JobContent): string {
  return JSON.stringify({ format: FORMAT, ...content }) + '\n';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parses and checks a job file; throws UnreadableFileError saying what is wrong. */
export function decodeContent(text: string): JobContent {
  if (text.length === 0) throw new UnreadableFileError('the file is empty');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UnreadableFileError(
      `the file is not complete JSON (${(err as Error).message}); it was probably half-written`,
    );
  }
  if (!isObject(raw)) throw new UnreadableFileError('the file does not hold a JSON object');
  if (!READABLE_FORMATS.includes(raw.format))
    throw new UnreadableFileError(`unknown file format ${JSON.stringify(raw.format)}`);
  const str = (k: string) => {
    if (typeof raw[k] !== 'string') throw new UnreadableFileError(`field "${k}" is missing or not a string`);
    return raw[k];
  };
  const num = (k: string) => {
    if (typeof raw[k] !== 'number' || !Number.isFinite(raw[k]))
      throw new UnreadableFileError(`field "${k}" is missing or not a number`);
    return raw[k];
  };
  let retry: RetryPolicy;
  try {
    retry = validateRetryPolicy(raw.retry as RetryPolicy);
  } catch (err) {
    throw new UnreadableFileError(`field "retry" is not a retry policy (${(err as Error).message})`);
  }
  if (!isObject(raw.metadata)) throw new UnreadableFileError('field "metadata" is not an object');
  if (raw.uniqueKey !== null && typeof raw.uniqueKey !== 'string')
    throw new UnreadableFileError('field "uniqueKey" is not a string or null');
  const lastError = raw.lastError;
  if (
    lastError !== null &&
    !(isObject(lastError) && typeof lastError.name === 'string' && typeof lastError.message === 'string')
  ) {
    throw new UnreadableFileError('field "lastError" is not an error');
  }
  const progress = raw.progress;
  if (progress !== null && typeof progress !== 'number' && !isObject(progress)) {
    throw new UnreadableFileError('field "progress" is not a number or object');
  }
  const optional = <T>(k: string, type: 'string' | 'number'): T | null => {
    const v = raw[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== type || (type === 'number' && !Number.isFinite(v)))
      throw new UnreadableFileError(`field "${k}" is not a ${type} or null`);
    return v as T;
  };
  return {
    id: str('id'),
    queue: str('queue'),
    target: str('target'),
    method: str('method'),
    args: str('args'),
    retry,
    metadata: raw.metadata,
    uniqueKey: raw.uniqueKey,
    createdAt: num('createdAt'),
    insertedRunAt: num('insertedRunAt'),
    lastError: lastError as JobError | null,
    progress: progress,
    progressMessage: optional<string>('progressMessage', 'string'),
    progressAt: optional<number>('progressAt', 'number'),
    result: optional<string>('result', 'string'),
    pinnedHost: optional<string>('pinnedHost', 'string'),
    ...decodeFlowFields(raw),
  };
}

/**
 * A whole record: content overlaid with what the file's name and directory say. `host` is the host
 * the name's hostTag stands for (the caller looks it up: see hosts.ts).
 */
export function toRecord(content: JobContent, name: ParsedName, host: string | null): JobRecord {
  const status = statusOf(name);
  const run = lastRunOf(name);
  const base = {
    id: content.id,
    queue: content.queue,
    target: content.target,
    method: content.method,
    args: content.args,
    status,
    attempts: name.attempts,
    retry: content.retry,
    lastError:
      name.state === 'cancelled' && name.decided !== null && content.after !== null
        ? { name: DEPENDENCY_ERROR_NAME, message: decidedMessage(content.after, name.decided) }
        : content.lastError && { ...content.lastError },
    progress: run.progress ? content.progress : null,
    progressMessage: run.progress ? content.progressMessage : null,
    result: name.state === 'done' && name.result ? content.result : null,
    startedAt: run.startedAt === null ? null : new Date(run.startedAt),
    executorId: run.startedAt === null ? null : run.executor,
    host: run.startedAt === null ? null : host,
    metadata: content.metadata,
    uniqueKey: content.uniqueKey,
    pinnedHost: content.pinnedHost,
    uniqueScope: content.uniqueScope,
    priority: content.priority,
    after: content.after,
    waitingFor: name.state === 'waiting' ? name.waitingFor : null,
    concurrency: content.concurrency,
    sequence: content.sequence,
    createdAt: new Date(content.createdAt),
  };
  switch (name.state) {
    case 'waiting':
    case 'ready':
      return {
        ...base,
        runAt: new Date(name.runAt),
        lease: null,
        updatedAt: new Date(name.updatedAt),
        finishedAt: null,
      };
    case 'running': {
      // A running job changes after its claim only by progress (extensions do not count as updates).
      const progressAt = name.progress && content.progressAt !== null ? content.progressAt : name.since;
      return {
        ...base,
        runAt: new Date(name.runAt),
        lease: { owner: name.owner, token: name.token, expiresAt: new Date(name.expiresAt) },
        updatedAt: new Date(Math.max(name.since, progressAt)),
        finishedAt: null,
      };
    }
    default:
      return {
        ...base,
        runAt: new Date(name.runAt),
        lease: null,
        updatedAt: new Date(name.finishedAt),
        finishedAt: new Date(name.finishedAt),
      };
  }
}
