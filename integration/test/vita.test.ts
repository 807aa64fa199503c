import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { JobAbortError, JobRegistry, Retry, jobContext } from '@oddjob/core';
import { ImmediateRunner, JobExecutorShell, JobPersistedError, silentLogger } from '@oddjob/executor-actors';
import { openTestStore } from '@oddjob/storage-postgres/testing';
import { PG_URL, requirePostgres, uniqueSchema } from './pg.js';
import { waitFor } from './wait.js';
import { ambient, reportRuns, vitaRegistry } from './fixtures/vita-jobs.js';

const run = promisify(execFile);
const ENQUEUE_JS = fileURLToPath(new URL('./fixtures/vita-enqueue.js', import.meta.url));

describe('VITA scenarios on PostgreSQL', () => {
  before(async function () {
    await requirePostgres(this);
  });

  it('the email example: a failed first attempt is stored, retried on schedule by an executor, and the mail is sent once', async () => {
    const db = await openTestStore({ schema: uniqueSchema('vita_mail') });
    const registry = new JobRegistry();
    const sent: string[] = [];
    let down = true;
    class Confirmation {
      send(to: string) {
        if (to === 'nobody') throw new JobAbortError('no such address');
        if (down) {
          down = false;
          throw new Error('mail service unavailable');
        }
        sent.push(`${to}#${jobContext().attempt}`);
      }
    }
    registry.register('vita-confirmation', Confirmation);
    const runner = new ImmediateRunner({ store: db.store, registry, logger: silentLogger });
    const shell = new JobExecutorShell({ store: db.store, registry, logger: silentLogger });
    try {
      const err = await runner
        .executeWithRetries(Confirmation, (c) => c.send('ada@x'), { queue: 'mail', retry: Retry.list([200, 60_000]) })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(JobPersistedError);
      const { jobId, stored } = err as JobPersistedError;
      expect(stored).to.equal('retry');
      const rec = (await db.store.getJob(jobId, { runs: true }))!;
      expect(rec).to.include({ status: 'retry', attempts: 1, queue: 'mail' });
      expect(rec.lastError!.message).to.equal('mail service unavailable');
      expect(rec.runs!.map((r) => [r.attempt, r.state])).to.deep.equal([[1, 'retry']]);
      expect(sent).to.deep.equal([]);

      const aborted = (await runner
        .executeWithRetries(Confirmation, (c) => c.send('nobody'), { queue: 'mail' })
        .catch((e: unknown) => e)) as JobPersistedError;
      const failed = (await db.store.getJob(aborted.jobId))!;
      expect([failed.status, failed.lastError?.name]).to.deep.equal(['failed', 'JobAbortError']);

      shell.startJobQueue('mail', { workers: 2, pulseMs: 20 });
      await waitFor('the stored job to be done', async () => (await db.store.getJob(jobId))?.status === 'done', {
        timeoutMs: 20_000,
      });
      expect(sent).to.deep.equal(['ada@x#2']);
      expect((await db.store.getJob(aborted.jobId))!.status).to.equal('failed');
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
      await db.close();
    }
  });

  it('a job enqueued by another process runs, and is retried, as the user who enqueued it', async () => {
    const db = await openTestStore({ schema: uniqueSchema('vita_user') });
    const shell = new JobExecutorShell({ store: db.store, registry: vitaRegistry, ambient, logger: silentLogger });
    try {
      const { stdout } = await run(process.execPath, [ENQUEUE_JS, PG_URL, db.schema, 'user-7'], { timeout: 20_000 });
      const id = stdout.trim();
      shell.startJobQueue('reports', { workers: 1, pulseMs: 20 });
      await waitFor('the report to be done', async () => (await db.store.getJob(id))?.status === 'done', {
        timeoutMs: 20_000,
      });
      expect(reportRuns.map((r) => [r.attempt, r.user])).to.deep.equal([
        [1, 'user-7'],
        [2, 'user-7'],
      ]);
      expect((reportRuns[1].ambient as { userId: string }).userId).to.equal('user-7');
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
      await db.close();
    }
  });
});
