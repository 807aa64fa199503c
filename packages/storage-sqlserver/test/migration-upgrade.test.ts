import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Retry, type JobStatus } from '@oddjob/core';
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
import { LATEST_VERSION, migrationBody } from '../src/migrations.js';
import { BASE_JOB_COLUMNS, T, type BuiltStatement } from '../src/statements.js';
import { dropSchema } from '../src/testing.js';

/**
 * Migration 1 -> 2 on a store that holds jobs in every state: creates a schema at version 1 only,
 * writes jobs the way version 1 stored them, opens the store (which applies versions 2 and 3) and checks
 * every job reads back unchanged with the new columns null, and that each can still go on: claimed,
 * taken over, finished, cancelled, requeued, purged. Runs when ODDJOB_MSSQL_URL names a server.
 */
const url = process.env.ODDJOB_MSSQL_URL;

interface V1Job {
  id: string;
  status: JobStatus;
  attempts: number;
  lease: { owner: string; token: string; expiresAt: Date } | null;
  lastError: string | null;
  progress: string | null;
  finishedAt: Date | null;
}

/** A job row as version 1 wrote it: BASE_JOB_COLUMNS are the columns migration 1 created. */
function insertV1(schema: string, j: V1Job, at: Date): BuiltStatement {
  const n = schemaNames(schema);
  return {
    name: 'insertV1Job',
    usesNow: false,
    params: [
      { name: 'id', type: T.id, value: j.id },
      { name: 'args', type: T.text, value: `{"json":[${JSON.stringify(j.status)}]}` },
      { name: 'status', type: T.status, value: j.status },
      { name: 'at', type: T.time, value: at },
      { name: 'attempts', type: T.int, value: j.attempts },
      { name: 'retry', type: T.text, value: JSON.stringify(Retry.fixed(3, 0)) },
      { name: 'err', type: T.text, value: j.lastError },
      { name: 'owner', type: T.name, value: j.lease?.owner ?? null },
      { name: 'token', type: T.token, value: j.lease?.token ?? null },
      { name: 'expires', type: T.time, value: j.lease?.expiresAt ?? null },
      { name: 'progress', type: T.text, value: j.progress },
      { name: 'finished', type: T.time, value: j.finishedAt },
      { name: 'key', type: T.uniqueKey, value: `key-${j.status}-${j.id.slice(-4)}` },
    ],
    text: `INSERT INTO ${n.jobs} (${BASE_JOB_COLUMNS.join(', ')}) VALUES (@id, N'upgrade', N't', N'run', @args, @status, @at, @attempts, 3, @retry, @err,
  @owner, @token, @expires, @progress, N'{"tenant":"acme"}', @key, @at, @at, @finished);`,
  };
}

