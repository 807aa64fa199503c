import 'reflect-metadata';
import { expect } from 'chai';
import { JobRegistry, MemoryJobStore, Retry, type JobContext } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, gate, waitFor, wrapManager } from './helpers.js';

describe('JobExecutorShell: timeouts and leases', () => {
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  it('aborts a job past jobTimeoutMs through its signal and counts a failed attempt', async () => {
    const clock = new TestClock();
    const registry = new JobRegistry();
    const started: string[] = [];
    const sawAbort: unknown[] = [];
    class Slow {
      /** Honours its signal. */
      async polite(ctx?: JobContext) {
        started.push('polite');
        await new Promise<void>((resolve) => ctx!.signal.addEventListener('abort', () => resolve(), { once: true }));
        sawAbort.push(ctx!.signal.reason);
      }
      /** Ignores its signal and never ends: the worker must not wait for it forever. */
      async stubborn() {
        started.push('stubborn');
        await new Promise(() => undefined);
      }
    }
    registry.register('slow', Slow);
    const store = new MemoryJobStore({ clock });
    const adder = store.adder({ registry });
    const polite = await adder.addJob(Slow, (j) => j.polite(), { retry: Retry.none() });
    const stubborn = await adder.addJob(Slow, (j) => j.stubborn(), { retry: Retry.fixed(2, 60_000) });
    shell = new JobExecutorShell({ manager: store, registry, clock, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10, sweepMs: 10, leaseMs: 600_000, jobTimeoutMs: 5_000 });
    await waitFor(() => started.length === 2, 'both started');
    clock.advance(4_000);
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.getJob(polite))!.status).to.equal('processing');
    clock.advance(2_000);
    await waitFor(
      async () =>
        (await store.getJob(polite))!.status === 'failed' && (await store.getJob(stubborn))!.status === 'retry',
      'timeouts recorded',
    );
    const p = (await store.getJob(polite))!;
    expect(p.lastError?.name).to.equal('JobTimeoutError');
    expect(p.attempts).to.equal(1);
    expect((sawAbort[0] as Error).name).to.equal('JobTimeoutError');
    const s = (await store.getJob(stubborn))!;
    expect(s.lastError?.name).to.equal('JobTimeoutError');
    expect(s.runAt.getTime()).to.equal(clock.now().getTime() + 60_000);
  });

  it('renews leases in batches while jobs run', async () => {
    const clock = new TestClock();
    const registry = new JobRegistry();
    const release = gate();
    let started = 0;
    class Long {
      async run() {
        started++;
        await release.promise;
      }
    }
    registry.register('long', Long);
    const store = new MemoryJobStore({ clock });
    const ids = await store
      .adder({ registry })
      .addJobs([1, 2, 3].map(() => ({ target: Long, call: (j: Long) => j.run() })));
    const batches: number[] = [];
    const manager = wrapManager(store, {
      extendLeases: (leases, ms) => {
        batches.push(leases.length);
        return store.extendLeases(leases, ms);
      },
    });
    shell = new JobExecutorShell({ manager, registry, clock, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 3, pulseMs: 10, sweepMs: 10, leaseMs: 3_000, jobTimeoutMs: 600_000 });
    await waitFor(() => started === 3, 'all started');
    // Well past the original lease: only renewals keep the jobs ours.
    for (let i = 0; i < 5; i++) {
      const before = batches.length;
      clock.advance(1_500);
      await waitFor(() => batches.length > before, 'a renewal');
    }
    expect(batches.every((n) => n === 3)).to.equal(true);
    release.open();
    await waitFor(async () => (await store.listJobs({ status: 'done' })).length === 3, 'all done');
    for (const id of ids) expect((await store.getJob(id))!.attempts).to.equal(1);
  });

  it('aborts the run and drops its result when a renewal says the lease is lost', async () => {
    const clock = new TestClock();
    const registry = new JobRegistry();
    const started = gate();
    let reason: unknown;
    class Long {
      async run(ctx?: JobContext) {
        started.open();
        await new Promise<void>((resolve) => ctx!.signal.addEventListener('abort', () => resolve(), { once: true }));
        reason = ctx!.signal.reason;
      }
    }
    registry.register('long', Long);
    const store = new MemoryJobStore({ clock });
    const id = await store.adder({ registry }).addJob(Long, (j) => j.run());
    const written: string[] = [];
    const manager = wrapManager(store, {
      recordOutcomes: (o) => {
        written.push(...o.map((x) => x.kind));
        return store.recordOutcomes(o);
      },
    });
    const logger = new CapturingLogger();
    shell = new JobExecutorShell({ manager, registry, clock, logger });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10, sweepMs: 10, leaseMs: 3_000, jobTimeoutMs: 600_000 });
    await started.promise;
    await store.cancelJob(id);
    clock.advance(1_100);
    await waitFor(() => reason !== undefined, 'the job saw its signal abort');
    expect((reason as Error).name).to.equal('LeaseLostError');
    await waitFor(() => logger.entries.some((e) => /result is dropped/.test(e.msg ?? '')), 'the drop logged');
    expect(written).to.deep.equal([]);
    expect((await store.getJob(id))!.status).to.equal('cancelled');
  });
});
