import 'reflect-metadata';
import { expect } from 'chai';
import { InvalidOptionError, JobRegistry, MemoryJobStore, type JobRun } from '@oddjob/core';
import { JobExecutorShell, type QueueOptions } from '../src/index.js';
import { CapturingLogger } from './helpers.js';

class Work {
  run(n: number) {
    return n;
  }
}

const MINUTE = 60_000;

/**
 * Host affinity through the executor: each shell claims for its `host`, so jobs pinned to a host run
 * there, and a job pinned to another host runs here only once overdue past the queue's
 * takeoverAfterMs, its run saying so. The store's half (the claim rule) is the contract suite's.
 */
describe('JobExecutorShell: host affinity', () => {
  let store: MemoryJobStore;
  let registry: JobRegistry;
  const shells: JobExecutorShell[] = [];

  beforeEach(() => {
    store = new MemoryJobStore();
    registry = new JobRegistry();
    registry.register('work', Work);
  });
  afterEach(async () => {
    await Promise.all(shells.splice(0).map((s) => s.shutdown({ timeoutMs: 1000 })));
  });

  const start = (host: string, options: QueueOptions = {}) => {
    const shell = new JobExecutorShell({ store, registry, host, logger: new CapturingLogger() });
    shells.push(shell);
    shell.startJobQueue('default', { workers: 2, pulseMs: 10, sweepMs: 20, leaseMs: 1000, ...options });
    return shell;
  };
  const add = (n: number, options: { pinnedHost?: string | null; runAt?: Date } = {}) =>
    store.adder({ registry }).addJob(Work, (w) => w.run(n), options);
  const runsOf = async (id: string): Promise<JobRun[]> => (await store.getJob(id, { runs: true }))!.runs!;

  it('two shells on different hosts each run only the jobs pinned to theirs', async () => {
    const pinned = { 'host-a': [] as string[], 'host-b': [] as string[] };
    for (let i = 0; i < 10; i++) {
      pinned['host-a'].push(await add(i, { pinnedHost: 'host-a' }));
      pinned['host-b'].push(await add(i, { pinnedHost: 'host-b' }));
    }
    start('host-a');
    start('host-b');
    for (const [host, ids] of Object.entries(pinned)) {
      for (const id of ids) {
        expect((await store.waitForJob(id, { timeoutMs: 20_000 })).status).to.equal('done');
        const runs = await runsOf(id);
        expect(runs.map((r) => [r.host, r.takeover])).to.deep.equal([[host, null]]);
      }
    }
  });

  it('passes over a job pinned elsewhere until it is overdue, then takes it over and records it', async () => {
    const elsewhere = await add(1, { pinnedHost: 'host-a' });
    const overdue = await add(2, { pinnedHost: 'host-a', runAt: new Date(Date.now() - 31 * MINUTE) });
    const open = await add(3);
    start('host-b');
    expect((await store.waitForJob(open, { timeoutMs: 20_000 })).status).to.equal('done');
    expect((await store.waitForJob(overdue, { timeoutMs: 20_000 })).status).to.equal('done');
    expect((await runsOf(overdue)).map((r) => [r.host, r.takeover])).to.deep.equal([
      ['host-b', { pinnedHost: 'host-a' }],
    ]);
    // Due before the unpinned job, so a claim that got to that one passed over this one.
    expect((await store.getJob(elsewhere))!.status).to.equal('new');
  });

  it('takes over after the queue takeoverAfterMs', async () => {
    const id = await add(1, { pinnedHost: 'host-a', runAt: new Date(Date.now() - 2 * MINUTE) });
    start('host-b', { takeoverAfterMs: MINUTE });
    expect((await store.waitForJob(id, { timeoutMs: 20_000 })).status).to.equal('done');
    expect((await runsOf(id))[0].takeover).to.deep.equal({ pinnedHost: 'host-a' });
  });

  it('refuses a bad host or takeoverAfterMs, naming it', () => {
    expect(() => new JobExecutorShell({ store, registry, host: '' })).to.throw(InvalidOptionError, /"host"/);
    const shell = start('host-a');
    for (const takeoverAfterMs of [-1, 1.5, 2 ** 31]) {
      expect(() => shell.startJobQueue('other', { takeoverAfterMs })).to.throw(InvalidOptionError, /takeoverAfterMs/);
    }
  });
});
