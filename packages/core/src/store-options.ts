import { InvalidOptionError } from './errors.js';
import type { InfraRetryOptions } from './infra-retry.js';

/**
 * The option vocabulary every store shares, with the same defaults everywhere:
 * - `retry`: infrastructure retries of transient storage failures (core's InfraRetryOptions); never
 *   a job's retry policy.
 * - `migrations`: 'apply' (default) brings the schema up to date on open; 'verify' only checks it.
 * - `retention`: how long finished jobs are kept. Off by default (nothing is deleted unless asked):
 *   set `doneMs` / `failedMs` / `cancelledMs`, and `intervalMs` to purge in the background.
 */
export interface StoreOptionVocabulary {
  retry?: InfraRetryOptions;
  migrations?: MigrationMode;
  retention?: RetentionOptions;
}

/** What a store does with its schema on open. */
export type MigrationMode = 'apply' | 'verify';

/** How long finished jobs are kept before the store's retention purge deletes them. */
export interface RetentionOptions {
  /** Keep `done` jobs this long after they finished (ms). Unset: kept until purged by hand. */
  doneMs?: number;
  /** Keep `failed` jobs this long (ms). Unset: kept until purged by hand (they are evidence). */
  failedMs?: number;
  /** Keep `cancelled` jobs this long (ms). Unset: kept until purged by hand. */
  cancelledMs?: number;
  /** Purge this often in the background (ms). Unset: only when the store's purge is called. */
  intervalMs?: number;
  /** Rows deleted per statement, so a large purge never holds many row locks at once (default 5000). */
  batchSize?: number;
}

export type ResolvedRetention = RetentionOptions & { batchSize: number };

function positiveMs(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, `must be a finite number of milliseconds > 0, got ${String(value)}`);
  }
  return value;
}

/** Checks retention options, naming the bad field; fills in batchSize. */
export function resolveRetention(r: RetentionOptions | undefined): ResolvedRetention {
  const out: ResolvedRetention = { batchSize: 5000 };
  if (r === undefined) return out;
  if (r === null || typeof r !== 'object') throw new InvalidOptionError('retention', 'must be an object');
  if (r.doneMs !== undefined) out.doneMs = positiveMs('retention.doneMs', r.doneMs);
  if (r.failedMs !== undefined) out.failedMs = positiveMs('retention.failedMs', r.failedMs);
  if (r.cancelledMs !== undefined) out.cancelledMs = positiveMs('retention.cancelledMs', r.cancelledMs);
  if (r.intervalMs !== undefined) out.intervalMs = positiveMs('retention.intervalMs', r.intervalMs);
  if (r.batchSize !== undefined) {
    if (!Number.isInteger(r.batchSize) || r.batchSize < 1)
      throw new InvalidOptionError('retention.batchSize', 'must be an integer >= 1');
    out.batchSize = r.batchSize;
  }
  return out;
}

/** Checks a `migrations` option. */
export function resolveMigrationMode(value: unknown, fallback: MigrationMode = 'apply'): MigrationMode {
  const m = value ?? fallback;
  if (m !== 'apply' && m !== 'verify')
    throw new InvalidOptionError('migrations', `must be "apply" or "verify", got ${JSON.stringify(m)}`);
  return m;
}
