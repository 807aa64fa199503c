import { StoreSetupError, withInfraRetry } from '@oddjob/core';
import type { Pool, PoolClient } from 'pg';
import pg from 'pg';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations/index.js';
import { validateSchemaName } from './options.js';
import { failureOf } from './db.js';
import { DEFAULT_TRANSIENT_RETRY, isTransientError, type ResolvedTransientRetry } from './transient.js';

/**
 * First key of the two-key advisory lock taken while migrating (the second is the schema name's
 * hash), so migrators of different schemas do not wait for each other and nothing else that uses
 * advisory locks in the same database is likely to collide with it.
 */
const MIGRATION_LOCK_CLASS = 0x0dd_0b;

export interface MigrationResult {
  /** Version the schema had before (0: it did not exist). */
  from: number;
  /** Version it has now. */
  to: number;
}

async function currentVersion(client: PoolClient, schema: string): Promise<number | null> {
  const { rows } = await client.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [
    `${pg.escapeIdentifier(schema)}.migrations`,
  ]);
  if (!rows[0].exists) return null;
  const v = await client.query<{ v: number }>(
    `SELECT coalesce(max(version), 0)::int AS v FROM ${pg.escapeIdentifier(schema)}.migrations`,
  );
  return v.rows[0].v;
}

function newerSchemaError(schema: string, version: number): StoreSetupError {
  return new StoreSetupError(
    `schema "${schema}" is at version ${version}, newer than this @oddjob/storage-postgres knows (${LATEST_SCHEMA_VERSION}); ` +
      'upgrade the package instead of running an older one against it',
  );
}

/**
 * Brings `schema` up to the latest version. All of it happens in one transaction holding a
 * transaction-scoped advisory lock, so concurrent migrators (several executors starting at once)
 * queue up: the first applies the steps, the others then find nothing to do. The ledger table
 * `<schema>.migrations` records each applied version. A schema newer than this code is refused,
 * untouched.
 */
export async function migrate(
  pool: Pool,
  schemaName: string,
  retry?: ResolvedTransientRetry,
): Promise<MigrationResult> {
  const schema = validateSchemaName(schemaName);
  return withTransientRetry('migrate', schema, retry, async () => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
      const q = pg.escapeIdentifier(schema);
      // Checked before CREATE SCHEMA IF NOT EXISTS: that command wants CREATE rights on the database
      // even when the schema exists, which a deployed application's role often lacks.
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${q}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${q}.migrations (
           version    integer     PRIMARY KEY,
           name       text        NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const from = (await currentVersion(client, schema)) ?? 0;
      if (from > LATEST_SCHEMA_VERSION) throw newerSchemaError(schema, from);
      for (const m of MIGRATIONS.filter((m: Migration) => m.version > from)) {
        for (const statement of m.statements(q)) await client.query(statement);
        await client.query(`INSERT INTO ${q}.migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      }
      await client.query('COMMIT');
      return { from, to: LATEST_SCHEMA_VERSION };
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // A client whose connection failed must not go back into the pool.
      client.release(broken !== undefined && isTransientError(broken) ? broken : undefined);
    }
  });
}

/**
 * Checks, without changing anything, that `schema` is exactly at the version this code expects
 * (for stores opened with `migrate: false`, where a separate deploy step runs migrations).
 */
export async function checkSchemaVersion(
  pool: Pool,
  schemaName: string,
  retry?: ResolvedTransientRetry,
): Promise<number> {
  const schema = validateSchemaName(schemaName);
  return withTransientRetry('check schema version', schema, retry, async () => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const version = await currentVersion(client, schema);
      if (version === null || version === 0) {
        throw new StoreSetupError(
          `schema "${schema}" has no OddJob tables; run migrate() or open the store with migrate: true`,
        );
      }
      if (version > LATEST_SCHEMA_VERSION) throw newerSchemaError(schema, version);
      if (version < LATEST_SCHEMA_VERSION) {
        throw new StoreSetupError(
          `schema "${schema}" is at version ${version}, this code needs ${LATEST_SCHEMA_VERSION}; run migrate()`,
        );
      }
      return version;
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.release(broken !== undefined && isTransientError(broken) ? broken : undefined);
    }
  });
}

function withTransientRetry<T>(
  operation: string,
  schema: string,
  retry: ResolvedTransientRetry | undefined,
  body: () => Promise<T>,
): Promise<T> {
  return withInfraRetry(
    retry ?? DEFAULT_TRANSIENT_RETRY,
    (err) => !(err instanceof StoreSetupError) && isTransientError(err),
    body,
    {
      // A StoreSetupError (a newer schema, a foreign table) is already the answer: it passes as it is.
      fail: (f) => (f.error instanceof StoreSetupError ? f.error : failureOf(operation, schema, f)),
    },
  );
}
