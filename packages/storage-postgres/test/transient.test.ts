import { expect } from 'chai';
import pg from 'pg';
import { StorageOperationError, StorageUnavailableError } from '@oddjob/core';
import { DatabaseUnavailableError, isTransientError, PostgresJobStore, PostgresStoreError } from '../src/index.js';
import { openTestStore, requirePostgres } from './pg-helpers.js';

function pgError(code: string, message = 'x'): Error {
  return Object.assign(new Error(message), { code });
}

describe('postgres transient error classification', function () {
  it('retries serialization failures, deadlocks, shutdowns and lost connections', function () {
    for (const code of ['40001', '40P01', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300']) {
      expect(isTransientError(pgError(code)), code).to.equal(true);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']) {
      expect(isTransientError(pgError(code)), code).to.equal(true);
    }
    expect(isTransientError(new Error('Connection terminated unexpectedly'))).to.equal(true);
    expect(isTransientError(new Error('timeout exceeded when trying to connect'))).to.equal(true);
  });

  it('does not retry errors that would fail the same way again', function () {
    for (const code of ['23505', '23514', '42P01', '42601', '22P02', '25P02', '28P01', '3D000']) {
      expect(isTransientError(pgError(code)), code).to.equal(false);
    }
    expect(isTransientError(new Error('something else'))).to.equal(false);
    expect(isTransientError('Connection terminated')).to.equal(false);
    expect(isTransientError(undefined)).to.equal(false);
  });
});

describe('postgres errors reaching the caller', function () {
  before(async function () {
    await requirePostgres(this);
  });

  it('a database that cannot be reached makes the store retry, then fail with DatabaseUnavailableError', async function () {
    let thrown: unknown;
    const started = Date.now();
    try {
      // Port 1 on loopback refuses at once: every try is a real ECONNREFUSED.
      await PostgresJobStore.open({
        connection: 'postgres://postgres@127.0.0.1:1/test',
        schema: 'oj_unreachable',
        transientRetry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 40 },
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(DatabaseUnavailableError);
    // ...which is core's transient storage failure, so callers need not know the driver.
    expect(thrown).to.be.instanceOf(StorageUnavailableError);
    expect((thrown as StorageUnavailableError).provider).to.equal('postgres');
    expect((thrown as Error).message)
      .to.contain('after 4 tries')
      .and.contain('ECONNREFUSED');
    // It waited between tries (3 backoffs of at least 10 ms each) rather than failing at once.
    expect(Date.now() - started).to.be.at.least(30);
  });

  it('a missing table surfaces at once, naming the operation and saying how to fix it', async function () {
    const t = await openTestStore({ transientRetry: { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 1000 } });
    try {
      await t.store.pool.query(`DROP TABLE ${pg.escapeIdentifier(t.schema)}.jobs`);
      let thrown: unknown;
      try {
        await t.store.listJobs();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.be.instanceOf(PostgresStoreError);
      expect(thrown).to.be.instanceOf(StorageOperationError); // permanent: not an outage
      expect((thrown as StorageOperationError).transient).to.equal(false);
      expect((thrown as PostgresStoreError).sqlState).to.equal('42P01');
      expect((thrown as Error).message)
        .to.contain('list jobs')
        .and.contain('migrate');
    } finally {
      await t.close();
    }
  });

  it('bad input is refused before it reaches the database, naming the option', async function () {
    const t = await openTestStore();
    try {
      const claim = (req: object) => t.store.claimJobs({ queues: ['q'], limit: 1, owner: 'o', leaseMs: 1000, ...req });
      for (const [req, option] of [
        [{ limit: 1.5 }, 'limit'],
        [{ owner: '' }, 'owner'],
        [{ leaseMs: Number.NaN }, 'leaseMs'],
        [{ queues: 'q' }, 'queues'],
      ] as const) {
        let thrown: unknown;
        try {
          await claim(req);
        } catch (err) {
          thrown = err;
        }
        expect((thrown as Error).name, option).to.equal('InvalidOptionError');
        expect((thrown as Error).message).to.contain(option);
      }
      let thrown: unknown;
      try {
        await t.store.adder().addJob({ target: 't', method: 'run', args: [] }, { metadata: { bad: 'a\u0000b' } });
      } catch (err) {
        thrown = err;
      }
      expect((thrown as Error).name).to.equal('JobArgumentError');
      expect((thrown as Error).message)
        .to.contain('metadata')
        .and.contain('U+0000');
    } finally {
      await t.close();
    }
  });
});
