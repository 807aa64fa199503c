/**
 * Infrastructure retries, shared by every provider and kept apart from job retry policies (retry.ts):
 * a storage call that failed because the store blinked (a dropped connection, a deadlock victim) is
 * run again after a bounded, jittered, exponential wait. Each provider supplies only its predicate
 * of transient errors.
 */

/** How hard to retry transient failures: the one vocabulary every provider's `retry` option uses. */
export interface InfraRetryOptions {
  /** Tries in all, the first included (>= 1). */
  maxAttempts?: number;
  /** Delay before the first retry; doubled each time, with jitter. */
  baseDelayMs?: number;
  /** Cap on one delay. */
  maxDelayMs?: number;
  /** Give up (rethrow the last error) once this much time has passed since the first try. */
  deadlineMs?: number;
}

export type ResolvedInfraRetry = Required<Omit<InfraRetryOptions, 'deadlineMs'>> & { deadlineMs?: number };

/**
 * The wait before retry n (1-based): "equal jitter", uniform in [d/2, d] with d = min(max, base *
 * 2^(n-1)). Half of the wait is certain (so a failing store is never hammered), half is random (so
 * many clients do not retry in step).
 */
export function infraRetryDelayMs(retry: ResolvedInfraRetry, n: number, random: () => number = Math.random): number {
  const d = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (n - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

/** Waits `ms`, or less if `signal` aborts (then it resolves early: the caller checks the signal). */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Why a retry loop stopped with an error: the last error, how many tries were made, whether it was transient. */
export interface InfraRetryFailure {
  error: unknown;
  attempts: number;
  transient: boolean;
  /** True when the signal stopped the loop (e.g. the store closed). */
  aborted: boolean;
}

/**
 * Runs `work(attempt)` and again on a transient error, at most `maxAttempts` times, within the
 * deadline, until `signal` aborts. `work` must start from scratch each time. A failure is handed to
 * `fail`, which turns it into the error to throw (a provider maps it into the storage family there).
 */
export async function withInfraRetry<T>(
  retry: ResolvedInfraRetry,
  isTransient: (err: unknown) => boolean,
  work: (attempt: number) => Promise<T>,
  options: {
    signal?: AbortSignal;
    fail?: (failure: InfraRetryFailure) => unknown;
    now?: () => number;
    random?: () => number;
  } = {},
): Promise<T> {
  const now = options.now ?? Date.now;
  const started = now();
  const fail = options.fail ?? ((f: InfraRetryFailure) => f.error);
  // Set by every failed try; made up only if the signal stopped the loop before the first (an Error
  // per call, stack and all, cost ~5 µs on every storage call).
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) {
      const error = attempt === 1 ? new Error('aborted before the first try') : lastError;
      throw fail({ error, attempts: attempt - 1, transient: true, aborted: true });
    }
    try {
      return await work(attempt);
    } catch (err) {
      lastError = err;
      const transient = isTransient(err);
      if (!transient) throw fail({ error: err, attempts: attempt, transient, aborted: false });
      const wait = infraRetryDelayMs(retry, attempt, options.random);
      const outOfTime = retry.deadlineMs !== undefined && now() - started + wait > retry.deadlineMs;
      if (attempt >= retry.maxAttempts || outOfTime)
        throw fail({ error: err, attempts: attempt, transient, aborted: false });
      await sleepUnlessAborted(wait, options.signal);
    }
  }
}
