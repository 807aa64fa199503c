import { expect } from 'chai';
import { MemoryJobStore } from '../src/memory/memory-store.js';
import { JobRegistry } from '../src/registry.js';
import { TestClock } from '../src/testing/test-clock.js';

class ReportJob {
  async build(_id: number): Promise<void> {}
}

const claim = (store: MemoryJobStore, queue = 'default') =>
  store.claimJobs({ queues: [queue], limit: 10, owner: 'test', leaseMs: 60_000 });

describe('schedule: runAt and delay', function () {
  let clock: TestClock;
  let store: MemoryJobStore;
  const registry = new JobRegistry().register('report', ReportJob);

  beforeEach(function () {
    clock = new TestClock();
    store = new MemoryJobStore({ clock });
  });
  afterEach(() => store.close());

  it('never claims a job before its runAt, and claims it at runAt exactly', async function () {
    const adder = store.adder({ registry });
    const runAt = new Date(clock.now().getTime() + 5000);
    const id = await adder.addJob(ReportJob, (j) => j.build(1), { runAt });
    expect((await store.getJob(id))!.runAt).to.deep.equal(runAt);
    expect(await claim(store)).to.deep.equal([]);
    clock.advance(4999);
    expect(await claim(store)).to.deep.equal([]);
    clock.advance(1);
    const claimed = await claim(store);
    expect(claimed.map((j) => j.id)).to.deep.equal([id]);
  });

  it('reads delayMs against the injected clock at enqueue time', async function () {
    const adder = store.adder({ registry });
    clock.advance(123_456);
    const enqueuedAt = clock.now().getTime();
    const id = await adder.addJob(
      { target: 'report', method: 'build', args: [2] },
      { delayMs: 60_000, queue: 'reports' },
    );
    expect((await store.getJob(id))!.runAt.getTime()).to.equal(enqueuedAt + 60_000);
    clock.advance(59_999);
    expect(await claim(store, 'reports')).to.deep.equal([]);
    clock.advance(1);
    expect((await claim(store, 'reports')).map((j) => j.id)).to.deep.equal([id]);
  });

  it('claims due jobs in runAt order and leaves the future ones, whatever the enqueue order', async function () {
    const adder = store.adder({ registry });
    const t = clock.now().getTime();
    const late = await adder.addJob(ReportJob, (j) => j.build(3), { runAt: new Date(t + 3000) });
    const early = await adder.addJob(ReportJob, (j) => j.build(4), { runAt: new Date(t + 1000) });
    const future = await adder.addJob(ReportJob, (j) => j.build(5), { runAt: new Date(t + 10_000) });
    clock.advance(3000);
    expect((await claim(store)).map((j) => j.id)).to.deep.equal([early, late]);
    expect(await claim(store)).to.deep.equal([]);
    clock.advance(7000);
    expect((await claim(store)).map((j) => j.id)).to.deep.equal([future]);
  });

  it('runs a job with a runAt in the past (or no runAt) at once', async function () {
    const adder = store.adder({ registry });
    const past = await adder.addJob(ReportJob, (j) => j.build(6), { runAt: new Date(clock.now().getTime() - 60_000) });
    const now = await adder.addJob(ReportJob, (j) => j.build(7));
    expect((await claim(store)).map((j) => j.id)).to.deep.equal([past, now]);
  });
});
