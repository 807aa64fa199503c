import 'reflect-metadata';
import { ScheduleManager } from '@oddjob/core';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { PG_URL, requirePostgres } from '@oddjob/storage-postgres/testing';
import { expect } from 'chai';
import pg from 'pg';
import { runCli } from './run-cli.js';
import { registry } from './fixtures/worker-module.js';

/** Two databases on the test server, one per tenant; the pid keeps parallel runs apart. */
const NAMES = { a: `oddjob_tenant_a_${process.pid}`, b: `oddjob_tenant_b_${process.pid}` };
const urlOf = (db: string): string => {
  const u = new URL(PG_URL);
  u.pathname = `/${db}`;
  return u.toString();
};

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

interface Listed {
  tenant?: string;
  id: string;
  status: string;
  name?: string;
  paused?: boolean;
}

describe('oddjob CLI with two PostgreSQL databases as tenants (real binary)', function () {
  this.timeout(120_000);
  const urls = { a: urlOf(NAMES.a), b: urlOf(NAMES.b) };
  const env = () => ({ ODDJOB_TENANTS: `a=${urls.a},b=${urls.b}` });
  const cli = (...args: string[]) => runCli(args, env());
  const json = async (...args: string[]): Promise<Listed[]> => {
    const r = await cli(...args, '--json');
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as Listed[];
  };
  let created = false;

  before(async function () {
    await requirePostgres(this);
    for (const db of Object.values(NAMES)) await onServer(`CREATE DATABASE ${pg.escapeIdentifier(db)}`);
    created = true;
  });
  after(async () => {
    if (!created) return;
    for (const db of Object.values(NAMES))
      await onServer(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
  });

  it('migrates every tenant, then lists across them and changes one only with --tenant', async () => {
    const m = await cli('migrate');
    expect(m.code, m.stderr).to.equal(0);
    expect(m.stdout).to.match(
      /^tenant a: schema oddjob: version 0 -> \d+\ntenant b: schema oddjob: version 0 -> \d+\n$/,
    );
    const ids: Record<string, string> = {};
    for (const t of ['a', 'b']) {
      const r = await cli('--tenant', t, 'enqueue', 'cli-fixture', 'echo', `["${t}"]`, '--queue', 'pg-tq');
      expect(r.code, r.stderr).to.equal(0);
      ids[t] = r.stdout.trim();
    }
    const table = await cli('jobs', 'list');
    expect(table.stdout.split('\n')[0]).to.match(/^TENANT\s+ID\s+QUEUE/);
    expect(table.stdout)
      .to.match(new RegExp(`\\na\\s+${ids.a}\\s`))
      .and.match(new RegExp(`\\nb\\s+${ids.b}\\s`));
    expect((await json('jobs', 'list')).map((j) => [j.tenant, j.id])).to.deep.equal([
      ['a', ids.a],
      ['b', ids.b],
    ]);
    const refused = await cli('jobs', 'cancel', ids.b);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.equal(
      'oddjob: error: jobs cancel works on one store: with tenants a, b, pass --tenant NAME\n',
    );
    expect((await cli('--tenant', 'b', 'jobs', 'cancel', ids.b)).stdout).to.equal('cancelled 1 of 1 jobs\n');
    expect((await json('jobs', 'list')).map((j) => [j.tenant, j.status])).to.deep.equal([
      ['a', 'new'],
      ['b', 'cancelled'],
    ]);
    // The JSON form of ODDJOB_TENANTS, and --tenant reading one database.
    const one = await runCli(['--tenant', 'a', 'jobs', 'show', ids.a, '--json'], {
      ODDJOB_TENANTS: JSON.stringify(urls),
    });
    expect(one.code, one.stderr).to.equal(0);
    expect(JSON.parse(one.stdout)).to.include({ id: ids.a, status: 'new' }).and.not.have.property('tenant');
  });

  it('names the tenant whose database is missing', async () => {
    const r = await runCli(['--store', `a=${urls.a}`, '--store', `b=${urlOf(`${NAMES.b}_missing`)}`, 'jobs', 'list']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^oddjob: error: tenant b: .*does not exist.*\n$/);
  });

  it('lists and shows a schedule of the same name in each tenant, and pauses it in one', async () => {
    for (const url of [urls.a, urls.b]) {
      const store = await PostgresJobStore.open({ connection: url, migrate: false });
      try {
        await new ScheduleManager({ store, writer: store, registry }).create(
          'nightly',
          { target: 'cli-fixture', method: 'echo', args: ['night'] },
          { cron: '0 3 * * *', queue: 'pg-tq' },
        );
      } finally {
        await store.close();
      }
    }
    const list = await cli('schedules', 'list');
    expect(list.stdout).to.match(/^TENANT\s+NAME\s+CRON/);
    expect(list.stdout)
      .to.match(/\na\s+nightly\s+0 3/)
      .and.match(/\nb\s+nightly\s+0 3/);
    expect((await cli('--tenant', 'a', 'schedules', 'pause', 'nightly')).stdout).to.equal('nightly: paused\n');
    expect((await json('schedules', 'show', 'nightly')).map((s) => [s.tenant, s.name, s.paused])).to.deep.equal([
      ['a', 'nightly', true],
      ['b', 'nightly', false],
    ]);
    const shown = await cli('schedules', 'show', 'nightly');
    expect(shown.stdout)
      .to.match(/^tenant\s+a\nname\s+nightly\n/)
      .and.match(/\n\ntenant\s+b\nname\s+nightly\n/);
    const gone = await cli('schedules', 'show', 'weekly');
    expect(gone.stderr).to.equal('oddjob: error: no schedule "weekly"\n');
    expect(await json('executors')).to.deep.equal([]);
  });
});
