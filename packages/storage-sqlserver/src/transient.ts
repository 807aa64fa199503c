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
 * A retry runs only outside a caller's transaction: inside one, the first failure may already have
 * rolled the caller's work back (1205 does), so it is the caller's decision what to do, never ours.
 */

export const RETRIED_ERROR_NUMBERS: ReadonlySet<number> = new Set([1205, 1222]);
export const RETRIED_ERROR_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ESOCKET', 'ETIMEOUT', 'ECONNCLOSED', 'ECLOSE']);

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

/** How hard to retry transient failures. */
export interface RetryOptions {
  /** Tries in all, the first included (>= 1). Default 5. */
  maxAttempts?: number;
  /** Delay before the first retry; doubled each time, with full jitter. Default 50 ms. */
  baseDelayMs?: number;
  /** Cap on one delay. Default 2000 ms. */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = Object.freeze({ maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 2000 });

/** The wait before retry n (1-based): uniform in [0, min(max, base * 2^(n-1))] ("full jitter"). */
export function backoffMs(retry: Required<RetryOptions>, n: number, random: () => number = Math.random): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (n - 1));
  return Math.round(random() * ceiling);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` and runs it again on a transient error, at most `maxAttempts` times in all. `work`
 * must start from scratch each time (a new request, a new transaction).
 */
export async function withRetry<T>(retry: Required<RetryOptions>, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= retry.maxAttempts || !isTransientError(err)) throw err;
      await sleep(backoffMs(retry, attempt));
    }
  }
}
