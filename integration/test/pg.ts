import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where the tests find PostgreSQL: ODDJOB_PG_URL, or the development machines' local server. */
export const PG_URL = process.env.ODDJOB_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<string | null> | undefined;

/** null when PostgreSQL answers, otherwise why not. Asked once per process. */
function probe(): Promise<string | null> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return null;
    } catch (err) {
      return (err as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/**
 * Call from a `before` hook. Without PostgreSQL the suite is skipped with a visible reason on a
 * developer's machine; with env CI set it fails, so a missing database can never pass as green.
 */
export async function requirePostgres(ctx: Mocha.Context): Promise<void> {
  const why = await probe();
  if (why === null) return;
  const message = `PostgreSQL at ${PG_URL} is unreachable (${why})`;
  if (process.env.CI) throw new Error(`${message}; CI is set, so the integration tests must run`);
  console.warn(`    skipping: ${message}`);
  ctx.skip();
}

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
  return rows[0]!.n;
}
