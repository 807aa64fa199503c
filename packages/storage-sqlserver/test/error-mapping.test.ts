import { expect } from 'chai';
import sql from 'mssql';
import { StorageOperationError, StorageUnavailableError } from '@oddjob/core';
import { schemaNames } from '../src/identifiers.js';
import { SqlServerJobQueueManager } from '../src/manager.js';
import { MappedStatementRunner } from '../src/mapped-runner.js';
import type { IJobQueueDbConnectionFactory } from '../src/connection.js';

/** A pool whose every query fails with `err`, the way mssql hands a server error over. */
function failingFactory(err: Error): IJobQueueDbConnectionFactory & { queries: number } {
  const factory = {
    queries: 0,
    async getPool() {
      return {
        request: () => ({
          input() {},
          query: async () => {
            factory.queries++;
            throw err;
          },
        }),
      } as unknown as sql.ConnectionPool;
    },
    async close() {},
  };
  return factory;
}

function requestError(number: number): Error {
  const original = Object.assign(new Error(`server error ${number}`), { number, code: 'EREQUEST' });
  return Object.assign(new sql.RequestError(original, 'EREQUEST'), { number });
}

const claim = { queues: ['q'], limit: 5, owner: 'test', leaseMs: 30_000 };
const fast = { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 };

/** What a claim throws through a manager on `factory` (three attempts, no back-off); undefined if it resolves. */
function claimError(factory: IJobQueueDbConnectionFactory): Promise<unknown> {
  const manager = new SqlServerJobQueueManager({
    names: schemaNames('oddjob'),
    runner: new MappedStatementRunner(factory, fast, undefined),
  });
  return manager.claimJobs(claim).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('sqlserver: no raw driver error leaves the store (server-free)', function () {
  it('a permanent error from the claim (invalid object 208) surfaces at once as StorageOperationError', async function () {
    const factory = failingFactory(requestError(208));
    const thrown = await claimError(factory);
    expect(thrown).to.be.instanceOf(StorageOperationError);
    expect((thrown as StorageOperationError).transient).to.equal(false);
    expect((thrown as Error).message).to.contain('error 208');
    expect(factory.queries, 'a permanent error is not retried').to.equal(1);
  });

  it('a deadlock that outlives the retries surfaces as StorageUnavailableError', async function () {
    const factory = failingFactory(requestError(1205));
    const thrown = await claimError(factory);
    expect(thrown).to.be.instanceOf(StorageUnavailableError);
    expect(factory.queries).to.equal(3);
  });
});
