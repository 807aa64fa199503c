import { InvalidOptionError, StoreSetupError } from '@oddjob/core';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { LATEST_SCHEMA_VERSION, migrate, PostgresJobStore } from '../src/index.js';
import { MIGRATIONS } from '../src/migrations/index.js';
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from './pg-helpers.js';

async function ledger(pool: pg.Pool, schema: string): Promise<number[]> {
  const { rows } = await pool.query<{ version: number }>(
    `SELECT version FROM ${pg.escapeIdentifier(schema)}.migrations ORDER BY version`,
  );
  return rows.map((r) => r.version);
}

/**
 * Released migrations are append-only: their text is pinned here. A changed checksum means a database
 * that already applied the step would silently differ from a new one: add a migration instead.
 */
const PINNED: Record<number, string> = {
  1: '5d29c296f752d92fba35055843140d63b927ca57695a4ba12f10552fe5da679a',
  2: '3ad2f67f84934a27b890eee32162b8ebf07a2363777bf657c53cd1500880f807',
  3: '3213cce6a9015ffd3c31e52f509bb73496ca55e196c0f7bf82fb78837475dc2b',
  4: 'a077fae9712333fa096be7dd216fbb8a641a1584c422a11d4cecf10fac9b5b9b',
  5: '8ec9f869a7b874be589ae8b4c2fd5a985a7b97c9d874a9107f205ffe2c3dc4ef',
  6: 'b50b13e2acbd7ea6574b7f6f89c9655aefed49ed1d4959aaa23b655aedb1d41d',
};

const checksum = (statements: string[]) => createHash('sha256').update(statements.join('\n;\n')).digest('hex');

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** A database as version `version` of this package left it: its migrator's ledger, then steps 1..version. Returns the quoted schema. */
async function versionSchema(pool: pg.Pool, schema: string, version: number): Promise<string> {
  const q = pg.escapeIdentifier(schema);
  await pool.query(`CREATE SCHEMA ${q}`);
  await pool.query(
    `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  for (const m of MIGRATIONS.slice(0, version)) {
    for (const statement of m.statements(q)) await pool.query(statement);
    await pool.query(`INSERT INTO ${q}.migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
  }
  return q;
}

