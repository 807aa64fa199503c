import { expect } from 'chai';
import { MemoryJobStore } from '../src/index.js';
import { TestClock } from '../src/testing/index.js';

/** The fields of a JobRecord, in the order the memory store has always written them. */
const RECORD_KEYS = [
  'id',
  'queue',
  'target',
  'method',
  'args',
  'runAt',
  'retry',
  'metadata',
  'uniqueKey',
  'pinnedHost',
  'uniqueScope',
  'priority',
  'after',
  'waitingFor',
  'concurrency',
  'sequence',
  'status',
  'attempts',
  'lastError',
  'lease',
  'progress',
  'progressMessage',
  'result',
  'startedAt',
  'executorId',
  'host',
  'createdAt',
  'updatedAt',
  'finishedAt',
];

describe('memory store: the records it hands out', function () {
  it('are copies: mutating a claimed job, its lease, metadata, error or progress leaves the store as it was', async function () {
    const clock = new TestClock();
    const store = new MemoryJobStore({ clock });
    const id = await store.adder().addJob({ target: 't', method: 'run', args: [1] }, { metadata: { tenant: 'a' } });
    const [first] = await store.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: 60_000 });
    const token = first.lease.token;
    await store.recordOutcomes([
      {
        kind: 'retry',
        lease: { jobId: id, token },
        error: { message: 'boom', name: 'Error' },
        runAt: clock.now(),
      },
    ]);
    const [job] = await store.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: 60_000 });
    await store.reportProgress({ jobId: id, token: job.lease.token }, { done: 1, of: 2 });
    // A deep snapshot: a record sharing anything with the store would change along with it.
    const before = structuredClone(await store.getJob(id));

    job.status = 'done' as never;
    job.lease.token = 'stolen';
    job.lease.owner = 'someone else';
    job.metadata.tenant = 'b';
    job.lastError!.message = 'rewritten';
    job.attempts = 99;
    const seen = (await store.getJob(id))!;
    seen.metadata.tenant = 'c';
    (seen.progress as { done: number }).done = 2;

    expect(await store.getJob(id)).to.deep.equal(before);
    expect((await store.getJob(id))!.progress).to.deep.equal({ done: 1, of: 2 });
    expect((await store.getJob(id))!.metadata).to.deep.equal({ tenant: 'a' });
  });

  it('carry exactly the record fields, in the same order, and nothing of the store bookkeeping', async function () {
    const store = new MemoryJobStore({ clock: new TestClock() });
    const id = await store.adder().addJob({ target: 't', method: 'run', args: [] });
    expect(Object.keys((await store.getJob(id))!)).to.deep.equal(RECORD_KEYS);
    const [claimed] = await store.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: 1_000 });
    expect(Object.keys(claimed)).to.deep.equal(RECORD_KEYS);
    expect(Object.keys(claimed.lease)).to.deep.equal(['owner', 'token', 'expiresAt']);
    expect(Object.keys((await store.listJobs())[0])).to.deep.equal(RECORD_KEYS);
  });
});
