/**
 * Test helpers for suites that run against a real PostgreSQL: this package's own tests, the
 * integration tests, and yours (`import { openTestStore } from '@oddjob/storage-postgres/testing'`).
 * Each store gets a schema of its own, so suites can share one database and run side by side.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '@oddjob/core';
import pg from 'pg';
import { PostgresJobStore } from './store.js';
import type { PostgresStoreOptions } from './options.js';

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
 * Call from a `before` hook of every PostgreSQL suite. Without PostgreSQL the suite is skipped, with
 * a visible reason, on a developer's machine; in CI (env CI set) it fails instead, so a missing
 * database can never pass as green.
 */
export async function requirePostgres(ctx: { skip(): void }): Promise<void> {
  const why = await probe();
  if (why === null) return;
  const message = `PostgreSQL at ${PG_URL} is unreachable (${why})`;
  if (process.env.CI) throw new Error(`${message}; CI is set, so PostgreSQL tests must run`);
  console.warn(`    skipping: ${message}`);
  ctx.skip();
}

/** A schema name no other test (or parallel run) uses. */
export function uniqueSchema(label = 't'): string {
  return `oj_${label.replace(/[^a-z0-9_]/g, '_').slice(0, 20)}_${randomBytes(5).toString('hex')}`;
}

/** Drops a test's schema (and everything in it). */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Opens a store on a fresh schema; `close()` on the result closes it and drops the schema. */
export async function openTestStore(
  options: Partial<PostgresStoreOptions> & { clock?: Clock } = {},
): Promise<{ store: PostgresJobStore; schema: string; close: () => Promise<void> }> {
  const schema = options.schema ?? uniqueSchema();
  const store = await PostgresJobStore.open({
    connection: PG_URL,
    onBackgroundError: () => undefined,
    ...options,
    schema,
  });
  return {
    store,
    schema,
    async close() {
      await store.close();
      await dropSchema(schema);
    },
  };
}
