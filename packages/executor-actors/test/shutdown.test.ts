import 'reflect-metadata';
import { expect } from 'chai';
import { JobRegistry, MemoryJobStore, type JobContext } from '@oddjob/core';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, activeTimers, gate, sleep, waitFor } from './helpers.js';

describe('JobExecutorShell: shutdown', () => {
  it('lets running jobs finish, releases the rest at once (attempts not counted), and leaves no timers', async () => {
    await sleep(1); // mocha arms its own test timeout right after calling the test: count it in
    const timersBefore = activeTimers();
    const registry = new JobRegistry();
    const finishing = gate();
    const started: string[] = [];
    class Work {
      async quick(name: string) {
        started.push(name);
        await finishing.promise;
      }
      async hang(name: string, ctx?: JobContext) {
        started.push(name);
        await new Promise<void>((_, reject) =>
          ctx!.signal.addEventListener('abort', () => reject(ctx!.signal.reason as unknown), { once: true }),
        );
      }
    }
    registry.register('work', Work);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    const quick = await adder.addJob(Work, (j) => j.quick('quick'));
    const hang = await adder.addJob(Work, (j) => j.hang('hang'));
    const queued1 = await adder.addJob(Work, (j) => j.quick('queued1'));
    const queued2 = await adder.addJob(Work, (j) => j.quick('queued2'));
    const shell = new JobExecutorShell({ manager: store, registry, logger: new CapturingLogger() });
    shell.handleSignals();
    shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
    await waitFor(() => started.length === 2, 'two started');
    await waitFor(async () => (await store.listJobs({ status: 'processing' })).length === 4, 'four claimed');

    const stopping = shell.shutdown({ timeoutMs: 300 });
    expect(shell.state).to.equal('stopping');
    await sleep(20);
    finishing.open();
    await stopping;
    expect(shell.state).to.equal('stopped');
    expect(started).to.deep.equal(['quick', 'hang']);

    expect((await store.getJob(quick))!.status).to.equal('done');
    for (const id of [hang, queued1, queued2]) {
      const j = (await store.getJob(id))!;
      expect(j.status, id).to.equal('new');
      expect(j.attempts, id).to.equal(0);
    }
    // Claimable at once by another executor: no lease to wait out.
    const again = await store.claimJobs({ queues: ['default'], limit: 10, owner: 'other', leaseMs: 1000 });
    expect(again.map((j) => j.id).sort()).to.deep.equal([hang, queued1, queued2].sort());
    expect(again.every((j) => j.attempts === 1)).to.equal(true);
    expect(process.listenerCount('SIGINT')).to.equal(0);
    await sleep(10);
    expect(activeTimers(), JSON.stringify(process.getActiveResourcesInfo())).to.be.at.most(timersBefore);
  });

  it('shutdown is idempotent and a second queue stop is a no-op', async () => {
    const shell = new JobExecutorShell({
      manager: new MemoryJobStore(),
      registry: new JobRegistry(),
      logger: new CapturingLogger(),
    });
    shell.startJobQueue('a');
    shell.startJobQueue('b');
    await Promise.all([shell.stopJobQueue('a'), shell.stopJobQueue('a')]);
    expect(shell.runningQueues()).to.deep.equal(['b']);
    const first = shell.shutdown();
    expect(shell.shutdown()).to.equal(first);
    await first;
    expect(shell.state).to.equal('stopped');
  });

  it('a stopped queue can be started again', async () => {
    const registry = new JobRegistry();
    class T {
      run() {}
    }
    registry.register('t', T);
    const store = new MemoryJobStore();
    const shell = new JobExecutorShell({ manager: store, registry, logger: new CapturingLogger() });
    try {
      shell.startJobQueue('q', { pulseMs: 10 });
      await shell.stopJobQueue('q');
      shell.startJobQueue('q', { pulseMs: 10 });
      const id = await store.adder({ registry }).addJob(T, (j) => j.run(), { queue: 'q' });
      await waitFor(async () => (await store.getJob(id))!.status === 'done', 'done after restart');
    } finally {
      await shell.shutdown();
    }
  });
});