if (url) {
  describe('sqlserver: migration 1 -> 2 keeps jobs in every state', function () {
    this.timeout(120_000);
    const clock = new TestClock(new Date(Date.UTC(2030, 0, 1, 12)));
    const schema = `oddjob_upgrade_${randomBytes(6).toString('hex')}`;
    const id = (i: number) => `01890a5d-ac96-774b-bcce-${String(i).padStart(12, '0')}`;
    const past = new Date(clock.now().getTime() - 60_000);
    const jobs: V1Job[] = [
      { id: id(1), status: 'new', attempts: 0, lease: null, lastError: null, progress: null, finishedAt: null },
      {
        id: id(2),
        status: 'processing',
        attempts: 1,
        lease: {
          owner: 'alive',
          token: '6f9619ff-8b86-d011-b42d-00c04fc96401',
          expiresAt: new Date(clock.now().getTime() + 600_000),
        },
        lastError: null,
        progress: '40',
        finishedAt: null,
      },
      {
        id: id(3),
        status: 'processing',
        attempts: 1,
        lease: { owner: 'died', token: '6f9619ff-8b86-d011-b42d-00c04fc96402', expiresAt: past },
        lastError: null,
        progress: '{"done":1}',
        finishedAt: null,
      },
      {
        id: id(4),
        status: 'retry',
        attempts: 1,
        lease: null,
        lastError: '{"name":"Error","message":"first try"}',
        progress: null,
        finishedAt: null,
      },
      { id: id(5), status: 'done', attempts: 1, lease: null, lastError: null, progress: '100', finishedAt: past },
      {
        id: id(6),
        status: 'failed',
        attempts: 3,
        lease: null,
        lastError: '{"name":"Error","message":"gave up"}',
        progress: null,
        finishedAt: past,
      },
      { id: id(7), status: 'cancelled', attempts: 0, lease: null, lastError: null, progress: null, finishedAt: past },
    ];
    let store: SqlServerJobStore;

    before(async function () {
      const resolved = resolveOptions({ connection: url, schema, clock });
      const connections = connectionFactory(url, resolved.pool);
      const runner = new MappedStatementRunner(connections, resolved.retry, clock);
      const names = schemaNames(schema);
      try {
        await runner.transaction((tx) => migrationRequest(tx).batch(migrationBody(names, MIGRATIONS.slice(0, 1))));
        expect(await readSchemaVersion(runner, names)).to.equal(1);
        for (const j of jobs) await runner.run(insertV1(schema, j, past));
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

    it('is at the latest version and every job reads back as version 1 wrote it, the new columns null', async function () {
      expect(await readSchemaVersion(store.context.runner, store.names)).to.equal(LATEST_VERSION);
      for (const j of jobs) {
        const got = (await store.getJob(j.id, { runs: true }))!;
        expect(got, j.status).to.not.equal(null);
        expect(got).to.include({
          status: j.status,
          attempts: j.attempts,
          queue: 'upgrade',
          args: `{"json":[${JSON.stringify(j.status)}]}`,
        });
        expect(got).to.include({
          startedAt: null,
          executorId: null,
          host: null,
          result: null,
          progressMessage: null,
          pinnedHost: null,
        });
        // migration 4's columns read as core's defaults: what the row meant before
        expect(got).to.deep.include({
          priority: 0,
          uniqueScope: 'stored',
          after: null,
          waitingFor: null,
          concurrency: null,
          sequence: null,
        });
        expect(got.metadata).to.deep.equal({ tenant: 'acme' });
        expect(got.lastError).to.deep.equal(j.lastError === null ? null : JSON.parse(j.lastError));
        expect(got.progress).to.deep.equal(j.progress === null ? null : JSON.parse(j.progress));
        expect(got.lease?.token ?? null).to.equal(j.lease?.token ?? null);
        expect(got.finishedAt?.getTime() ?? null).to.equal(j.finishedAt?.getTime() ?? null);
        // no run was ever started under version 2: nothing to derive, nothing stored
        expect(got.runs, j.status).to.deep.equal([]);
        expect(await store.listLogs(j.id)).to.deep.equal([]);
      }
      const counts = await store.countJobs({ queue: 'upgrade' });
      expect(counts.map((c) => c.status).sort()).to.deep.equal([
        'cancelled',
        'done',
        'failed',
        'new',
        'processing',
        'retry',
      ]);
    });

    it('claims the waiting jobs and the expired lease (no lost run recorded for an attempt version 1 started), not the live one', async function () {
      const claimed = await store.claimJobs({
        queues: ['upgrade'],
        limit: 10,
        owner: 'after-upgrade',
        leaseMs: 30_000,
        host: 'box-b',
      });
      expect(claimed.map((j) => j.id).sort()).to.deep.equal([id(1), id(3), id(4)]);
      for (const j of claimed) {
        expect(j).to.include({ executorId: 'after-upgrade', host: 'box-b', progress: null, progressMessage: null });
        expect(j.startedAt!.getTime()).to.equal(clock.now().getTime());
      }
      const runs = await store.listRuns(id(3));
      expect(runs.map((r) => [r.state, r.executorId])).to.deep.equal([['running', 'after-upgrade']]);
      const lines = [{ at: clock.now(), level: 'info' as const, message: 'after the upgrade' }];
      const outcomes = await store.recordOutcomes(
        claimed.map((j) => ({
          kind: 'done' as const,
          lease: { jobId: j.id, token: j.lease.token },
          result: '{"json":"ok"}',
          logs: lines,
        })),
      );
      expect(outcomes).to.deep.equal(['ok', 'ok', 'ok']);
      expect((await store.getJob(id(1)))!.result).to.equal('{"json":"ok"}');
      expect((await store.listLogs(id(1))).map((l) => [l.attempt, l.message])).to.deep.equal([
        [1, 'after the upgrade'],
      ]);
    });

    it('cancels the job a version 1 executor still runs, and requeues the final ones', async function () {
      expect(await store.cancelJob(id(2))).to.equal(true);
      expect(await store.listRuns(id(2))).to.deep.equal([]); // its attempt started before version 2: no executor to name
      for (const final of [id(5), id(6), id(7)]) expect(await store.requeueJob(final), final).to.equal(true);
      expect(await store.listRuns(id(5))).to.deep.equal([]);
      const again = await store.claimJobs({ queues: ['upgrade'], limit: 10, owner: 'second', leaseMs: 30_000 });
      expect(again.map((j) => j.id).sort()).to.deep.equal([id(5), id(6), id(7)]);
    });

    it('purges with runs and logs (the cascade the new tables carry)', async function () {
      expect((await store.getJob(id(1)))!.status).to.equal('done');
      expect(await store.listLogs(id(1))).to.have.length(1);
      clock.advance(1_000);
      expect(await store.purgeJobs({ statuses: ['done'], queue: 'upgrade' })).to.equal(3); // jobs 1, 3 and 4
      expect(await store.getJob(id(1))).to.equal(null);
      expect(await store.listLogs(id(1))).to.deep.equal([]);
    });
  });
} else {
  const reason = 'migration 1 -> 2: sqlserver SKIPPED: ODDJOB_MSSQL_URL is not set (no SQL Server on this machine)';
  console.log(reason);
  describe('sqlserver: migration 1 -> 2 keeps jobs in every state', function () {
    it.skip(reason);
  });
}
