import { InvalidOptionError, StoreSetupError } from '@oddjob/core';
import { expect } from 'chai';
import pg from 'pg';
import { LATEST_SCHEMA_VERSION, migrate, PostgresJobStore } from '../src/index.js';
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from './pg-helpers.js';

async function ledger(pool: pg.Pool, schema: string): Promise<number[]> {
  const { rows } = await pool.query<{ version: number }>(`SELECT version FROM ${pg.escapeIdentifier(schema)}.migrations ORDER BY version`);
  return rows.map((r) => r.version);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('postgres migrations', function () {
  let pool: pg.Pool;
  let schema: string;

  before(async function () {
    await requirePostgres(this);
  });
  beforeEach(function () {
    pool = new pg.Pool({ connectionString: PG_URL, max: 10 });
    schema = uniqueSchema('mig');
  });
  afterEach(async function () {
    await pool?.end();
    if (schema) await dropSchema(schema);
  });

  it('creates the schema and records each version once; running again changes nothing', async function () {
    expect(await migrate(pool, schema)).to.deep.equal({ from: 0, to: LATEST_SCHEMA_VERSION });
    expect(await migrate(pool, schema)).to.deep.equal({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
    expect(await ledger(pool, schema)).to.deep.equal(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    const { rows } = await pool.query(`SELECT to_regclass($1) AS jobs, to_regclass($2) AS schedules`, [
      `${schema}.jobs`,
      `${schema}.schedules`,
    ]);
    expect(rows[0].jobs).to.not.equal(null);
    expect(rows[0].schedules).to.not.equal(null);
  });

  it('lets concurrent migrators queue on the advisory lock: one applies, the rest find nothing to do', async function () {
    // Separate pools, as separate processes would have.
    const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: PG_URL, max: 1 }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, schema)));
      expect(results.filter((r) => r.from === 0)).to.have.length(1);
      expect(results.filter((r) => r.from === LATEST_SCHEMA_VERSION)).to.have.length(5);
      expect(await ledger(pool, schema)).to.deep.equal(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('refuses a schema newer than the code, and leaves it untouched', async function () {
    await migrate(pool, schema);
    await pool.query(`INSERT INTO ${pg.escapeIdentifier(schema)}.migrations (version, name) VALUES ($1, 'from the future')`, [
      LATEST_SCHEMA_VERSION + 1,
    ]);
    const err = await rejection(migrate(pool, schema));
    expect(err).to.be.instanceOf(StoreSetupError);
    expect(err.message).to.contain(`version ${LATEST_SCHEMA_VERSION + 1}`).and.contain('upgrade');
    const viaOpen = await rejection(PostgresJobStore.open({ connection: pool, schema }));
    expect(viaOpen).to.be.instanceOf(StoreSetupError);
    const checking = await rejection(PostgresJobStore.open({ connection: pool, schema, migrate: false }));
    expect(checking).to.be.instanceOf(StoreSetupError);
    expect(await ledger(pool, schema)).to.have.length(LATEST_SCHEMA_VERSION + 1);
  });

  it('with migrate: false, refuses a schema that was never migrated and accepts a current one', async function () {
    const err = await rejection(PostgresJobStore.open({ connection: pool, schema, migrate: false }));
    expect(err).to.be.instanceOf(StoreSetupError);
    expect(err.message).to.contain('migrate');
    await migrate(pool, schema);
    const store = await PostgresJobStore.open({ connection: pool, schema, migrate: false });
    await store.close();
    // The pool was passed in, so it is still ours and still usable.
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).to.equal(1);
  });

  it('rejects a schema name that is not a plain identifier, naming the option', async function () {
    for (const bad of ['', 'Upper', 'has space', 'x;drop table y', '1abc', 'pg_catalog', 'a'.repeat(49)]) {
      const err = await rejection(PostgresJobStore.open({ connection: pool, schema: bad }));
      expect(err, bad).to.be.instanceOf(InvalidOptionError);
      expect(err.message).to.contain('schema');
    }
    schema = '';
  });
});
