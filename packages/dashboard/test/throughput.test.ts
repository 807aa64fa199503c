import { expect } from 'chai';
import { MemoryJobStore } from '@oddjob/core';
import { ThroughputSampler } from '../src/throughput.js';

const call = (n: number) => ({ target: 't', method: 'run', args: [n] });

describe('dashboard: the throughput sampler', function () {
  it('gives per interval the jobs that turned done and failed, and the queued, waiting and processing counts at each sample', async function () {
    const store = new MemoryJobStore();
    const sampler = new ThroughputSampler(store, 1_000, 10);
    const add = store.adder();
    const first = await add.addJob(call(1));
    await add.addJob(call(2), { after: [first] });
    await add.addJob(call(3));
    await sampler.sample(new Date(1_000));
    const [a, b] = await store.claimJobs({ queues: ['default'], limit: 2, owner: 'o', leaseMs: 60_000 });
    await store.recordOutcomes([
      { kind: 'done', lease: { jobId: a.id, token: a.lease.token } },
      { kind: 'failed', lease: { jobId: b.id, token: b.lease.token }, error: { name: 'E', message: 'no' } },
    ]);
    const open = await add.addJob(call(5));
    await add.addJob(call(6), { after: [open] });
    await sampler.sample(new Date(2_000));
    // One done and one failed since the first sample; the first job's end released its child, which
    // is queued beside the new parent, whose own child waits.
    expect(sampler.points()).to.deep.equal([
      { at: new Date(2_000).toISOString(), done: 1, failed: 1, queued: 2, waiting: 1, processing: 0 },
    ]);
    await store.adder().addJob(call(4), { after: [first] });
    await store.purgeJobs({ statuses: ['done'] });
    await sampler.sample(new Date(3_000));
    // A purge between samples shows as no work, not as negative work.
    expect(sampler.points()[1]).to.deep.equal({
      at: new Date(3_000).toISOString(),
      done: 0,
      failed: 0,
      queued: 3,
      waiting: 1,
      processing: 0,
    });
  });
});
