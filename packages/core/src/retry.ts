import { MAX_INT32 } from './checks/limits.js';
import { InvalidOptionError } from './errors.js';

/** How long to wait before the next attempt. */
export type Backoff =
  /** The same delay before every retry. */
  | { kind: 'fixed'; delayMs: number }
  /**
   * baseMs * factor^(n-1) before retry n, capped at maxMs. With jitter (the default) the delay is
   * drawn from [d/2, d], so that jobs failing together do not come back together.
   */
  | { kind: 'exponential'; baseMs: number; factor?: number; maxMs?: number; jitter?: boolean }
  /** An explicit list (e.g. 2 min, 3 h, 6 h, 24 h); past its end the last entry repeats. */
  | { kind: 'list'; delaysMs: number[] };

/**
 * maxAttempts counts every attempt, the first included: maxAttempts 1 means "never retry".
 * A lease that expires while a job runs (its executor crashed) also uses up an attempt.
 */
export interface RetryPolicy {
  maxAttempts: number;
  backoff: Backoff;
}

/** Three attempts, 1 s then ~2 s apart: forgiving of blips without hiding a broken job for long. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  backoff: Object.freeze({ kind: 'exponential', baseMs: 1000, factor: 2, maxMs: 3_600_000, jitter: true }),
});

/** Builders for the common policies. */
export const Retry = {
  none(): RetryPolicy {
    return { maxAttempts: 1, backoff: { kind: 'fixed', delayMs: 0 } };
  },
  fixed(maxAttempts: number, delayMs: number): RetryPolicy {
    return validateRetryPolicy({ maxAttempts, backoff: { kind: 'fixed', delayMs } });
  },
  exponential(
    maxAttempts: number,
    baseMs: number,
    options: { factor?: number; maxMs?: number; jitter?: boolean } = {},
  ): RetryPolicy {
    return validateRetryPolicy({ maxAttempts, backoff: { kind: 'exponential', baseMs, ...options } });
  },
  /** One retry per listed delay: `Retry.list([120_000, 3 * 3_600_000])` allows three attempts. */
  list(delaysMs: number[]): RetryPolicy {
    return validateRetryPolicy({ maxAttempts: delaysMs.length + 1, backoff: { kind: 'list', delaysMs } });
  },
} as const;

function nonNegative(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(field, `must be a finite number >= 0, got ${String(value)}`);
  }
}

/** Checks a policy from user input or storage; throws InvalidOptionError naming the bad field. */
export function validateRetryPolicy(policy: RetryPolicy): RetryPolicy {
  if (policy === null || typeof policy !== 'object') {
    throw new InvalidOptionError('retry', 'must be an object { maxAttempts, backoff }');
  }
  // Capped at 2^31-1: the SQL stores keep attempts in a 32-bit int column.
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > MAX_INT32) {
    throw new InvalidOptionError(
      'retry.maxAttempts',
      `must be an integer from 1 to ${MAX_INT32}, got ${String(policy.maxAttempts)}`,
    );
  }
  const b = policy.backoff as Backoff | undefined;
  if (b === null || typeof b !== 'object') throw new InvalidOptionError('retry.backoff', 'is required');
  switch (b.kind) {
    case 'fixed':
      nonNegative('retry.backoff.delayMs', b.delayMs);
      break;
    case 'exponential':
      nonNegative('retry.backoff.baseMs', b.baseMs);
      if (b.factor !== undefined && (typeof b.factor !== 'number' || !(b.factor >= 1))) {
        throw new InvalidOptionError('retry.backoff.factor', `must be a number >= 1, got ${String(b.factor)}`);
      }
      if (b.maxMs !== undefined) nonNegative('retry.backoff.maxMs', b.maxMs);
      break;
    case 'list':
      if (!Array.isArray(b.delaysMs) || b.delaysMs.length === 0) {
        throw new InvalidOptionError('retry.backoff.delaysMs', 'must be a non-empty array of delays');
      }
      b.delaysMs.forEach((d, i) => nonNegative(`retry.backoff.delaysMs[${i}]`, d));
      break;
    default:
      throw new InvalidOptionError(
        'retry.backoff.kind',
        `must be "fixed", "exponential" or "list", got ${JSON.stringify((b as { kind?: unknown }).kind)}`,
      );
  }
  return policy;
}

/**
 * The delay before the next attempt, or null when no attempt is left.
 * @param attemptsMade attempts started so far, the one that just failed included (>= 1).
 * @param random injectable for tests; returns [0, 1).
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attemptsMade: number,
  random: () => number = Math.random,
): number | null {
  if (attemptsMade >= policy.maxAttempts) return null;
  const n = Math.max(1, attemptsMade); // the n-th retry
  const b = policy.backoff;
  switch (b.kind) {
    case 'fixed':
      return b.delayMs;
    case 'list':
      return b.delaysMs[Math.min(n - 1, b.delaysMs.length - 1)];
    case 'exponential': {
      const raw = b.baseMs * Math.pow(b.factor ?? 2, n - 1);
      const capped = Math.min(raw, b.maxMs ?? Number.MAX_SAFE_INTEGER);
      return b.jitter === false ? capped : Math.round(capped / 2 + (random() * capped) / 2);
    }
  }
}
