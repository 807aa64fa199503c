import type { JobError, JobMetadata, JobProgress, JobRecord, RetryPolicy } from '@oddjob/core';
import { validateRetryPolicy } from '@oddjob/core';
import type { ParsedName } from './layout.js';
import { statusOf } from './layout.js';

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
}

/** The file format version written in every job file; a reader refuses one it does not know. */
const FORMAT = 1;

/** A file whose text is not a job this store wrote (half-written, truncated, hand-edited). */
export class UnreadableFileError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnreadableFileError';
  }
}

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
    throw new UnreadableFileError(`the file is not complete JSON (${(err as Error).message}); it was probably half-written`);
  }
  if (!isObject(raw)) throw new UnreadableFileError('the file does not hold a JSON object');
  if (raw.format !== FORMAT) throw new UnreadableFileError(`unknown file format ${JSON.stringify(raw.format)}`);
  const str = (k: string) => {
    if (typeof raw[k] !== 'string') throw new UnreadableFileError(`field "${k}" is missing or not a string`);
    return raw[k] as string;
  };
  const num = (k: string) => {
    if (typeof raw[k] !== 'number' || !Number.isFinite(raw[k])) throw new UnreadableFileError(`field "${k}" is missing or not a number`);
    return raw[k] as number;
  };
  let retry: RetryPolicy;
  try {
    retry = validateRetryPolicy(raw.retry as RetryPolicy);
  } catch (err) {
    throw new UnreadableFileError(`field "retry" is not a retry policy (${(err as Error).message})`);
  }
  if (!isObject(raw.metadata)) throw new UnreadableFileError('field "metadata" is not an object');
  if (raw.uniqueKey !== null && typeof raw.uniqueKey !== 'string') throw new UnreadableFileError('field "uniqueKey" is not a string or null');
  const lastError = raw.lastError;
  if (lastError !== null && !(isObject(lastError) && typeof lastError.name === 'string' && typeof lastError.message === 'string')) {
    throw new UnreadableFileError('field "lastError" is not an error');
  }
  const progress = raw.progress;
  if (progress !== null && typeof progress !== 'number' && !isObject(progress)) {
    throw new UnreadableFileError('field "progress" is not a number or object');
  }
  return {
    id: str('id'),
    queue: str('queue'),
    target: str('target'),
    method: str('method'),
    args: str('args'),
    retry,
    metadata: raw.metadata,
    uniqueKey: raw.uniqueKey as string | null,
    createdAt: num('createdAt'),
    insertedRunAt: num('insertedRunAt'),
    lastError: lastError as JobError | null,
    progress: progress as JobProgress | null,
  };
}

/** A whole record: content overlaid with what the file's name and directory say. */
export function toRecord(content: JobContent, name: ParsedName): JobRecord {
  const status = statusOf(name);
  const base = {
    id: content.id,
    queue: content.queue,
    target: content.target,
    method: content.method,
    args: content.args,
    status,
    attempts: name.attempts,
    retry: content.retry,
    lastError: content.lastError && { ...content.lastError },
    progress: content.progress,
    metadata: content.metadata,
    uniqueKey: content.uniqueKey,
    createdAt: new Date(content.createdAt),
  };
  switch (name.state) {
    case 'ready':
      return { ...base, runAt: new Date(name.runAt), lease: null, updatedAt: new Date(name.updatedAt), finishedAt: null };
    case 'running':
      return {
        ...base,
        runAt: new Date(name.runAt),
        lease: { owner: name.owner, token: name.token, expiresAt: new Date(name.expiresAt) },
        updatedAt: new Date(name.updatedAt),
        finishedAt: null,
      };
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
