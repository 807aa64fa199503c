import { expect } from 'chai';
import { JobRegistry, MemoryJobStore, Retry } from '@oddjob/core';
import { JobExecutorShell } from '../src/index.js';
import { CpuJob, registry as sandboxRegistry } from './fixtures/sandbox-jobs.js';
import { CapturingLogger } from './helpers.js';
import { Ordinary, SANDBOX_MODULE as MODULE, finalRecord } from './sandbox-helpers.js';

describe('sandboxed queues (worker threads)', function () {
  this.timeout(60_000);
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 2000 });
    shell = undefined;
  });

  function start(store: MemoryJobStore, registry: JobRegistry, logger = new CapturingLogger()): JobExecutorShell {
    shell = new JobExecutorShell({ store, registry, logger });
    return shell;
  }

  it('a job that blocks for several lease lengths stalls nothing: 100 ordinary jobs finish on time, the blocker runs once', async () => {
    const store = new MemoryJobStore();
    const registry = new JobRegistry().register('cpu', CpuJob).register('ordinary', Ordinary);
    const s = start(store, registry);
    const adder = store.adder({ registry });
    const blocker = await adder.addJob(CpuJob, (j) => j.block(2500), { queue: 'cpu', retry: Retry.none() });
    const ordinary = await adder.addJobs(
      Array.from({ length: 100 }, (_, i) => ({
        target: Ordinary,
        call: (o: Ordinary) => o.tick(i),
        options: { retry: Retry.none() },
      })),
    );
    // A 300 ms lease: on the event loop, a 2.5 s busy loop would let every lease on this shell lapse.
    s.startJobQueue('cpu', { workers: 1, leaseMs: 300, sandbox: { module: MODULE } });
    s.startJobQueue('default', { workers: 4, leaseMs: 300 });
    for (const id of ordinary) {
      const r = await finalRecord(store, id);
      expect(r.status, `${id}: ${r.lastError?.message}`).to.equal('done');
      expect(r.attempts).to.equal(1);
    }
    // The ordinary jobs finished while the blocker was still spinning in its thread.
    expect((await store.getJob(blocker))!.status).to.equal('processing');
    const b = await finalRecord(store, blocker);
    expect(b.status, b.lastError?.message).to.equal('done');
    expect(b.attempts, 'claimed once: its lease never lapsed').to.equal(1);
  });

  it('arguments keep their types into the thread, progress and log lines come back', async () => {
    const store = new MemoryJobStore();
    const logger = new CapturingLogger();
    const s = start(store, sandboxRegistry, logger);
    const adder = store.adder({ registry: sandboxRegistry });
    const typed = await adder.addJob(CpuJob, (j) => j.echo(new Date(0), new Map([['a', 1n]]), 21n), { queue: 'cpu' });
    const progress = await adder.addJob(CpuJob, (j) => j.progress(), { queue: 'cpu' });
    s.startJobQueue('cpu', { workers: 2, sandbox: { module: MODULE.href } });
    const t = await finalRecord(store, typed);
    expect(t.status, t.lastError?.message).to.equal('done');
    const p = await finalRecord(store, progress);
    expect(p.status, p.lastError?.message).to.equal('done');
    expect(p.progress).to.equal(100);
    const halfway = logger.entries.find((e) => e.msg === 'halfway');
    expect(halfway, 'the thread logger reached the executor').to.not.equal(undefined);
    expect(halfway!.obj).to.include({ held: true, jobId: progress, sandbox: true });
  });

  it('a timeout terminates a blocked thread, the job is recorded as timed out, and the pool keeps serving', async () => {
    const store = new MemoryJobStore();
    const s = start(store, sandboxRegistry);
    const adder = store.adder({ registry: sandboxRegistry });
    const stuck = await adder.addJob(CpuJob, (j) => j.forever(), { queue: 'cpu', retry: Retry.none() });
    const after = await adder.addJob(CpuJob, (j) => j.block(10), { queue: 'cpu' });
    s.startJobQueue('cpu', { workers: 1, jobTimeoutMs: 500, sandbox: { module: MODULE } });
    const r = await finalRecord(store, stuck);
    expect(r.status).to.equal('failed');
    expect(r.lastError?.name).to.equal('JobTimeoutError');
    expect((await finalRecord(store, after)).status).to.equal('done');
  });

  it('a thread that exits fails only its own job; a JobAbortError from a thread is not retried', async () => {
    const store = new MemoryJobStore();
    const s = start(store, sandboxRegistry);
    const adder = store.adder({ registry: sandboxRegistry });
    const exiting = await adder.addJob(CpuJob, (j) => j.exitThread(), { queue: 'cpu', retry: Retry.none() });
    const refused = await adder.addJob(CpuJob, (j) => j.refuse(), { queue: 'cpu', retry: Retry.fixed(3, 10) });
    const fine = await adder.addJob(CpuJob, (j) => j.block(1), { queue: 'cpu' });
    s.startJobQueue('cpu', { workers: 2, sandbox: { module: MODULE } });
    expect((await finalRecord(store, exiting)).status).to.equal('failed');
    const a = await finalRecord(store, refused);
    expect(a.status).to.equal('failed');
    expect(a.lastError?.name).to.equal('JobAbortError');
    expect(a.attempts).to.equal(1);
    expect((await finalRecord(store, fine)).status).to.equal('done');
  });

  it('runs only targets the executor registered: a stored name the executor does not know never reaches a thread', async () => {
    const store = new MemoryJobStore();
    const s = start(store, new JobRegistry().register('ordinary', Ordinary));
    // The thread's module knows 'cpu', the executor does not: the executor refuses before any thread is used.
    const id = await store.adder().addJob({ target: 'cpu', method: 'block', args: [1] }, { queue: 'cpu' });
    s.startJobQueue('cpu', { workers: 1, sandbox: { module: MODULE } });
    const r = await finalRecord(store, id);
    expect(r.status).to.equal('failed');
    expect(r.lastError?.name).to.equal('UnknownJobTargetError');
  });

  it('refuses a sandbox module that is neither a file URL nor an absolute path', () => {
    const s = start(new MemoryJobStore(), sandboxRegistry);
    expect(() => s.startJobQueue('cpu', { sandbox: { module: './jobs.js' } })).to.throw(/sandbox.module/);
  });
});
