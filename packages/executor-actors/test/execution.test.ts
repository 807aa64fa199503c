import 'reflect-metadata';
import { expect } from 'chai';
import { InvalidOptionError, JobAbortError, JobRegistry, MemoryJobStore, Retry, type JobContext } from '@oddjob/core';
import { JobExecutorShell, JobQueueCoordinator, ShellStateError } from '../src/index.js';
import { CapturingLogger, gate, observedCoordinator, waitFor, wrapManager } from './helpers.js';

describe('JobExecutorShell: execution', () => {
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  it('hands jobs to workers round-robin', async () => {
    const registry = new JobRegistry();
    const release = gate();
    const ranOn = new Map<number, number>();
    class Blocking {
      async run(n: number, ctx?: JobContext) {
        ctx!.logger.info({ n }, 'started');
        await release.promise;
      }
    }
    registry.register('blocking', Blocking);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    for (let n = 0; n < 6; n++) await adder.addJob(Blocking, (j) => j.run(n));
    const logger = new CapturingLogger();
    shell = new JobExecutorShell({ manager: store, registry, logger });
    shell.startJobQueue('default', { workers: 3, pulseMs: 20 });
    await waitFor(() => logger.entries.filter((e) => e.msg === 'started').length === 3, 'three jobs started');
    release.open();
    await waitFor(() => logger.entries.filter((e) => e.msg === 'started').length === 6, 'six jobs started');
    for (const e of logger.entries.filter((x) => x.msg === 'started'))
      ranOn.set(e.obj.n as number, e.obj.worker as number);
    expect([...Array(6).keys()].map((n) => ranOn.get(n))).to.deep.equal([0, 1, 2, 0, 1, 2]);
    await waitFor(async () => (await store.listJobs({ status: 'done' })).length === 6, 'all done');
  });

  it("runs a worker's share of a claim in order, sync and async jobs mixed", async () => {
    const registry = new JobRegistry();
    const order: number[] = [];
    class Mixed {
      run(n: number): void | Promise<void> {
        if (n % 3 === 1) return new Promise((r) => setTimeout(r, 1)).then(() => void order.push(n));
        if (n % 3 === 2) throw new Error(`job ${n} fails`);
        order.push(n);
      }
    }
    registry.register('mixed', Mixed);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    await adder.addJobs(
      Array.from({ length: 12 }, (_, n) => ({
        target: Mixed,
        call: (j: Mixed) => j.run(n),
        options: { retry: Retry.none() },
      })),
    );
    shell = new JobExecutorShell({ manager: store, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, maxPending: 12, pulseMs: 20 });
    await waitFor(
      async () => (await store.listJobs({ status: ['done', 'failed'], limit: 100 })).length === 12,
      'all 12 finished',
    );
    expect(order).to.deep.equal([0, 1, 3, 4, 6, 7, 9, 10]);
    expect((await store.listJobs({ status: 'failed', limit: 100 })).length).to.equal(4);
  });

  it('lets the event loop run between slow synchronous jobs of one share', async () => {
    // A share of a claim arrives as one message; without a yield, slow synchronous jobs would hold
    // the loop (timers, sockets, other workers) until the whole share was done.
    const registry = new JobRegistry();
    let loopRan = false;
    const sawLoop: boolean[] = [];
    class Hog {
      run(): void {
        sawLoop.push(loopRan);
        loopRan = false;
        setImmediate(() => (loopRan = true));
        const until = performance.now() + 8; // longer than the worker's 5 ms slice
        while (performance.now() < until) {
          // busy: a synchronous job that takes a while
        }
      }
    }
    registry.register('hog', Hog);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    await adder.addJobs(Array.from({ length: 4 }, () => ({ target: Hog, call: (j: Hog) => j.run() })));
    shell = new JobExecutorShell({ manager: store, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, maxPending: 4, pulseMs: 20 });
    await waitFor(async () => (await store.listJobs({ status: 'done' })).length === 4, 'all 4 done');
    expect(sawLoop.slice(1)).to.deep.equal([true, true, true]);
  });

  it('never holds more than workers * 2 jobs and asks for no more than the free room', async () => {
    const registry = new JobRegistry();
    let running = 0;
    let maxRunning = 0;
    class Work {
      async run() {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        running--;
      }
    }
    registry.register('work', Work);
    const { Observed, coordinators } = observedCoordinator();
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    await adder.addJobs(Array.from({ length: 300 }, () => ({ target: Work, call: (j: Work) => j.run() })));
    const workers = 3;
    const seen: { pending: number; limit: number }[] = [];
    const manager = wrapManager(store, {
      claimJobs: (r) => {
        seen.push({ pending: coordinators[0].pending, limit: r.limit });
        return store.claimJobs(r);
      },
    });
    shell = new JobExecutorShell({ manager, registry, coordinator: Observed, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers, pulseMs: 20 });
    await waitFor(async () => (await store.listJobs({ status: 'done', limit: 1000 })).length === 300, 'all 300 done');
    expect(seen.length).to.be.greaterThan(1);
    for (const s of seen) {
      expect(s.limit, JSON.stringify(s)).to.be.at.least(1);
      expect(s.pending + s.limit, JSON.stringify(s)).to.be.at.most(workers * 2);
    }
    expect(Math.max(...seen.map((s) => s.pending)), 'fetched while jobs were pending').to.be.greaterThan(0);
    expect(maxRunning).to.be.at.most(workers);
  });

  it('writes outcomes that finish together in one recordOutcomes batch', async () => {
    const registry = new JobRegistry();
    const release = gate();
    let started = 0;
    class Held {
      async run() {
        started++;
        await release.promise;
      }
    }
    registry.register('held', Held);
    const store = new MemoryJobStore();
    await store.adder({ registry }).addJobs([1, 2, 3, 4, 5].map(() => ({ target: Held, call: (j: Held) => j.run() })));
    const batches: number[] = [];
    const manager = wrapManager(store, {
      recordOutcomes: (o) => {
        batches.push(o.length);
        return store.recordOutcomes(o);
      },
    });
    shell = new JobExecutorShell({ manager, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 5, pulseMs: 20 });
    await waitFor(() => started === 5, 'five running');
    release.open();
    await waitFor(async () => (await store.listJobs({ status: 'done' })).length === 5, 'all done');
    expect(batches).to.deep.equal([5]);
  });

  it('retries by the job policy, then fails for good', async () => {
    const registry = new JobRegistry();
    const calls = new Map<string, number>();
    class Flaky {
      run(key: string, failures: number) {
        const n = (calls.get(key) ?? 0) + 1;
        calls.set(key, n);
        if (n <= failures) throw new Error(`${key} failure ${n}`);
      }
    }
    registry.register('flaky', Flaky);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    const recovers = await adder.addJob(Flaky, (j) => j.run('recovers', 2), { retry: Retry.fixed(3, 0) });
    const fails = await adder.addJob(Flaky, (j) => j.run('fails', 99), { retry: Retry.fixed(2, 0) });
    shell = new JobExecutorShell({ manager: store, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
    await waitFor(
      async () => (await store.getJob(fails))?.status === 'failed' && (await store.getJob(recovers))?.status === 'done',
      'final states',
    );
    const ok = (await store.getJob(recovers))!;
    expect(ok.attempts).to.equal(3);
    const bad = (await store.getJob(fails))!;
    expect(bad.attempts).to.equal(2);
    expect(bad.lastError?.message).to.equal('fails failure 2');
    expect(calls.get('fails')).to.equal(2);
  });

  it('never retries a JobAbortError', async () => {
    const registry = new JobRegistry();
    let calls = 0;
    class Validating {
      async run() {
        calls++;
        throw new JobAbortError('bad input');
      }
    }
    registry.register('validating', Validating);
    const store = new MemoryJobStore();
    const id = await store.adder({ registry }).addJob(Validating, (j) => j.run(), { retry: Retry.fixed(5, 0) });
    shell = new JobExecutorShell({ manager: store, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await waitFor(async () => (await store.getJob(id))?.status === 'failed', 'failed');
    const job = (await store.getJob(id))!;
    expect(job.attempts).to.equal(1);
    expect(job.lastError?.name).to.equal('JobAbortError');
    expect(calls).to.equal(1);
  });

  it('fails unknown targets, unknown methods and corrupt arguments without retrying or crashing', async () => {
    const registry = new JobRegistry();
    class Known {
      run() {}
      toString() {
        return 'own';
      }
    }
    class Base {
      inherited() {}
    }
    class Derived extends Base {
      own() {}
    }
    registry.register('known', Known).register('derived', Derived);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    const retry = Retry.fixed(3, 0);
    const noTarget = await adder.addJob({ target: 'nope', method: 'run', args: [] }, { retry });
    const noMethod = await adder.addJob({ target: 'known', method: 'missing', args: [] }, { retry });
    const inherited = await adder.addJob({ target: 'derived', method: 'inherited', args: [] }, { retry });
    const ctor = await adder.addJob({ target: 'known', method: 'constructor', args: [] }, { retry }).catch(() => null);
    const corrupt = await adder.addJob(Known, (j) => j.run(), { retry });
    const fine = await adder.addJob(Known, (j) => j.run());
    const missing: string[] = [];
    class Watching extends JobQueueCoordinator {
      override onMissingTarget(job: { id: string }) {
        missing.push(job.id);
      }
    }
    const manager = wrapManager(store, {
      claimJobs: async (r) => {
        const jobs = await store.claimJobs(r);
        for (const j of jobs) if (j.id === corrupt) j.args = '{not json';
        return jobs;
      },
    });
    shell = new JobExecutorShell({ manager, registry, coordinator: Watching, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
    await waitFor(async () => (await store.getJob(fine))?.status === 'done', 'the good job done');
    await waitFor(
      async () => (await store.listJobs({ status: 'failed' })).length === (ctor === null ? 4 : 5),
      'bad jobs failed',
    );
    const names = new Map<string, string>();
    for (const j of await store.listJobs({ status: 'failed' })) {
      expect(j.attempts, j.id).to.equal(1);
      names.set(j.id, j.lastError!.name);
    }
    expect(names.get(noTarget)).to.equal('UnknownJobTargetError');
    expect(names.get(noMethod)).to.equal('UnknownJobMethodError');
    expect(names.get(inherited)).to.equal('UnknownJobMethodError');
    expect(names.get(corrupt)).to.equal('CorruptJobError');
    if (ctor !== null) expect(names.get(ctor)).to.equal('UnknownJobMethodError');
    expect(missing).to.include.members([noTarget, noMethod, inherited]);
    expect(missing).not.to.include(corrupt);
    expect(shell.state).to.equal('running');
  });

  it('treats starting a started queue as a no-op and rejects bad options and use after shutdown', async () => {
    const store = new MemoryJobStore();
    shell = new JobExecutorShell({ manager: store, registry: new JobRegistry(), logger: new CapturingLogger() });
    shell.startJobQueue('q', { workers: 1 });
    shell.startJobQueue('q', { workers: 5 });
    expect(shell.runningQueues()).to.deep.equal(['q']);
    expect(() => shell!.startJobQueue('other', { workers: 0 })).to.throw(InvalidOptionError, /workers/);
    expect(() => shell!.startJobQueue('bad name!')).to.throw(InvalidOptionError, /queue/);
    expect(() => shell!.startJobQueue('x', { leaseMs: 1000, sweepMs: 900 })).to.throw(InvalidOptionError, /sweepMs/);
    expect(() => new JobExecutorShell({ manager: store, coordinator: class {} as never })).to.throw(
      InvalidOptionError,
      /coordinator/,
    );
    await shell.stopJobQueue('q');
    expect(shell.runningQueues()).to.deep.equal([]);
    await shell.shutdown();
    expect(shell.state).to.equal('stopped');
    expect(() => shell!.startJobQueue('q')).to.throw(ShellStateError);
  });

  it('is woken by an enqueue instead of waiting for the next pulse', async () => {
    const registry = new JobRegistry();
    class Quick {
      run() {}
    }
    registry.register('quick', Quick);
    const store = new MemoryJobStore();
    shell = new JobExecutorShell({ manager: store, registry, logger: new CapturingLogger() });
    // A pulse an hour apart: only the wake-up can make this job run within the test.
    shell.startJobQueue('default', { workers: 1, pulseMs: 3_600_000 });
    await new Promise((r) => setTimeout(r, 50));
    const id = await store.adder({ registry }).addJob(Quick, (j) => j.run());
    await waitFor(async () => (await store.getJob(id))?.status === 'done', 'done after the wake-up');
  });

  it('ticks schedulers while running, logs their errors, and stops ticking at shutdown', async () => {
    let ticks = 0;
    let failing = 0;
    const logger = new CapturingLogger();
    shell = new JobExecutorShell({
      manager: new MemoryJobStore(),
      registry: new JobRegistry(),
      logger,
      schedulePollMs: 5,
      schedulers: [
        { tick: async () => void ticks++ },
        {
          tick: async () => {
            failing++;
            throw new Error('schedule store down');
          },
        },
      ],
    });
    await waitFor(() => ticks >= 3, 'three ticks');
    expect(logger.errors().some((e) => e.msg?.includes('scheduler tick failed'))).to.equal(true);
    await shell.shutdown();
    const after = ticks;
    await new Promise((r) => setTimeout(r, 50));
    expect(ticks).to.equal(after);
    expect(failing).to.be.greaterThan(0);
  });
});
