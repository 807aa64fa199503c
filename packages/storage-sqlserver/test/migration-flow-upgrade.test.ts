import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Retry } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import {
  connectionFactory,
  MappedStatementRunner,
  MIGRATIONS,
  readSchemaVersion,
  resolveOptions,
  schemaNames,
  SqlServerJobStore,
} from '../src/index.js';
import { migrationRequest } from '../src/migrate.js';
import { migrationBody } from '../src/migrations.js';
import { BASE_JOB_COLUMNS, T, type BuiltStatement } from '../src/statements.js';
import { dropSchema } from '../src/testing.js';

/**
 * Migration 3 -> 4 (jobs that wait) on a store holding version 3 rows: a schema at version 3, jobs
 * and a schedule written as version 3 wrote them, then the store opened (applying 4). Every row must
 * read back with core's defaults (priority 0, scope 'stored', no flow), its unique key still held,
 * and the claim must take the old rows in their old order beside new prioritized ones. Runs when
 * ODDJOB_MSSQL_URL names a server.
 */
const url = process.env.ODDJOB_MSSQL_URL;
const id = (i: number) => `01890a5d-ac96-774b-bcce-${String(i).padStart(12, '0')}`;

function insertV3(schema: string, i: number, status: string, at: Date): BuiltStatement {
  const n = schemaNames(schema);
  return {
    name: 'insertV3Job',
    usesNow: false,
    params: [
      { name: 'id', type: T.id, value: id(i) },
      { name: 'status', type: T.status, value: status },
      { name: 'at', type: T.time, value: at },
      { name: 'retry', type: T.text, value: JSON.stringify(Retry.fixed(3, 0)) },
      { name: 'key', type: T.uniqueKey, value: `v3-key-${i}` },
      { name: 'finished', type: T.time, value: status === 'done' ? at : null },
    ],
    text: `INSERT INTO ${n.jobs} (${BASE_JOB_COLUMNS.join(', ')}, pinned_host) VALUES (@id, N'upgrade', N't', N'run', N'{"json":[]}', @status, @at,
  0, 3, @retry, NULL, NULL, NULL, NULL, NULL, N'{}', @key, @at, @at, @finished, NULL);`,
  };
}

if (url) {
  describe('sqlserver: migration 3 -> 4 keeps version 3 jobs and schedules as they were', function () {
    this.timeout(120_000);
    const clock = new TestClock(new Date(Date.UTC(2030, 0, 1, 12)));
    const schema = `oddjob_upgrade4_${randomBytes(6).toString('hex')}`;
    const past = new Date(clock.now().getTime() - 60_000);
    let store: SqlServerJobStore;

    before(async function () {
      const resolved = resolveOptions({ connection: url, schema, clock });
      const connections = connectionFactory(url, resolved.pool);
      const runner = new MappedStatementRunner(connections, resolved.retry, clock);
      const names = schemaNames(schema);
      try {
        await runner.transaction((tx) => migrationRequest(tx).batch(migrationBody(names, MIGRATIONS.slice(0, 3))));
        expect(await readSchemaVersion(runner, names)).to.equal(3);
        await runner.run(insertV3(schema, 1, 'new', past));
        await runner.run(insertV3(schema, 2, 'done', past));
        await runner.run({
          name: 'insertV3Schedule',
          usesNow: false,
          params: [{ name: 'at', type: T.time, value: past }],
          text: `INSERT INTO ${names.schedules} (name, cron, time_zone, target, method, args, queue, retry, metadata, misfire, paused,
  next_fire_at, last_fire_at, version, created_at, updated_at)
VALUES (N'old', N'* * * * *', N'UTC', N't', N'run', N'{"json":[]}', N'upgrade', N'{"maxAttempts":1,"backoff":{"kind":"fixed","delayMs":0}}',
  N'{}', N'{"kind":"skip"}', 0, @at, NULL, 1, @at, @at);`,
        });
      } finally {
        await connections.close();
      }
      store = await SqlServerJobStore.open({ connection: url, schema, clock });
    });

    after(async function () {
      if (!store) return;
      try {
        await dropSchema(store);
      } finally {
        await store.close();
      }
    });

    it('reads version 3 rows with the defaults, keeps their unique keys held, and claims them in order beside new priorities', async function () {
      for (const i of [1, 2]) {
        expect(await store.getJob(id(i))).to.deep.include({
          priority: 0,
          uniqueScope: 'stored',
          uniqueKey: `v3-key-${i}`,
          after: null,
          waitingFor: null,
          concurrency: null,
          sequence: null,
        });
      }
      const adder = store.adder();
      const call = { target: 't', method: 'run', args: [] };
      // a 'stored' key of a done version 3 job is still held
      expect(await adder.addJob(call, { queue: 'upgrade', uniqueKey: 'v3-key-2' })).to.equal(id(2));
      const urgent = await adder.addJob(call, { queue: 'upgrade', priority: 5 });
      const child = await adder.addJob(call, { queue: 'upgrade', after: [id(2)] }); // a done parent: runs
      const claimed = await store.claimJobs({ queues: ['upgrade'], limit: 10, owner: 'o', leaseMs: 30_000 });
      expect(claimed.map((j) => j.id)).to.deep.equal([urgent, id(1), child]);
      const schedule = (await store.getSchedule('old'))!;
      expect([schedule.priority, schedule.concurrency]).to.deep.equal([0, null]);
    });
  });
} else {
  const reason = 'migration 3 -> 4: sqlserver SKIPPED: ODDJOB_MSSQL_URL is not set (no SQL Server on this machine)';
  console.log(reason);
  describe('sqlserver: migration 3 -> 4 keeps version 3 jobs and schedules as they were', function () {
    it.skip(reason);
  });
}
