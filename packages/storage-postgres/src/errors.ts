import { OddJobError } from '@oddjob/core';

/**
 * The database stayed unreachable (or kept failing transiently) through every infrastructure retry.
 * The operation did not happen, or its outcome is unknown; callers back off and try again later.
 */
export class DatabaseUnavailableError extends OddJobError {
  constructor(readonly operation: string, readonly attempts: number, cause: unknown) {
    super(
      `PostgreSQL was unavailable for "${operation}" after ${attempts} tries: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** A statement failed for a reason that retrying cannot fix; the message names the operation and SQLSTATE. */
export class PostgresStoreError extends OddJobError {
  constructor(readonly operation: string, readonly sqlState: string | undefined, message: string, cause: unknown) {
    super(message, { cause });
  }
}

/** SQLSTATEs meaning "the tables are not there": the schema was never migrated or was dropped. */
const MISSING_OBJECT = new Set(['42P01', '3F000', '42883']);

/** Wraps a non-transient error so the message says which operation failed and what to do about it. */
export function describeFailure(operation: string, schema: string, err: unknown): Error {
  if (!(err instanceof Error)) return new PostgresStoreError(operation, undefined, `"${operation}" failed: ${String(err)}`, err);
  const code = (err as { code?: unknown }).code;
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  let message = `"${operation}" failed: ${err.message}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`;
  if (sqlState !== undefined && MISSING_OBJECT.has(sqlState)) {
    message += `; is schema "${schema}" set up? Open the store with migrate enabled (the default) or call migrate()`;
  }
  return new PostgresStoreError(operation, sqlState, message, err);
}
