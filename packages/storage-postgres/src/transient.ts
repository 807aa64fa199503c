import type { InfraRetryOptions, ResolvedInfraRetry } from '@oddjob/core';

/**
 * Infrastructure retries, kept apart from job retries: a statement that failed because the database
 * blinked (a dropped connection, a failover, a deadlock victim) is run again after a short, bounded
 * backoff. A job's own retry policy is never consulted or spent for these.
 */

/**
 * SQLSTATE codes worth running the same statement again for. Everything else (a constraint, a syntax
 * error, a missing table) would fail the same way again, so it surfaces at once.
 */
export const RETRYABLE_SQLSTATES: Readonly<Record<string, string>> = Object.freeze({
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '55P03': 'lock_not_available',
  '57P01': 'admin_shutdown (e.g. pg_terminate_backend, a restart)',
  '57P02': 'crash_shutdown',
  '57P03': 'cannot_connect_now (the server is starting up)',
  '53300': 'too_many_connections',
  '08000': 'connection_exception',
  '08001': 'sqlclient_unable_to_establish_sqlconnection',
  '08003': 'connection_does_not_exist',
  '08004': 'sqlserver_rejected_establishment_of_sqlconnection',
  '08006': 'connection_failure',
  '08007': 'transaction_resolution_unknown',
});

/** Socket-level error codes from Node for a database that is unreachable or went away. */
export const RETRYABLE_NODE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * pg reports a connection that died under a query by message only (no code), so these are matched
 * on text. Each is a case where the server or the socket went away, never a problem with the SQL.
 */
const RETRYABLE_MESSAGES: readonly RegExp[] = [
  /^Connection terminated/,
  /Client has encountered a connection error and is not queryable/,
  /timeout exceeded when trying to connect/,
  /^Client was closed and is not queryable/,
];

/** True when running the same statement again, on a fresh connection, may succeed. */
export function isTransientError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (Object.hasOwn(RETRYABLE_SQLSTATES, code) || RETRYABLE_NODE_CODES.has(code)) return true;
  }
  return RETRYABLE_MESSAGES.some((re) => re.test(err.message));
}

/**
 * The bounds of the infrastructure retry loop: core's InfraRetryOptions (the loop itself is core's
 * withInfraRetry; this file keeps only what is PostgreSQL's, the table of transient errors). With
 * the defaults (10 tries, 50 ms doubling to at most 2000 ms) a statement gives up after about 10 s.
 * @deprecated Use core's InfraRetryOptions; the name is kept for code that imported it.
 */
export type TransientRetryOptions = InfraRetryOptions;

export type ResolvedTransientRetry = ResolvedInfraRetry;

/** The defaults of PostgreSQL's `retry` option. */
export const DEFAULT_TRANSIENT_RETRY: ResolvedTransientRetry = Object.freeze({
  maxAttempts: 10,
  baseDelayMs: 50,
  maxDelayMs: 2000,
});
