import { expect } from 'chai';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { PostgresJobStore } from '../src/index.js';
import { buildStatements } from '../src/sql/index.js';
import { dropSchema, openTestStore, PG_URL, requirePostgres, uniqueSchema } from './pg-helpers.js';

// What migration 5 promises beyond core's contract: the claim stays HOT and cheap with priorities
// and keys, waiting jobs are never walked, and flow jobs enqueue inside the caller's transaction.

const call = (n: number) => ({ target: 't', method: 'run', args: [n] });
const LEASE = 60_000;

/** The jobs table's update counters, once the writing backends have reported them. */
async function updateCounts(client: pg.Client, schema: string, atLeast: number) {
  let counts = { updated: 0, hot: 0 };
  for (let waited = 0; counts.updated < atLeast && waited < 10_000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    const { rows } = await client.query<{ updated: string; hot: string }>(
      `SELECT n_tup_upd AS updated, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'jobs'`,
      [schema],
    );
    counts = { updated: Number(rows[0]?.updated ?? 0), hot: Number(rows[0]?.hot ?? 0) };
  }
  return counts;
}

describe('postgres flow storage', function () {
  before(async function () {
    await requirePostgres(this);
  });

  it('claims prioritized, keyed and released jobs with HOT updates only', async function () {
    const schema = uniqueSchema('hotflow');
    const open = () =>
      PostgresJobStore.open({ connection: { connectionString: PG_URL, max: 1 }, schema, notify: false });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const jobs = 200;
    try {
      let store = await open();
      const adder = store.adder();
      const parent = await adder.addJob(call(0), { priority: 32767 });
      await adder.addJobs(
        Array.from({ length: jobs }, (_, i) => ({
          call: call(i),
          options:
            i % 4 === 0
              ? { priority: (i % 7) - 3 }
              : i % 4 === 1
                ? { concurrencyKey: `k${i % 3}`, concurrencyLimit: 1000 }
                : i % 4 === 2
                  ? { after: [parent], uniqueKey: `u${i}` }
                  : { uniqueKey: `s${i}`, uniqueScope: 'unfinished' as const },
        })),
      );
      const [p] = await store.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: LEASE });
      expect(p.id).to.equal(parent);
      await store.recordOutcomes([{ kind: 'done', lease: { jobId: p.id, token: p.lease.token } }]);
      await store.close(); // reports the inserts' and releases' updates
      const before = await updateCounts(client, schema, 1);
      store = await open();
      for (let got = 0; got < jobs;) {
        got += (await store.claimJobs({ queues: ['default'], limit: 60, owner: 'o', leaseMs: LEASE })).length;
      }
      await store.close();
      const after = await updateCounts(client, schema, before.updated + jobs);
      expect({ updated: after.updated - before.updated, hot: after.hot - before.hot }).to.deep.equal({
        updated: jobs,
        hot: jobs,
      });
    } finally {
      await client.end();
      await dropSchema(schema);
    }
  });

  it('a claim walks none of the jobs waiting on a key or on parents', async function () {
    const t = await openTestStore();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const adder = t.store.adder();
      const parent = await adder.addJob(call(0), { concurrencyKey: 'busy' });
      await adder.addJobs(
        Array.from({ length: 2000 }, (_, i) => ({ call: call(i), options: { concurrencyKey: 'busy' } })),
      );
      await adder.addJobs(Array.from({ length: 2000 }, (_, i) => ({ call: call(i), options: { after: [parent] } })));
      const plain = await adder.addJob(call(1));
      await client.query(`ANALYZE ${pg.escapeIdentifier(t.schema)}.jobs`);
      const { text } = buildStatements(t.schema).claim;
      await client.query('BEGIN');
      const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`,
        [null, ['default'], 10, 'o', LEASE, 'a', 'b', 'n', randomUUID(), null, 'x', 'y', 1_800_000, false],
      );
      await client.query('ROLLBACK');
      const scans = indexScans(rows[0]['QUERY PLAN'][0].Plan);
      const visited = scans.reduce((n, s) => n + s['Actual Rows'] + (s['Rows Removed by Filter'] ?? 0), 0);
      // Positive priorities, then 0, then negative ones (the claim came back short, so all three ran).
      expect(scans.map((s) => s['Index Name']).sort()).to.deep.equal([
        'jobs_ready',
        'jobs_ready_priority',
        'jobs_ready_priority',
      ]);
      expect(visited).to.equal(2); // the key's holder and the plain job, nothing else
      expect((await t.store.getJob(plain))!.status).to.equal('new');
    } finally {
      await client.end();
      await t.close();
    }
  });

  it("a child and a keyed job added in the caller's transaction appear, decided, only at commit", async function () {
    const t = await openTestStore();
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    try {
      const adder = t.store.adder();
      const parent = await adder.addJob(call(0));
      const holder = await adder.addJob(call(1), { concurrencyKey: 'tx' });
      const client = await pool.connect();
      let child: string;
      let second: string;
      try {
        await client.query('BEGIN');
        child = await adder.addJob(call(2), { after: [parent], tx: client });
        second = await adder.addJob(call(3), { concurrencyKey: 'tx', tx: client });
        expect(await t.store.getJob(child)).to.equal(null);
        await client.query('ROLLBACK');
        await client.query('BEGIN');
        child = await adder.addJob(call(2), { after: [parent], tx: client });
        second = await adder.addJob(call(3), { concurrencyKey: 'tx', tx: client });
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      expect([(await t.store.getJob(child))!.waitingFor, (await t.store.getJob(second))!.waitingFor]).to.deep.equal([
        'parents',
        'slot',
      ]);
      const claimed = await t.store.claimJobs({ queues: ['default'], limit: 10, owner: 'o', leaseMs: LEASE });
      expect(claimed.map((j) => j.id).sort()).to.deep.equal([parent, holder].sort());
      const results = await t.store.recordOutcomes(
        claimed.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
      );
      expect(results).to.deep.equal(['ok', 'ok']);
      expect([(await t.store.getJob(child))!.status, (await t.store.getJob(second))!.status]).to.deep.equal([
        'new',
        'new',
      ]);
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(t.schema)}.job_deps WHERE outcome IS NULL`,
      );
      expect(rows[0].n).to.equal(0);
    } finally {
      await pool.end();
      await t.close();
    }
  });

  it('purging a child deletes its dependency rows', async function () {
    const t = await openTestStore();
    try {
      const adder = t.store.adder();
      const parent = await adder.addJob(call(0));
      const child = await adder.addJob(call(1), { after: [parent] });
      expect(await t.store.cancelJob(parent)).to.equal(true);
      expect((await t.store.getJob(child))!.status).to.equal('cancelled');
      expect(await t.store.purgeJobs({ statuses: ['cancelled'] })).to.equal(2);
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(t.schema)}.job_deps`,
        );
        expect(rows[0].n).to.equal(0);
      } finally {
        await client.end();
      }
    } finally {
      await t.close();
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** The index scans of the plan that ran (never-executed ones have no loops). */
function indexScans(node: PlanNode): PlanNode[] {
  const own = node['Node Type'] === 'Index Scan' && (node['Actual Loops'] ?? 0) > 0 ? [node] : [];
  return [...own, ...(node.Plans ?? []).flatMap(indexScans)];
}