const version1Schema = (pool: pg.Pool, schema: string) => versionSchema(pool, schema, 1);

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

  it('are append-only: every released migration still has its pinned checksum', function () {
    for (const m of MIGRATIONS) {
      expect(
        PINNED[m.version],
        `migration ${m.version} has no pinned checksum: add it to PINNED when you release it`,
      ).to.be.a('string');
      expect(checksum(m.statements('"s"')), `migration ${m.version} was edited; add a new migration instead`).to.equal(
        PINNED[m.version],
      );
    }
  });

  it('creates the schema and records each version once; running again changes nothing', async function () {
    expect(await migrate(pool, schema)).to.deep.equal({ from: 0, to: LATEST_SCHEMA_VERSION });
    expect(await migrate(pool, schema)).to.deep.equal({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
    expect(await ledger(pool, schema)).to.deep.equal(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    const { rows } = await pool.query<{ jobs: string | null; schedules: string | null }>(
      `SELECT to_regclass($1) AS jobs, to_regclass($2) AS schedules`,
      [`${schema}.jobs`, `${schema}.schedules`],
    );
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
    await pool.query(
      `INSERT INTO ${pg.escapeIdentifier(schema)}.migrations (version, name) VALUES ($1, 'from the future')`,
      [LATEST_SCHEMA_VERSION + 1],
    );
    const err = await rejection(migrate(pool, schema));
    expect(err).to.be.instanceOf(StoreSetupError);
    expect(err.message)
      .to.contain(`version ${LATEST_SCHEMA_VERSION + 1}`)
      .and.contain('upgrade');
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
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).to.equal(1);
  });

  it('upgrades a version 1 schema with jobs in every state: none lost, expired leases still reclaimed', async function () {
    const q = await version1Schema(pool, schema);
    const job = (
      id: string,
      status: string,
      lease: string | null,
      finished: string | null,
      runAt = "now() - interval '1 hour'",
    ) =>
      pool.query(
        `INSERT INTO ${q}.jobs (id, queue, target, method, args, status, run_at, attempts, max_attempts, retry, metadata,
                                lease_owner, lease_token, lease_expires_at, created_at, updated_at, finished_at)
         VALUES ($1, 'default', 't', 'run', '{"json":[]}', $2, ${runAt}, 1, 3, '{"maxAttempts":3,"backoff":{"kind":"fixed","delayMs":0}}',
                 '{}', ${lease === null ? 'NULL, NULL, NULL' : `'old-owner', 'old-token', ${lease}`}, now(), now(), ${finished ?? 'NULL'})`,
        [id, status],
      );
    const ids = {
      waiting: '01890a5d-ac96-774b-bcce-000000000001',
      expired: '01890a5d-ac96-774b-bcce-000000000002',
      running: '01890a5d-ac96-774b-bcce-000000000003',
      done: '01890a5d-ac96-774b-bcce-000000000004',
      later: '01890a5d-ac96-774b-bcce-000000000005',
    };
    await job(ids.waiting, 'new', null, null);
    await job(ids.expired, 'processing', "now() - interval '1 minute'", null);
    await job(ids.running, 'processing', "now() + interval '1 hour'", null);
    await job(ids.done, 'done', null, 'now()');
    await job(ids.later, 'new', null, null, "now() + interval '1 hour'");

    const store = await PostgresJobStore.open({ connection: pool, schema, notify: false });
    try {
      expect(await ledger(pool, schema)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      const claimed = await store.claimJobs({ queues: ['default'], limit: 10, owner: 'new-owner', leaseMs: 60_000 });
      expect(claimed.map((j) => j.id).sort()).to.deep.equal([ids.waiting, ids.expired].sort());
      expect(claimed.find((j) => j.id === ids.expired)!.attempts).to.equal(2);
      expect((await store.getJob(ids.running))!.lease!.owner).to.equal('old-owner');
      expect((await store.getJob(ids.done))!.status).to.equal('done');
      expect((await store.getJob(ids.later))!.status).to.equal('new');
      const { rows } = await pool.query<{ indexes: string[]; options: string[] }>(
        `SELECT array(SELECT indexname::text FROM pg_indexes WHERE schemaname = $1 AND tablename = 'jobs' ORDER BY 1) AS indexes,
                (SELECT reloptions FROM pg_class WHERE oid = to_regclass($2)) AS options`,
        [schema, `${q}.jobs`],
      );
      expect(rows[0].indexes).to.deep.equal([
        'jobs_finished',
        'jobs_keys',
        'jobs_open_list',
        'jobs_pkey',
        'jobs_ready',
        'jobs_ready_priority',
        'jobs_sequence',
        'jobs_sequence_run',
        'jobs_unique_key',
      ]);
      expect(rows[0].options).to.include('fillfactor=40');
    } finally {
      await store.close();
    }
  });

  it('upgrades a version 2 schema with jobs in every state: none lost, all readable, the waiting and expired ones claimable', async function () {
    const q = await versionSchema(pool, schema, 2);
    const retry = '{"maxAttempts":3,"backoff":{"kind":"fixed","delayMs":0}}';
    const ids = {
      new: '01890a5d-ac96-774b-bcce-000000000011',
      retry: '01890a5d-ac96-774b-bcce-000000000012',
      running: '01890a5d-ac96-774b-bcce-000000000013',
      expired: '01890a5d-ac96-774b-bcce-000000000014',
      spent: '01890a5d-ac96-774b-bcce-000000000015',
      done: '01890a5d-ac96-774b-bcce-000000000016',
      failed: '01890a5d-ac96-774b-bcce-000000000017',
      cancelled: '01890a5d-ac96-774b-bcce-000000000018',
    };
    // One row per status as version 2 wrote them: leases only while processing, finished_at only when final.
    const job = (
      id: string,
      status: string,
      attempts: number,
      maxAttempts: number,
      lease: string | null,
      finished: boolean,
      lastError: string | null = null,
    ) =>
      pool.query(
        `INSERT INTO ${q}.jobs (id, queue, target, method, args, status, run_at, attempts, max_attempts, retry, metadata, last_error,
                                progress, lease_owner, lease_token, lease_expires_at, created_at, updated_at, finished_at)
         VALUES ($1, 'default', 't', 'run', '{"json":[1]}', $2, now() - interval '1 hour', $3, $4, $5, '{"origin":"v2"}', $6::jsonb,
                 ${status === 'processing' ? '\'{"done":1}\'' : 'NULL'},
                 ${lease === null ? 'NULL, NULL, NULL' : `'old-owner', 'old-token', ${lease}`}, now(), now(), ${finished ? 'now()' : 'NULL'})`,
        [id, status, attempts, maxAttempts, retry, lastError],
      );
    await job(ids.new, 'new', 0, 3, null, false);
    await job(ids.retry, 'retry', 1, 3, null, false, '{"name":"Error","message":"first try"}');
    await job(ids.running, 'processing', 1, 3, "now() + interval '1 hour'", false);
    await job(ids.expired, 'processing', 1, 3, "now() - interval '1 minute'", false);
    await job(ids.spent, 'processing', 3, 3, "now() - interval '1 minute'", false);
    await job(ids.done, 'done', 1, 3, null, true);
    await job(ids.failed, 'failed', 3, 3, null, true, '{"name":"Error","message":"no"}');
    await job(ids.cancelled, 'cancelled', 0, 3, null, true);
    const before = new Map(
      (await pool.query<{ id: string; status: string }>(`SELECT id, status FROM ${q}.jobs`)).rows.map((r) => [
        r.id,
        r.status,
      ]),
    );

    const store = await PostgresJobStore.open({ connection: pool, schema, notify: false });
    try {
      expect(await ledger(pool, schema)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      for (const [name, id] of Object.entries(ids)) {
        const record = (await store.getJob(id, { runs: true }))!;
        expect(record, name).to.not.equal(null);
        expect(record.status, name).to.equal(before.get(id));
        expect(record.metadata, name).to.deep.equal({ origin: 'v2' });
        expect(record.args, name).to.equal('{"json":[1]}');
        expect(
          [record.progressMessage, record.result, record.startedAt, record.executorId, record.host, record.pinnedHost],
          name,
        ).to.deep.equal([null, null, null, null, null, null]);
        // No attempt of a version 2 row says where it ran, so none is derived (core's runs.ts).
        expect(record.runs, name).to.deep.equal([]);
        // Migration 5's columns read as a job without flow options.
        expect(
          [record.priority, record.uniqueScope, record.after, record.waitingFor, record.concurrency, record.sequence],
          name,
        ).to.deep.equal([0, 'stored', null, null, null, null]);
        expect(await store.listLogs(id), name).to.deep.equal([]);
      }
      const { rows: flags } = await pool.query<{ waited: boolean }>(`SELECT DISTINCT waited FROM ${q}.jobs`);
      expect(flags).to.deep.equal([{ waited: false }]);

      const claimed = await store.claimJobs({
        queues: ['default'],
        limit: 10,
        owner: 'new-owner',
        leaseMs: 60_000,
        host: 'box',
      });
      expect(claimed.map((j) => j.id).sort()).to.deep.equal([ids.new, ids.retry, ids.expired].sort());
      expect(claimed.find((j) => j.id === ids.expired)!.attempts).to.equal(2);
      expect(claimed.find((j) => j.id === ids.retry)!.lastError).to.deep.equal({ name: 'Error', message: 'first try' });
      // The spent job was failed by that claim as before; its lost attempt had no start to record.
      const spent = (await store.getJob(ids.spent))!;
      expect(spent.status).to.equal('failed');
      expect(spent.lastError!.name).to.equal('LeaseExpiredError');
      expect(await store.listRuns(ids.spent)).to.deep.equal([]);
      expect((await store.getJob(ids.running))!.lease!.owner).to.equal('old-owner');

      // The upgraded jobs run with history from here on.
      const results = await store.recordOutcomes(
        claimed.map((j) => ({
          kind: 'done' as const,
          lease: { jobId: j.id, token: j.lease.token },
          result: '{"json":7}',
        })),
      );
      expect(results).to.deep.equal(['ok', 'ok', 'ok']);
      const done = (await store.getJob(ids.expired, { runs: true }))!;
      expect(done.result).to.equal('{"json":7}');
      expect(done.runs!.map((r) => [r.attempt, r.state, r.executorId, r.host])).to.deep.equal([
        [2, 'done', 'new-owner', 'box'],
      ]);
      expect(await store.cancelJob(ids.running)).to.equal(true);
      expect(await store.requeueJob(ids.done)).to.equal(true);
      expect((await store.waitForJob(ids.failed, { timeoutMs: 5_000 })).status).to.equal('failed');
    } finally {
      await store.close();
    }
  });

  it('upgrades a version 5 schema: lists its unfinished jobs by status exactly, in and across queues, with jobs_open_list in place', async function () {
    const q = await versionSchema(pool, schema, 5);
    const retry = '{"maxAttempts":3,"backoff":{"kind":"fixed","delayMs":0}}';
    // Status by position, two queues; ids in creation order. Rows as version 5 wrote them.
    const statuses = ['waiting', 'new', 'processing', 'retry', 'done', 'failed', 'cancelled'];
    const rows = Array.from({ length: 28 }, (_, i) => ({
      id: `01890a5d-ac96-774b-bcce-${String(i + 1).padStart(12, '0')}`,
      status: statuses[i % 7],
      queue: i % 2 === 0 ? 'a' : 'b',
    }));
    for (const r of rows) {
      const processing = r.status === 'processing';
      const final = ['done', 'failed', 'cancelled'].includes(r.status);
      await pool.query(
        `INSERT INTO ${q}.jobs (id, queue, target, method, args, status, run_at, attempts, max_attempts, retry, metadata,
                                lease_owner, lease_token, lease_expires_at, created_at, updated_at, finished_at, waiting_for)
         VALUES ($1, $2, 't', 'run', '{"json":[]}', $3, now(), 1, 3, $4, '{}',
                 ${processing ? "'o', 'k', now() + interval '1 hour'" : 'NULL, NULL, NULL'}, now(), now(),
                 ${final ? 'now()' : 'NULL'}, ${r.status === 'waiting' ? "'parents'" : 'NULL'})`,
        [r.id, r.queue, r.status, retry],
      );
    }
    const store = await PostgresJobStore.open({ connection: pool, schema, notify: false });
    try {
      expect(await ledger(pool, schema)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      const ids = (pick: (r: (typeof rows)[number]) => boolean) => rows.filter(pick).map((r) => r.id);
      const listed = async (filter: Parameters<typeof store.listJobs>[0]) =>
        (await store.listJobs(filter)).map((j) => j.id);
      for (const status of ['waiting', 'new', 'processing', 'retry'] as const) {
        expect(await listed({ status: [status] }), status).to.deep.equal(ids((r) => r.status === status));
        expect(await listed({ status: [status], queue: 'b' }), `${status} in b`).to.deep.equal(
          ids((r) => r.status === status && r.queue === 'b'),
        );
      }
      const open = ['new', 'retry', 'processing', 'waiting'] as const;
      const all = ids((r) => (open as readonly string[]).includes(r.status));
      // Pages of 3 across both queues, by cursor and by offset, in id order.
      expect(await listed({ status: [...open], limit: 3 })).to.deep.equal(all.slice(0, 3));
      expect(await listed({ status: [...open], limit: 3, afterId: all[2] })).to.deep.equal(all.slice(3, 6));
      expect(await listed({ status: [...open], limit: 3, offset: 4 })).to.deep.equal(all.slice(4, 7));
      const inB = ids((r) => (open as readonly string[]).includes(r.status) && r.queue === 'b');
      expect(await listed({ status: [...open], queue: 'b', limit: 3, afterId: inB[1] })).to.deep.equal(inB.slice(2, 5));
      expect(await listed({ status: [...open], queue: 'b', limit: 2, offset: 3 })).to.deep.equal(inB.slice(3, 5));
      expect(await listed({ status: [...open], queue: 'b', target: 't' })).to.deep.equal(inB);
      expect(await listed({ status: [...open], queue: 'b', target: 'other' })).to.deep.equal([]);
      expect(await listed({ status: ['new'], queue: 'none' })).to.deep.equal([]);
      expect(await listed({ status: [...open], target: 'other' })).to.deep.equal([]);
      // A filter that mixes in a final status still walks every job.
      expect(await listed({ status: ['new', 'done'], queue: 'a' })).to.deep.equal(
        ids((r) => (r.status === 'new' || r.status === 'done') && r.queue === 'a'),
      );
      const { rows: plan } = await pool.query<{ indexdef: string }>(
        `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'jobs_open_list'`,
        [schema],
      );
      expect(plan.map((r) => r.indexdef.replace(/^.* USING /, ''))).to.deep.equal([
        'btree (id, queue) WHERE (finished_at IS NULL)',
      ]);
    } finally {
      await store.close();
    }
  });

  it('refuses to upgrade a version 1 schema holding a final job without finished_at, and changes nothing', async function () {
    // Version 2 trusts `finished_at IS NULL` to mean "not final"; a row breaking that would be claimed again.
    const q = await version1Schema(pool, schema);
    await pool.query(
      `INSERT INTO ${q}.jobs (id, queue, target, method, args, status, run_at, max_attempts, retry, metadata, created_at, updated_at)
       VALUES ('01890a5d-ac96-774b-bcce-000000000009', 'default', 't', 'run', '{"json":[]}', 'done', now(), 1, '{}', '{}', now(), now())`,
    );
    const err = await rejection(migrate(pool, schema));
    expect(err.message).to.contain('jobs_finished_only_when_final');
    expect(await ledger(pool, schema)).to.deep.equal([1]);
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
