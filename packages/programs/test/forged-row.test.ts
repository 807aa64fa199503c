import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { JobRegistry, Retry, serializeArgs, type JobLogger } from '@oddjob/core';
import { JobExecutorShell } from '@oddjob/executor-actors';
import { openTestStore, PG_URL, requirePostgres } from '@oddjob/storage-postgres/testing';
import { programJob, registerPrograms } from '../src/index.js';
import { tempDir, waitFor } from './helpers.js';

const quiet: JobLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('programs: a forged PostgreSQL row cannot choose what runs', function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof openTestStore>> | undefined;
  before(async function () {
    await requirePostgres(this);
    db = await openTestStore();
  });
  after(async () => db?.close());

  it('rows naming an executable path or an unknown entry, written with SQL, fail with ProgramRefusedError and spawn nothing', async () => {
    const { store, schema } = db!;
    const dir = tempDir();
    const marker = join(dir, 'pwned');
    const registry = new JobRegistry();
    registerPrograms(registry, { hello: { executable: '/bin/echo' } });
    // A legitimate job first, so the forged rows copy a row the store itself wrote.
    const legit = await store
      .adder({ registry })
      .addJob(programJob('hello'), { queue: 'programs', retry: Retry.fixed(5, 10) });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const forged: string[] = [];
    try {
      for (const args of [
        ['/bin/sh', ['-c', `touch ${marker}`], {}],
        ['sh', ['-c', `touch ${marker}`], {}],
        ['hello', [`; touch ${marker}`], {}],
      ]) {
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO ${pg.escapeIdentifier(schema)}.jobs
                  (id, queue, target, method, args, status, run_at, attempts, max_attempts, retry, metadata, created_at, updated_at)
             SELECT gen_random_uuid(), queue, target, method, $2, status, run_at, attempts, max_attempts, retry, metadata, created_at, updated_at
             FROM ${pg.escapeIdentifier(schema)}.jobs WHERE id = $1 RETURNING id`,
          [legit, serializeArgs(args)],
        );
        forged.push(rows[0].id);
      }
    } finally {
      await client.end();
    }
    const shell = new JobExecutorShell({ manager: store, registry, logger: quiet });
    shell.startJobQueue('programs', { workers: 2, pulseMs: 20 });
    try {
      const all = [legit, ...forged];
      await waitFor(async () => {
        const rows = await Promise.all(all.map((id) => store.getJob(id)));
        return rows.every((r) => r?.status === 'done' || r?.status === 'failed');
      }, 'every job to finish');
      expect((await store.getJob(legit))!.status).to.equal('done');
      for (const id of forged) {
        const job = (await store.getJob(id))!;
        expect(job).to.include({ status: 'failed', attempts: 1 });
        expect(job.lastError).to.include({ name: 'ProgramRefusedError' });
      }
      expect((await store.getJob(forged[0]))!.lastError!.message).to.match(/never an executable path/);
      expect((await store.getJob(forged[1]))!.lastError!.message).to.match(/no such entry/);
      expect((await store.getJob(forged[2]))!.lastError!.message).to.match(/at most 0/);
      expect(existsSync(marker)).to.equal(false);
    } finally {
      await shell.shutdown({ timeoutMs: 2000 });
    }
  });
});
