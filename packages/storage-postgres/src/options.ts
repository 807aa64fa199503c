import type { Clock } from '@oddjob/core';
import { InvalidOptionError } from '@oddjob/core';
import type { Pool, PoolConfig } from 'pg';
import type { ResolvedTransientRetry, TransientRetryOptions } from './transient.js';

/** How long finished jobs are kept before `purgeExpired()` (or its timer) deletes them. */
export interface RetentionOptions {
  /** Keep `done` jobs this long after they finished (ms). Unset: kept until purged by hand. */
  doneMs?: number;
  /** Keep `failed` jobs this long (ms). Unset: kept until purged by hand (they are evidence). */
  failedMs?: number;
  /** Keep `cancelled` jobs this long (ms). */
  cancelledMs?: number;
  /** Run `purgeExpired()` this often in the background (ms). Unset: only when called. */
  intervalMs?: number;
  /** Rows deleted per statement, so a large purge never holds many row locks at once (default 5000). */
  batchSize?: number;
}

export interface PostgresStoreOptions {
  /** A connection string (`postgres://user@host:5432/db`), a pg pool config, or a pool you own. */
  connection: string | PoolConfig | Pool;
  /**
   * The PostgreSQL schema holding OddJob's tables (default `oddjob`). Lower-case letters, digits and
   * `_`, starting with a letter or `_`, at most 48 characters (the NOTIFY channel adds a suffix).
   */
  schema?: string;
  /**
   * Where "now" comes from. Given: every comparison with now (runAt, lease expiry, finished times)
   * uses this clock's time, sent as a statement parameter. Omitted: the database server's `now()`,
   * so that executors on hosts with skewed clocks still agree.
   */
  clock?: Clock;
  /** Apply pending migrations when the store opens (default true). False: only check the version. */
  migrate?: boolean;
  /** Send NOTIFY on enqueue and LISTEN for it in `onJobsAvailable` (default true). */
  notify?: boolean;
  retention?: RetentionOptions;
  /**
   * Delete a job the moment it completes instead of keeping it as `done` (default false). The
   * fastest completion there is (graphile-worker always works this way), for queues of many short
   * jobs whose success nobody looks up. Done jobs then vanish from admin queries and counts. Jobs
   * with a unique key are kept all the same, so their key stays taken (schedules rely on it).
   * Failed and cancelled jobs are always kept.
   */
  deleteDoneJobs?: boolean;
  /** Infrastructure retries for transient database errors (not job retries). */
  transientRetry?: TransientRetryOptions;
  /** Told about errors in background work (the LISTEN connection, retention); default console.warn. */
  onBackgroundError?: (err: Error) => void;
}

export const DEFAULT_SCHEMA = 'oddjob';
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

export function validateSchemaName(schema: unknown): string {
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw new InvalidOptionError(
      'schema',
      `"${String(schema)}" must be lower-case letters, digits or "_", start with a letter or "_", at most 48 characters`,
    );
  }
  if (schema.startsWith('pg_')) throw new InvalidOptionError('schema', `"${schema}": names starting with pg_ are reserved by PostgreSQL`);
  return schema;
}

function positiveMs(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, `must be a finite number of milliseconds > 0, got ${String(value)}`);
  }
  return value;
}

export function resolveRetention(r: RetentionOptions | undefined): Required<Pick<RetentionOptions, 'batchSize'>> & RetentionOptions {
  const out: RetentionOptions & { batchSize: number } = { batchSize: 5000 };
  if (r === undefined) return out;
  if (r === null || typeof r !== 'object') throw new InvalidOptionError('retention', 'must be an object');
  if (r.doneMs !== undefined) out.doneMs = positiveMs('retention.doneMs', r.doneMs);
  if (r.failedMs !== undefined) out.failedMs = positiveMs('retention.failedMs', r.failedMs);
  if (r.cancelledMs !== undefined) out.cancelledMs = positiveMs('retention.cancelledMs', r.cancelledMs);
  if (r.intervalMs !== undefined) out.intervalMs = positiveMs('retention.intervalMs', r.intervalMs);
  if (r.batchSize !== undefined) {
    if (!Number.isInteger(r.batchSize) || r.batchSize < 1) throw new InvalidOptionError('retention.batchSize', 'must be an integer >= 1');
    out.batchSize = r.batchSize;
  }
  return out;
}

export function resolveTransientRetry(t: TransientRetryOptions | undefined): ResolvedTransientRetry {
  const out = { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 2000, ...(t ?? {}) };
  if (!Number.isInteger(out.maxAttempts) || out.maxAttempts < 1) {
    throw new InvalidOptionError('transientRetry.maxAttempts', 'must be an integer >= 1');
  }
  positiveMs('transientRetry.baseDelayMs', out.baseDelayMs);
  positiveMs('transientRetry.maxDelayMs', out.maxDelayMs);
  return out;
}
