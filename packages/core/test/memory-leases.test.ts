import { expect } from 'chai';
import { MemoryJobStore } from '../src/index.js';
import { TestClock } from '../src/testing/index.js';

/** The size of the store's lease heap (private; read here to check memory follows running jobs). */
const leaseEntries = (store: MemoryJobStore) => (store as unknown as { leases: { size: number } }).leases.size;

describe('memory store: lease bookkeeping', function () {
  it('keeps lease entries proportional to running jobs, not to throughput x lease length', async function () {
    const clock = new TestClock();
    const store = new MemoryJobStore({ clock });
    const adder = store.adder();
    for (let round = 0; round < 20; round++) {
      await adder.addJobs(Array.from({ length: 500 }, (_, i) => ({ call: { target: 't', method: 'run', args: [i] } })));
      const jobs = await store.claimJobs({ queues: ['default'], limit: 500, owner: 'o', leaseMs: 3_600_000 });
      expect(jobs).to.have.length(500);
      await store.extendLeases(
        jobs.map((j) => ({ jobId: j.id, token: j.lease.token })),
        3_600_000,
      );
      await store.recordOutcomes(jobs.map((j) => ({ kind: 'done', lease: { jobId: j.id, token: j.lease.token } })));
    }
    // 10,000 claims under an hour-long lease, none running now: before, 20,000 entries (claims + extensions) stayed.
    expect(leaseEntries(store)).to.be.at.most(2 * 500 + 1024);
  });

  it('an extended lease still expires at its new time, once', async function () {
    const clock = new TestClock();
    const store = new MemoryJobStore({ clock });
    await store.adder().addJob({ target: 't', method: 'run', args: [] });
    const [job] = await store.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs: 1_000 });
    await store.extendLeases([{ jobId: job.id, token: job.lease.token }], 5_000);
    clock.advance(2_000);
    expect(await store.claimJobs({ queues: ['default'], limit: 1, owner: 'p', leaseMs: 1_000 })).to.have.length(0);
    clock.advance(3_500);
    const again = await store.claimJobs({ queues: ['default'], limit: 5, owner: 'p', leaseMs: 1_000 });
    expect(again.map((j) => j.id)).to.deep.equal([job.id]);
  });
});
