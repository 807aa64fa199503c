import { expect } from 'chai';
import pg from 'pg';
import type { PostgresJobQueueAdder, PostgresJobStore } from '../src/index.js';
import { openTestStore, PG_URL, requirePostgres } from './pg-helpers.js';

const call = (n: number) => ({ target: 't', method: 'run', args: [n] });
const claimAll = (store: PostgresJobStore) =>
  store.claimJobs({ queues: ['default'], limit: 100, owner: 'o', leaseMs: 60_000 });

describe('postgres enqueue inside the caller transaction', function () {
  let t: Awaited<ReturnType<typeof openTestStore>>;
  let adder: PostgresJobQueueAdder;
  let pool: pg.Pool;

  before(async function () {
    await requirePostgres(this);
  });
  beforeEach(async function () {
    t = await openTestStore();
    adder = t.store.adder();
    pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    await pool.query(`CREATE TABLE ${pg.escapeIdentifier(t.schema)}.orders (id int PRIMARY KEY)`);
  });
  afterEach(async function () {
    await pool?.end();
    await t?.close();
  });

  it('a rolled-back transaction leaves no job behind', async function () {
    const client = await pool.connect();
    let id: string;
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${pg.escapeIdentifier(t.schema)}.orders VALUES (1)`);
      id = await adder.addJob(call(1), { tx: client });
      // Inside the transaction the job is there...
      const inside = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(t.schema)}.jobs`,
      );
      expect(inside.rows[0].n).to.equal(1);
      // ...and invisible (so unclaimable) to everyone else until commit.
      expect(await claimAll(t.store)).to.have.length(0);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await t.store.getJob(id)).to.equal(null);
    expect(await claimAll(t.store)).to.have.length(0);
  });

  it('a committed transaction makes its jobs claimable, batch included', async function () {
    const client = await pool.connect();
    let ids: string[];
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${pg.escapeIdentifier(t.schema)}.orders VALUES (2)`);
      const one = await adder.addJob(call(1), { tx: client });
      const more = await adder.addJobs([{ call: call(2) }, { call: call(3) }], { tx: client });
      ids = [one, ...more];
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const claimed = await claimAll(t.store);
    expect(claimed.map((j) => j.id)).to.deep.equal(ids);
  });

  it('a failing statement in the transaction surfaces a clear error and the job is not written', async function () {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1/0').catch(() => undefined); // the transaction is now aborted
      let thrown: Error | undefined;
      try {
        await adder.addJob(call(1), { tx: client });
      } catch (err) {
        thrown = err as Error;
      }
      expect(thrown?.name).to.equal('PostgresStoreError');
      expect(thrown?.message).to.contain('insert jobs').and.contain('25P02');
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await t.store.listJobs()).to.have.length(0);
  });
});
