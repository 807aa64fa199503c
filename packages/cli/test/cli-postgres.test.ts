import 'reflect-metadata';
import { JobRegistry, ScheduleManager } from '@oddjob/core';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from '@oddjob/storage-postgres/testing';
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runCli, startCli } from './run-cli.js';
import { registry as fixtureRegistry } from './fixtures/worker-module.js';

describe('oddjob CLI on PostgreSQL (real binary)', function () {
  this.timeout(60_000);
  const schema = uniqueSchema('cli');
  const cli = (...args: string[]) => runCli(args, { ODDJOB_STORE: PG_URL, ODDJOB_SCHEMA: schema });

  before(async function () {
    await requirePostgres(this);
  });
  after(() => dropSchema(schema));

  it('prints the migration SQL without connecting, then applies it', async () => {
    const printed = await runCli([
      '--store',
      'postgres://nobody@127.0.0.1:1/none',
      '--schema',
      schema,
      'migrate',
      '--print',
    ]);
    expect(printed.code, printed.stderr).to.equal(0);
    expect(printed.stdout).to.contain(`CREATE TABLE IF NOT EXISTS "${schema}".migrations`).and.contain('COMMIT;');
    const before = await cli('jobs', 'list');
    expect(before.code).to.equal(1);
    expect(before.stderr).to.match(/^oddjob: error: .+\n$/);
    const applied = await cli('migrate');
    expect(applied.code, applied.stderr).to.equal(0);
    expect(applied.stdout).to.match(new RegExp(`schema ${schema}: version 0 -> \\d+`));
    expect(applied.stderr).to.contain('migrating PostgreSQL');
    expect((await cli('migrate')).stdout).to.match(/is up to date/);
  });

  it('enqueues, lists, cancels and retries by id', async () => {
    const id = (
      await cli(
        'enqueue',
        'cli-fixture',
        'echo',
        '["pg"]',
        '--queue',
        'pg-q',
        '--delay-ms',
        '60000',
        '--unique-key',
        'k1',
      )
    ).stdout.trim();
    expect(
      (await cli('enqueue', 'cli-fixture', 'echo', '["pg"]', '--queue', 'pg-q', '--unique-key', 'k1')).stdout.trim(),
    ).to.equal(id);
    const list = JSON.parse((await cli('jobs', 'list', '--json', '--target', 'cli-fixture')).stdout) as {
      id: string;
      uniqueKey: string;
    }[];
    expect(list.map((j) => j.id)).to.deep.equal([id]);
    expect((await cli('jobs', 'cancel', id)).stdout).to.equal('cancelled 1 of 1 jobs\n');
    const again = await cli('jobs', 'cancel', id);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('not cancelled (unknown or already final)');
    expect((await cli('jobs', 'retry', id)).stdout).to.equal('requeued 1 of 1 jobs\n');
  });

  it('lists, pauses, resumes, triggers and deletes schedules', async () => {
    const store = await PostgresJobStore.open({ connection: PG_URL, schema, migrate: false });
    try {
      const registry: JobRegistry = fixtureRegistry;
      await new ScheduleManager({ store, writer: store, registry }).create(
        'nightly',
        { target: 'cli-fixture', method: 'echo', args: ['night'] },
        { cron: '0 3 * * *', queue: 'pg-q' },
      );
    } finally {
      await store.close();
    }
    const list = await cli('schedules', 'list');
    expect(list.stdout).to.match(/nightly\s+0 3 \* \* \*\s+UTC\s+cli-fixture\.echo\s+pg-q\s+0\s+active/);
    expect((await cli('schedules', 'pause', 'nightly')).stdout).to.equal('nightly: paused\n');
    expect(JSON.parse((await cli('schedules', 'show', 'nightly', '--json')).stdout)).to.include({ paused: true });
    expect((await cli('schedules', 'resume', 'nightly')).stdout).to.match(
      /^nightly: active, next \d{4}-\d\d-\d\dT03:00:00Z\n$/,
    );
    const shown = await cli('schedules', 'show', 'nightly', '--upcoming', '2');
    expect(shown.stdout).to.match(/upcoming\s+\S+T03:00:00Z, \S+T03:00:00Z/);
    const jobId = (await cli('schedules', 'trigger', 'nightly')).stdout.trim();
    const job = JSON.parse((await cli('jobs', 'show', jobId, '--json')).stdout) as { target: string; queue: string };
    expect(job).to.include({ target: 'cli-fixture', queue: 'pg-q' });
    const refused = await cli('schedules', 'delete', 'nightly');
    expect(refused.code).to.equal(1);
    expect((await cli('schedules', 'delete', 'nightly', '--yes')).stdout).to.equal('deleted nightly\n');
    const gone = await cli('schedules', 'show', 'nightly');
    expect(gone.stderr).to.equal('oddjob: error: no schedule "nightly"\n');
  });

  it('prints SQL that, run by hand, makes a schema the store accepts without migrating', async () => {
    const other = uniqueSchema('clisql');
    const printed = await runCli(['--store', PG_URL, '--schema', other, 'migrate', '--print']);
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(printed.stdout); // simple protocol: the whole script, BEGIN to COMMIT
      const id = (
        await runCli(['--store', PG_URL, '--schema', other, 'enqueue', 'cli-fixture', 'echo', '["sql"]'])
      ).stdout.trim();
      expect(id).to.match(/^[0-9a-f-]{36}$/);
      expect((await runCli(['--store', PG_URL, '--schema', other, 'migrate'])).stdout).to.match(/is up to date/);
    } finally {
      await client.end();
      await dropSchema(other);
    }
  });

  it('serves the dashboard for the store, with /metrics, and prints its URL', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/worker-module.js', import.meta.url));
    const d = await startCli(['dashboard', '--port', '0', '--module', fixture], /(http:\/\/127\.0\.0\.1:\d+)\S*/, {
      ODDJOB_STORE: PG_URL,
      ODDJOB_SCHEMA: schema,
    });
    try {
      const base = d.match[1];
      const counts = await (await fetch(`${base}/api/counts?queue=pg-q`)).json();
      expect(JSON.stringify(counts)).to.contain('pg-q');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).to.match(/oddjob_jobs_waiting\{queue="pg-q"\} [1-9]/);
      const posted = await fetch(`${base}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ target: 'cli-fixture', method: 'echo', args: ['web'], queue: 'web-q' }),
      });
      expect(posted.status, await posted.clone().text()).to.be.oneOf([200, 201]);
      const after = await (await fetch(`${base}/metrics`)).text();
      expect(after).to.contain('oddjob_jobs_enqueued_total{queue="web-q",target="cli-fixture"} 1');
    } finally {
      d.child.kill('SIGINT');
    }
    expect(await d.exited).to.equal(0);
  });
});
