import { EngineDetectionError } from './connection.js';
import {
  infraRetryDelayMs,
  OddJobError,
  StorageOperationError,
  StorageUnavailableError,
  withInfraRetry,
  type InfraRetryOptions,
} from '@oddjob/core';
/**
 * Infrastructure retries, kept apart from job retries: which failures of a statement are worth
 * running it again, and how long to wait in between.
 *
 * Retried:
 * - 1205: this session was chosen as a deadlock victim. SQL Server has rolled the victim's whole
 *   transaction back, so running the same work again is safe and is what the docs advise.
 * - 1222: lock request time-out (only when someone set LOCK_TIMEOUT). The statement was cancelled and
 *   rolled back; the transaction itself stays open unless XACT_ABORT is on.
 * - Dropped or stalled connections: ECONNRESET (socket hang-up), ESOCKET (tedious' socket errors),
 *   ETIMEOUT (connect or request time-out), ECONNCLOSED (mssql: the connection was already closed),
 *   ECLOSE (tedious: "Connection closed before request completed").
 *
 * - 51002: the store's own THROW when sp_getapplock on a concurrency key returns a failure (time-out,
 *   or chosen as a deadlock victim); XACT_ABORT has rolled the batch's transaction back.
 *
 * A retry runs only outside a caller's transaction: inside one, the first failure may already have
 * rolled the caller's work back (1205 does), so it is the caller's decision what to do, never ours.
 */

export const RETRIED_ERROR_NUMBERS: ReadonlySet<number> = new Set([
  1205, // deadlock victim
  1222, // lock request time-out
  -2, // client-side request time-out as the server reports it
  233, // no process on the other end of the pipe (connection dropped)
  10053, // transport-level error: connection aborted by the host
  10054, // transport-level error: connection reset by the peer
  10060, // network time-out
  10928, // Azure SQL: resource limit reached, try later
  10929, // Azure SQL: resource governor minimum not met, try later
  40197, // Azure SQL: service error processing the request (failover)
  40501, // Azure SQL: service is busy
  40613, // Azure SQL: database not currently available
  49918, // Azure SQL: not enough resources to process the request
  49919, // Azure SQL: too many create/update operations in progress
  49920, // Azure SQL: too many operations in progress
  51002, // OddJob: a concurrency key's applock timed out or lost a deadlock (KEY_LOCK_FAILED); the batch rolled back
]);
export const RETRIED_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ESOCKET',
  'ETIMEOUT',
  'ECONNCLOSED',
  'ECLOSE',
  'ECONNREFUSED',
]);

/**
 * Server errors that say "this statement or setup is wrong", kept as a table so the mapping into
 * core's family is explicit; any other non-transient error is treated as permanent as well (a
 * constraint, a conversion, ...), these only give the message a hint.
 */
export const PERMANENT_ERROR_HINTS: ReadonlyMap<number, string> = new Map([
  [102, 'syntax error'],
  [156, 'syntax error near a keyword'],
  [207, 'invalid column name: is the schema migrated?'],
  [208, 'invalid object name: is the schema migrated?'],
  [229, 'permission denied'],
  [230, 'permission denied on a column'],
  [262, 'permission denied in the database'],
  [297, 'the user has no permission to perform this action'],
  [2812, 'stored procedure not found'],
  [8115, 'arithmetic overflow'],
  [18456, 'login failed'],
]);

/** Duplicate key: 2627 (PRIMARY KEY or UNIQUE constraint), 2601 (unique index). */
export const DUPLICATE_KEY_NUMBERS: ReadonlySet<number> = new Set([2627, 2601]);

interface ErrorLike {
  number?: unknown;
  code?: unknown;
  originalError?: unknown;
  cause?: unknown;
  precedingErrors?: unknown;
}

/** The error and everything it wraps (mssql's originalError, tedious' cause, earlier server errors). */
function* chain(err: unknown, depth = 0): Generator<ErrorLike> {
  if (err === null || typeof err !== 'object' || depth > 8) return;
  const e = err as ErrorLike;
  yield e;
  yield* chain(e.originalError, depth + 1);
  yield* chain(e.cause, depth + 1);
  if (Array.isArray(e.precedingErrors)) for (const p of e.precedingErrors) yield* chain(p, depth + 1);
}

/** The SQL Server error numbers found on the error or anything it wraps. */
export function errorNumbers(err: unknown): number[] {
  const out: number[] = [];
  for (const e of chain(err)) if (typeof e.number === 'number') out.push(e.number);
  return out;
}

export function isTransientError(err: unknown): boolean {
  for (const e of chain(err)) {
    if (typeof e.number === 'number' && RETRIED_ERROR_NUMBERS.has(e.number)) return true;
    if (typeof e.code === 'string' && RETRIED_ERROR_CODES.has(e.code)) return true;
  }
  return false;
}

export function isDuplicateKeyError(err: unknown): boolean {
  return errorNumbers(err).some((n) => DUPLICATE_KEY_NUMBERS.has(n));
}

/** How hard to retry transient failures: core's one vocabulary (defaults here: 5 tries, 50 ms, 2000 ms). */
export type RetryOptions = Omit<InfraRetryOptions, 'deadlineMs'>;

export const DEFAULT_RETRY: Required<RetryOptions> = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 50,
  maxDelayMs: 2000,
});

/** The wait before retry n (1-based): core's equal jitter, uniform in [d/2, d], d = min(max, base * 2^(n-1)). */
export function backoffMs(retry: Required<RetryOptions>, n: number, random: () => number = Math.random): number {
  return infraRetryDelayMs(retry, n, random);
}

/**
 * Runs `work` and runs it again on a transient error, at most `maxAttempts` times in all (core's
 * withInfraRetry with this provider's table of transient errors). `work` must start from scratch
 * each time (a new request, a new transaction).
 */
export function withRetry<T>(retry: Required<RetryOptions>, work: () => Promise<T>): Promise<T> {
  return withInfraRetry(retry, isTransientError, () => work());
}

/**
 * Maps anything a statement threw into core's storage error family, so no raw mssql error leaves the
 * store: transient failures (which outlived the retries) become StorageUnavailableError, the rest
 * StorageOperationError naming the operation and the server's error number. OddJob's own errors
 * (bad input, corrupt rows, setup) pass through unchanged — but for a failed @@VERSION read whose
 * cause is transient (EngineDetectionError): that is the server blinking, not a setup mistake.
 */
export function toStorageError(operation: string, err: unknown): Error {
  if (err instanceof EngineDetectionError && isTransientError(err.cause)) {
    return new StorageUnavailableError(
      'sqlserver',
      operation,
      `SQL Server was unavailable for "${operation}": ${err.message}`,
      { cause: err },
    );
  }
  if (err instanceof OddJobError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isTransientError(err)) {
    return new StorageUnavailableError(
      'sqlserver',
      operation,
      `SQL Server was unavailable for "${operation}": ${message}`,
      { cause: err },
    );
  }
  const number = errorNumbers(err)[0];
  const hint = number === undefined ? undefined : PERMANENT_ERROR_HINTS.get(number);
  const detail = number === undefined ? '' : ` (error ${number}${hint ? `: ${hint}` : ''})`;
  return new StorageOperationError('sqlserver', operation, `"${operation}" failed: ${message}${detail}`, {
    cause: err,
  });
}
