/**
 * `npm run bench -- dashboard`: fills a fresh PostgreSQL schema with DASH_JOBS (default 1,000,000)
 * jobs in mixed states by one INSERT ... SELECT over generate_series (after the store migrated it),
 * then times every list, count and detail endpoint of the dashboard through Fastify's inject (no
 * socket: the figure is the route, the store query and serialization), DASH_SAMPLES times each.
 */
import { JobQueueAdder, JobRegistry, ScheduleManager } from '@oddjob/core';
import { buildDashboard } from '@oddjob/dashboard';
import { openTestStore } from '@oddjob/storage-postgres/testing';
import pg from 'pg';

class Bench {
  async run(n: number): Promise<number> {
    return n;
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function main(): Promise<void> {
  const total = Number(process.env.DASH_JOBS ?? 1_000_000);
  const samples = Number(process.env.DASH_SAMPLES ?? 30);
  const registry = new JobRegistry().register('bench', Bench);
  const t = await openTestStore({ schema: `oj_dashbench_${process.pid}` });
  const client = new pg.Client({
    connectionString: process.env.ODDJOB_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  });
  await client.connect();
  try {
    const adder = new JobQueueAdder(t.store, { registry });
    await adder.addJob({ target: 'bench', method: 'run', args: [1] }, { metadata: { tenant: 't1' } });
    const q = `"${t.schema}"`;
    const started = Date.now();
    // Status by i % 20: 12 done, 3 failed, 2 new, 1 retry, 2 cancelled; 10 queues; ids time-ordered like UUIDv7.
    await client.query(
      `
      INSERT INTO ${q}.jobs (id, queue, target, method, args, status, run_at, attempts, max_attempts, retry, last_error, metadata, created_at, updated_at, finished_at)
      SELECT (lpad(to_hex(1700000000000 + i), 12, '0') || '7000' || '8000' || lpad(to_hex(i), 12, '0'))::uuid,
             'q' || (i % 10), 'bench', 'run', tpl.args,
             st, now() - interval '1 day' + i * interval '1 ms', CASE WHEN st = 'new' THEN 0 ELSE 1 END, tpl.max_attempts, tpl.retry,
             CASE WHEN st IN ('failed', 'retry') THEN jsonb_build_object('name', 'Error', 'message', 'boom ' || i, 'stack', 'Error: boom\n    at bench') END,
             tpl.metadata, now() - interval '1 day' + i * interval '1 ms', now(),
             CASE WHEN st IN ('done', 'failed', 'cancelled') THEN now() - interval '1 day' + i * interval '1 ms' END
      FROM generate_series(1, $1::int) AS i
      CROSS JOIN LATERAL (SELECT CASE WHEN i % 20 < 12 THEN 'done' WHEN i % 20 < 15 THEN 'failed' WHEN i % 20 < 17 THEN 'new' WHEN i % 20 < 18 THEN 'retry' ELSE 'cancelled' END AS st) s
      CROSS JOIN (SELECT * FROM ${q}.jobs LIMIT 1) tpl`,
      [total],
    );
    await client.query(`ANALYZE ${q}.jobs`);
    console.log(`filled ${total.toLocaleString()} jobs in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const schedules = new ScheduleManager({ store: t.store, writer: t.store, registry });
    for (let i = 0; i < 20; i++)
      await schedules.create(`s${i}`, { target: 'bench', method: 'run', args: [i] }, { cron: '*/5 * * * *' });
    const app = await buildDashboard({ admin: t.store, adder, schedules, registry, logger: false, throughput: false });
    const some = (
      await client.query<{ id: string }>(
        `SELECT id FROM ${q}.jobs WHERE status = 'failed' ORDER BY id OFFSET $1 LIMIT 1`,
        [Math.floor(total / 40)],
      )
    ).rows[0].id;
    const deep = (await app.inject({ url: '/api/jobs?limit=50' })).json<{ next: string }>().next;
    // A cursor half way through the table, as a user paging far would hold.
    const mid = (
      await client.query<{ id: string }>(`SELECT id FROM ${q}.jobs ORDER BY id OFFSET $1 LIMIT 1`, [
        Math.floor(total / 2),
      ])
    ).rows[0].id;
    const midCursor = Buffer.from(JSON.stringify([mid])).toString('base64url');
    const endpoints: Array<[string, string]> = [
      ['list, first page', '/api/jobs?limit=50'],
      ['list, second page (cursor)', `/api/jobs?limit=50&cursor=${deep}`],
      ['list, page at the middle (cursor)', `/api/jobs?limit=50&cursor=${midCursor}`],
      ['list, status=failed', '/api/jobs?limit=50&status=failed'],
      ['list, status=failed, page at the middle', `/api/jobs?limit=50&status=failed&cursor=${midCursor}`],
      ['list, queue=q3', '/api/jobs?limit=50&queue=q3'],
      ['list, status=failed&queue=q3', '/api/jobs?limit=50&status=failed&queue=q3'],
      [
        'list, status=failed&queue=q3, page at the middle',
        `/api/jobs?limit=50&status=failed&queue=q3&cursor=${midCursor}`,
      ],
      // A status no filled row has (1 row): the list walks the key to the end to fill a page.
      ['list, status=processing (rare)', '/api/jobs?limit=50&status=processing'],
      ['list, status=retry&queue=q3 (no match)', '/api/jobs?limit=50&status=retry&queue=q3'],
      ['list, text (bounded scan)', '/api/jobs?limit=50&text=zzzz-not-there'],
      ['detail', `/api/jobs/${some}`],
      // Through the route a count this expensive is reused for 20 times its cost (counts-cache.ts);
      // the store read every reader after a change waits for is timed on its own below.
      ['counts', '/api/counts'],
      ['counts, queue=q3', '/api/counts?queue=q3'],
      ['schedules (20)', '/api/schedules'],
    ];
    console.log(`\n| endpoint | p50 ms | p95 ms | samples |\n| --- | ---: | ---: | ---: |`);
    // `samples` timed calls after two that warm plans and caches; one table row.
    const row = async (name: string, call: () => Promise<void>): Promise<void> => {
      const times: number[] = [];
      for (let i = 0; i < samples + 2; i++) {
        const t0 = performance.now();
        await call();
        if (i >= 2) times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      console.log(`| ${name} | ${pct(times, 50).toFixed(1)} | ${pct(times, 95).toFixed(1)} | ${times.length} |`);
    };
    for (const [name, url] of endpoints)
      await row(name, async () => {
        const r = await app.inject({ url });
        if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
      });
    await row('counts, the store read behind them (after a change)', async () => {
      await t.store.countJobs();
    });
    await app.close();
  } finally {
    await client.end();
    await t.close();
  }
}
