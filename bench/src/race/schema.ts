/**
 * Each contender races in its own schema, dropped before (leftovers of an
 * aborted run must not slow it down or be counted) and after (the race leaves
 * the shared test database as it found it).
 */
import pg from 'pg';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export class InvalidSchemaNameError extends Error {
  override name = 'InvalidSchemaNameError';
  constructor(schema: string) {
    super(`Schema name "${schema}" must match ${IDENTIFIER} (it is spliced into DROP SCHEMA)`);
  }
}

export async function dropSchema(connectionString: string, schema: string): Promise<void> {
  if (!IDENTIFIER.test(schema)) throw new InvalidSchemaNameError(schema);
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** One short-lived query on a dedicated client: used for the "all done?" checks at phase ends. */
export async function queryCount(client: pg.Client, sql: string, values: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: string }>(sql, values);
  return Number(rows[0]?.n ?? 0);
}
