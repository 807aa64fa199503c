import 'reflect-metadata';
import { hostname } from 'node:os';
import { expect } from 'chai';
import {
  JobRegistry,
  MAX_LOG_LINES_PER_RUN,
  MemoryJobStore,
  Retry,
  deserializeResult,
  jobContext,
  type JobProgress,
} from '@oddjob/core';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, gate, waitFor } from './helpers.js';

/**
 * What an executor writes into a job's history: its return value, its log lines (while it runs and
 * with its outcome), progress with a message, one run per attempt naming this executor, and the
 * executor's own entry in the registry. On the memory store, which passes the storage contract; the
 * providers' share is pinned by the contract suite.
 */
describe('JobExecutorShell: results, logs, runs and the executor registry', () => {
  let store: MemoryJobStore;
  let registry: JobRegistry;
  let shell: JobExecutorShell | undefined;

  beforeEach(() => {
    store = new MemoryJobStore();
    registry = new JobRegistry();
  });
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  const start = (options: { heartbeatMs?: number } = {}) => {
    shell = new JobExecutorShell({ store, registry, logger: new CapturingLogger(), ...options });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10, sweepMs: 20, leaseMs: 1000 });
    return shell;
  };

  it('stores the return value with type fidelity; waitForJob hands it back', async () => {
    class Invoice {
      total(n: number) {
        return { n, big: 2n ** 70n, due: new Date(Date.UTC(2031, 0, 1)), tags: new Set(['a']) };
      }
    }
    registry.register('invoice', Invoice);
    const id = await store.adder({ registry }).addJob(Invoice, (i) => i.total(7));
    start();
    const final = await store.waitForJob(id, { timeoutMs: 20_000 });
    expect(final.status).to.equal('done');
    const value = deserializeResult(final.result, id) as { n: number; big: bigint; due: Date; tags: Set<string> };
    expect(value.n).to.equal(7);
    expect(value.big).to.equal(2n ** 70n);
    expect(value.due).to.be.instanceOf(Date);
    expect([...value.tags]).to.deep.equal(['a']);
  });

  it('a return value that cannot be stored fails the job once, naming it, without retries', async () => {
    class Bad {
      fn() {
        return { callback: () => 1 };
      }
      async huge() {
        return 'x'.repeat(2_000_000);
      }
    }
    registry.register('bad', Bad);
    const adder = store.adder({ registry });
    const fn = await adder.addJob(Bad, (b) => b.fn(), { retry: Retry.fixed(5, 10) });
    const huge = await adder.addJob(Bad, (b) => b.huge(), { retry: Retry.fixed(5, 10) });
    start();
    for (const id of [fn, huge]) {
      const final = await store.waitForJob(id, { timeoutMs: 20_000 });
      expect(final.status).to.equal('failed');
      expect(final.attempts).to.equal(1);
      expect(final.lastError!.name).to.equal('JobResultError');
      expect(final.lastError!.message).to.contain(id);
    }
    expect((await store.getJob(fn))!.lastError!.message).to.contain('result');
    expect((await store.getJob(huge))!.lastError!.message).to.contain('over the limit');
  });

  it('log lines and progress with a message are readable while the job runs, and the rest lands with the outcome', async () => {
    const hold = gate();
    class Copier {
      async copy(files: number) {
        const ctx = jobContext();
        ctx.log('copying %d files', files);
        ctx.logger.warn({ disk: 'sdb' }, 'disk is slow');
        await ctx.reportProgress(40, 'copied 40 of 100');
        await hold.promise;
        ctx.logAt('debug', 'finishing');
        return 'ok';
      }
    }
    registry.register('copier', Copier);
    const id = await store.adder({ registry }).addJob(Copier, (c) => c.copy(100));
    const progressEvents: [string, JobProgress, string | null][] = [];
    start().on('job:progress', (e) => progressEvents.push([e.jobId, e.progress, e.message]));
    await waitFor(
      async () => (await store.listLogs(id)).length >= 2,
      'the first lines to be written while the job runs',
    );
    const running = await store.getJob(id);
    expect(running!.status).to.equal('processing');
    expect(running!.progress).to.equal(40);
    expect(running!.progressMessage).to.equal('copied 40 of 100');
    expect(progressEvents).to.deep.equal([[id, 40, 'copied 40 of 100']]);
    hold.open();
    await store.waitForJob(id, { timeoutMs: 20_000 });
    const lines = await store.listLogs(id);
    expect(lines.map((l) => [l.level, l.message, l.attempt])).to.deep.equal([
      ['info', 'copying 100 files', 1],
      ['warn', 'disk is slow {"disk":"sdb"}', 1],
      ['debug', 'finishing', 1],
    ]);
  });

  it('a chatty job keeps a bounded log that ends with a marker', async () => {
    class Chatty {
      run() {
        for (let i = 0; i < MAX_LOG_LINES_PER_RUN * 3; i++) jobContext().log(`line ${i}`);
      }
    }
    registry.register('chatty', Chatty);
    const id = await store.adder({ registry }).addJob(Chatty, (c) => c.run());
    start();
    await store.waitForJob(id, { timeoutMs: 20_000 });
    const lines = await store.listLogs(id, { limit: 10_000 });
    expect(lines).to.have.length(MAX_LOG_LINES_PER_RUN);
    expect(lines.at(-1)!.message).to.contain('log truncated');
    expect(lines[0].message).to.equal('line 0');
  });

  it('records one run per attempt, naming this executor and host', async () => {
    let calls = 0;
    class Flaky {
      run() {
        calls++;
        if (calls === 1) throw new Error('mail service down');
      }
    }
    registry.register('flaky', Flaky);
    const id = await store.adder({ registry }).addJob(Flaky, (f) => f.run(), { retry: Retry.fixed(3, 10) });
    const s = start();
    const final = await store.waitForJob(id, { timeoutMs: 20_000 });
    expect(final.status).to.equal('done');
    const runs = await store.listRuns(id);
    expect(runs.map((r) => [r.attempt, r.state, r.executorId, r.host])).to.deep.equal([
      [1, 'retry', s.owner, hostname()],
      [2, 'done', s.owner, hostname()],
    ]);
    expect(runs[0].error!.message).to.equal('mail service down');
  });

  it('registers itself with its queues, says stopping during shutdown, and removes itself at the end', async () => {
    const s = start({ heartbeatMs: 100 });
    await waitFor(
      async () => (await store.listExecutors()).some((e) => e.queues.length === 1),
      'the executor to register with its queue',
    );
    const [entry] = await store.listExecutors();
    expect(entry).to.deep.include({ id: s.owner, host: hostname(), pid: process.pid, state: 'running', stale: false });
    expect(entry.queues).to.deep.equal([{ name: 'default', workers: 2 }]);
    expect(entry.version).to.match(/^\d+\.\d+\.\d+/);
    const states: string[] = [];
    const beat = store.heartbeatExecutor.bind(store);
    store.heartbeatExecutor = (info) => {
      states.push(info.state);
      return beat(info);
    };
    await s.shutdown({ timeoutMs: 1000 });
    expect(states.at(-1)).to.equal('stopping');
    shell = undefined;
    expect(await store.listExecutors()).to.deep.equal([]);
  });

  it("aroundRun wrappers run around each method in the job's async context, outermost first, until removed", async () => {
    const seen: string[] = [];
    class Wrapped {
      run(n: number) {
        seen.push(`run ${n} in ${jobContext().jobId === undefined ? 'no' : 'a'} job context`);
      }
    }
    registry.register('wrapped', Wrapped);
    const s = start();
    const offOuter = s.aroundRun((job, run) => {
      seen.push(`outer ${job.target}`);
      return run();
    });
    s.aroundRun((_job, run) => {
      seen.push('inner');
      return run();
    });
    const adder = store.adder({ registry });
    await store.waitForJob(await adder.addJob(Wrapped, (w) => w.run(1)), { timeoutMs: 20_000 });
    offOuter();
    await store.waitForJob(await adder.addJob(Wrapped, (w) => w.run(2)), { timeoutMs: 20_000 });
    expect(seen).to.deep.equal(['outer wrapped', 'inner', 'run 1 in a job context', 'inner', 'run 2 in a job context']);
    expect(() => s.aroundRun(42 as never)).to.throw(/aroundRun/);
  });

  it('refuses a heartbeat interval out of range, naming it', () => {
    expect(() => new JobExecutorShell({ store, registry, heartbeatMs: 5 })).to.throw(/heartbeatMs/);
  });
});
