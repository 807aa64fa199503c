import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobRegistry, MemoryJobStore, Retry } from '@oddjob/core';
import { FileJobStore } from '@oddjob/storage-fs';
import { JobExecutorShell } from '../src/index.js';
import { CpuJob, WhereJob, registry as sandboxRegistry } from './fixtures/sandbox-jobs.js';
import { CapturingLogger } from './helpers.js';
import { Ordinary, SANDBOX_MODULE as MODULE, finalRecord } from './sandbox-helpers.js';

describe('sandboxed jobs: file store, per-target switch, DI and crashes', function () {
  this.timeout(60_000);
  let shell: JobExecutorShell | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 2000 });
    shell = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('on the file store, a blocker of ~8 lease lengths in a thread runs once while 100 ordinary jobs on the same queue finish', async () => {
    dir = await mkdtemp(join(tmpdir(), 'oddjob-sandbox-'));
    const store = await FileJobStore.open({ dir, create: true });
    try {
      const registry = new JobRegistry().register('cpu', CpuJob).register('ordinary', Ordinary);
      const logger = new CapturingLogger();
      shell = new JobExecutorShell({ store, registry, logger });
      const adder = store.adder({ registry });
      const blocker = await adder.addJob(CpuJob, (j) => j.block(2500), { queue: 'mixed', retry: Retry.none() });
      const ordinary = await adder.addJobs(
        Array.from({ length: 100 }, (_, i) => ({
          target: Ordinary,
          call: (o: Ordinary) => o.tick(i),
          options: { queue: 'mixed', retry: Retry.none() },
        })),
      );
      // One queue, a 300 ms lease; only 'cpu' goes to a thread (per target), 'ordinary' stays on the loop.
      shell.startJobQueue('mixed', { workers: 4, leaseMs: 300, sandbox: { module: MODULE, targets: ['cpu'] } });
      for (const id of ordinary) {
        const r = await finalRecord(store, id);
        expect(r.status, `${id}: ${r.lastError?.name} ${r.lastError?.message}`).to.equal('done');
        expect(r.attempts).to.equal(1);
      }
      const b = await finalRecord(store, blocker);
      expect(b.status, b.lastError?.message).to.equal('done');
      expect(b.attempts, 'claimed once: its lease never lapsed').to.equal(1);
      expect(
        logger.entries.filter((e) => /lease/i.test(e.msg ?? '')),
        'no lease trouble logged',
      ).to.deep.equal([]);
    } finally {
      await shell?.shutdown({ timeoutMs: 2000 });
      shell = undefined;
      await store.close();
    }
  });

  it('sandbox.targets sends only the listed targets to threads', async () => {
    const store = new MemoryJobStore();
    const logger = new CapturingLogger();
    shell = new JobExecutorShell({ store, registry: sandboxRegistry, logger });
    const adder = store.adder({ registry: sandboxRegistry });
    const a = await adder.addJob(WhereJob, (w) => w.where(), { queue: 'q' });
    shell.startJobQueue('q', { workers: 1, sandbox: { module: MODULE, targets: ['cpu'] } });
    expect((await finalRecord(store, a)).status).to.equal('done');
    const inLoop = logger.entries.find((e) => e.msg === 'where');
    expect(inLoop?.obj).to.include({ mainThread: true });
    await shell.shutdown();
    const b = await adder.addJob(WhereJob, (w) => w.where(), { queue: 'q' });
    shell = new JobExecutorShell({ store, registry: sandboxRegistry, logger });
    shell.startJobQueue('q', { workers: 1, sandbox: { module: MODULE, targets: ['where'] } });
    expect((await finalRecord(store, b)).status).to.equal('done');
    const inThread = logger.entries.find((e) => e.msg === 'where' && e.obj['jobId'] === b);
    expect(inThread?.obj).to.include({ mainThread: false, sandbox: true });
  });

  it("the thread builds targets with the module's exported container factory", async () => {
    const store = new MemoryJobStore();
    shell = new JobExecutorShell({ store, registry: sandboxRegistry, logger: new CapturingLogger() });
    const id = await store
      .adder({ registry: sandboxRegistry })
      .addJob(CpuJob, (j) => j.needsInjection(), { queue: 'cpu', retry: Retry.none() });
    shell.startJobQueue('cpu', { workers: 1, sandbox: { module: MODULE } });
    const r = await finalRecord(store, id);
    expect(r.status, r.lastError?.message).to.equal('done');
  });

  it('an uncaught exception inside a thread fails only its job; the pool keeps serving', async () => {
    const store = new MemoryJobStore();
    shell = new JobExecutorShell({ store, registry: sandboxRegistry, logger: new CapturingLogger() });
    const adder = store.adder({ registry: sandboxRegistry });
    const crashing = await adder.addJob(CpuJob, (j) => j.uncaught(), { queue: 'cpu', retry: Retry.none() });
    const after = await Promise.all([1, 2, 3].map((n) => adder.addJob(CpuJob, (j) => j.block(n), { queue: 'cpu' })));
    shell.startJobQueue('cpu', { workers: 1, sandbox: { module: MODULE } });
    const c = await finalRecord(store, crashing);
    expect(c.status).to.equal('failed');
    expect(c.lastError?.message).to.match(/uncaught inside the thread/);
    for (const id of after) expect((await finalRecord(store, id)).status).to.equal('done');
  });

  it('refuses an empty or malformed sandbox.targets', () => {
    shell = new JobExecutorShell({
      store: new MemoryJobStore(),
      registry: sandboxRegistry,
      logger: new CapturingLogger(),
    });
    expect(() => shell!.startJobQueue('cpu', { sandbox: { module: MODULE, targets: [] } })).to.throw(/sandbox.targets/);
    expect(() => shell!.startJobQueue('cpu', { sandbox: { module: MODULE, targets: ['cpux'] } })).to.throw(
      /sandbox.targets.*'cpux' is not a target registered/,
    );
  });
});
