import type { Clock } from '@oddjob/core';
import { InvalidOptionError, type MigrationMode, type RetentionOptions } from '@oddjob/core';
export { resolveRetention } from '@oddjob/core';
import type { Pool, PoolConfig } from 'pg';
import { DEFAULT_TRANSIENT_RETRY, type ResolvedTransientRetry, type TransientRetryOptions } from './transient.js';

export type { RetentionOptions } from '@oddjob/core';

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
  /**
   * On open: 'apply' (default) applies pending migrations under the advisory lock; 'verify' only
   * checks the schema version. The same option as on every store.
   */
  migrations?: MigrationMode;
  /** @deprecated Use `migrations: 'apply' | 'verify'` (`migrate: false` is `migrations: 'verify'`). */
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
  /** Infrastructure retries for transient database errors (not job retries). The same option as on every store. */
  retry?: TransientRetryOptions;
  /** @deprecated Use `retry` (same fields); used only when `retry` is not given. */
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
  if (schema.startsWith('pg_'))
    throw new InvalidOptionError('schema', `"${schema}": names starting with pg_ are reserved by PostgreSQL`);
  return schema;
}

function positiveMs(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, `must be a finite number of milliseconds > 0, got ${String(value)}`);
  }
  return value;
}

export function resolveTransientRetry(t: TransientRetryOptions | undefined): ResolvedTransientRetry {
  const out: ResolvedTransientRetry = { ...DEFAULT_TRANSIENT_RETRY, ...(t ?? {}) };
  if (!Number.isInteger(out.maxAttempts) || out.maxAttempts < 1) {
    throw new InvalidOptionError('transientRetry.maxAttempts', 'must be an integer >= 1');
  }
  positiveMs('transientRetry.baseDelayMs', out.baseDelayMs);
  positiveMs('transientRetry.maxDelayMs', out.maxDelayMs);
  if (out.deadlineMs !== undefined) positiveMs('transientRetry.deadlineMs', out.deadlineMs);
  return out;
}
