import { randomBytes } from 'node:crypto';
import pg from 'pg';

// Reachability, the CI rule (a skipped PostgreSQL suite fails when CI is set) and the URL are shared
// with the provider's own tests.
export { PG_URL, requirePostgres } from '@oddjob/storage-postgres/testing';
import { PG_URL } from '@oddjob/storage-postgres/testing';

/** A schema name no other test or parallel run uses (storage-postgres allows at most 48 characters). */
export function uniqueSchema(label: string): string {
  return `oj_it_${label.replace(/[^a-z0-9_]/g, '_').slice(0, 16)}_${randomBytes(5).toString('hex')}`;
}

/**
 * The test's own connections, tagged so that terminating the executor's backends (by its own
 * application_name) never cuts the test's bookkeeping.
 */
export function adminPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2, application_name: 'oj-it-admin' });
  // An idle connection killed by a server restart must not crash the test process.
  pool.on('error', () => undefined);
  return pool;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
}

/** Terminates every backend of this database opened under `applicationName`; answers how many. */
export async function terminateBackends(pool: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`,
    [applicationName],
  );
  return rows[0].n;
}
