import { StorageOperationError, StorageUnavailableError } from '@oddjob/core';
import { isTransientError } from './transient.js';

/**
 * The database stayed unreachable (or kept failing transiently) through every infrastructure retry.
 * The operation did not happen, or its outcome is unknown; callers back off and try again later.
 * Core's StorageUnavailableError (transient) with provider 'postgres'; the name is kept so code
 * that matched on it before the storage error family existed keeps working.
 */
export class DatabaseUnavailableError extends StorageUnavailableError {
  constructor(
    operation: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      'postgres',
      operation,
      `PostgreSQL was unavailable for "${operation}" after ${attempts} tries: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/**
 * A statement failed for a reason that retrying cannot fix; the message names the operation and
 * SQLSTATE. Core's StorageOperationError (permanent) with provider 'postgres'.
 */
export class PostgresStoreError extends StorageOperationError {
  constructor(
    operation: string,
    readonly sqlState: string | undefined,
    message: string,
    cause: unknown,
  ) {
    super('postgres', operation, message, { cause });
  }
}

/** SQLSTATEs meaning "the tables are not there": the schema was never migrated or was dropped. */
const MISSING_OBJECT = new Set(['42P01', '3F000', '42883']);

/** Wraps a non-transient error so the message says which operation failed and what to do about it. */
export function describeFailure(operation: string, schema: string, err: unknown): PostgresStoreError {
  if (!(err instanceof Error))
    return new PostgresStoreError(operation, undefined, `"${operation}" failed: ${String(err)}`, err);
  const code = (err as { code?: unknown }).code;
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  let message = `"${operation}" failed: ${err.message}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`;
  if (sqlState !== undefined && MISSING_OBJECT.has(sqlState)) {
    message += `; is schema "${schema}" set up? Open the store with migrate enabled (the default) or call migrate()`;
  }
  return new PostgresStoreError(operation, sqlState, message, err);
}

/**
 * A failure of background work (the LISTEN connection, an idle pooled connection, the retention
 * purge), as a member of core's storage family for onBackgroundError: unavailable when the cause is
 * transient (the connection went away), else an operation failure; the driver's error is the cause.
 * An error already in the family passes unchanged.
 */
export function backgroundError(
  operation: string,
  what: string,
  err: unknown,
): StorageUnavailableError | StorageOperationError {
  if (err instanceof StorageUnavailableError || err instanceof StorageOperationError) return err;
  const text = err instanceof Error ? err.message : String(err);
  const message = `PostgreSQL ${what}: ${text}`;
  return isTransientError(err) || !(err instanceof Error) || (err as { code?: unknown }).code === undefined
    ? new StorageUnavailableError('postgres', operation, message, { cause: err })
    : new StorageOperationError('postgres', operation, message, { cause: err });
}
