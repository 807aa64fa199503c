import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Statement } from '../db.js';

/**
 * What every statement needs to know about its store. Statements are built once per store, with the
 * schema quoted into the text (identifiers cannot be parameters).
 *
 * Conventions shared by every file in this folder:
 * - A statement that reads the time takes "now" from the injected clock as `$1`, or NULL there; `NOW_SQL` turns it into the time to use,
 *   so a test clock and the database clock go through the same statement text.
 * - One statement per named operation; each is prepared once per connection under a name made from
 *   a hash of the schema (prepared-statement names are cut at 63 bytes, a long schema name could
 *   otherwise make two stores' statements collide on one connection).
 */
export interface SqlContext {
  /** The quoted schema, e.g. `"oddjob"`. */
  s: string;
  /** The NOTIFY channel as an SQL literal. */
  channel: string;
  statement(operation: string, text: string): Statement;
}

export const NOW_SQL = 'COALESCE($1::timestamptz, now())';

/**
 * The job columns read back, listed rather than `*`: a prepared `SELECT *` fails with "cached plan
 * must not change result type" on live connections once a later migration adds a column, which
 * would break running executors of the previous version during a rolling deploy.
 */
export const JOB_COLUMNS = `id, queue, target, method, args, status, run_at, attempts, max_attempts, retry, last_error,
  lease_owner, lease_token, lease_expires_at, progress, metadata, unique_key, created_at, updated_at, finished_at`;

/** The LISTEN/NOTIFY channel of a schema: one per schema, so stores in other schemas are not woken. */
export function channelName(schema: string): string {
  return `${schema}_jobs`;
}

export function sqlContext(schema: string): SqlContext {
  const tag = createHash('sha256').update(schema).digest('hex').slice(0, 10);
  return {
    s: pg.escapeIdentifier(schema),
    channel: pg.escapeLiteral(channelName(schema)),
    statement: (operation, text) => ({ name: `oddjob_${tag}_${operation}`, text }),
  };
}
