import 'reflect-metadata';
import { expect } from 'chai';
import { JobRegistry, MemoryJobStore } from '@oddjob/core';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, sleep, waitFor, wrapManager } from './helpers.js';

describe('JobExecutorShell: storage outage', () => {
  it('backs off while storage is unreachable, loses no outcome, and resumes when it returns', async () => {
    const registry = new JobRegistry();
    let ran = 0;
    class Task {
      async run() {
        ran++;
        await sleep(1);
      }
    }
    registry.register('task', Task);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    let down = false;
    let writesDown = false;
    let failedCalls = 0;
    const unreachable = () => {
      failedCalls++;
      return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    };
    const manager = wrapManager(store, {
      claimJobs: (r) => (down ? unreachable() : store.claimJobs(r)),
      recordOutcomes: (o) => (down || writesDown ? unreachable() : store.recordOutcomes(o)),
      extendLeases: (l, ms) => (down ? unreachable() : store.extendLeases(l, ms)),
    });
    const logger = new CapturingLogger();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const shell = new JobExecutorShell({ manager, registry, logger });
    try {
      // 1. Down from the start: nothing is claimed, the claims back off instead of spinning.
      down = true;
      await adder.addJobs(Array.from({ length: 10 }, () => ({ target: Task, call: (j: Task) => j.run() })));
      shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
      await sleep(400);
      expect(ran).to.equal(0);
      // 100, 200 ms... backoff: a handful of attempts in 400 ms, not one per 10 ms pulse.
      expect(failedCalls).to.be.within(1, 8);
      down = false;
      await waitFor(async () => (await store.listJobs({ status: 'done' })).length === 10, 'first ten done');

      // 2. Down while jobs run: their outcomes are kept and written once storage is back.
      writesDown = true;
      const more = await adder.addJobs(
        Array.from({ length: 10 }, () => ({ target: Task, call: (j: Task) => j.run() })),
      );
      writesDown = true;
      await waitFor(() => ran === 20, 'the second batch ran while its outcomes could not be written');
      await sleep(300);
      expect((await store.listJobs({ status: 'done', limit: 100 })).length).to.equal(10);
      writesDown = false;
      await waitFor(
        async () => (await store.listJobs({ status: 'done', limit: 100 })).length === 20,
        'all twenty done',
      );
      for (const id of more) expect((await store.getJob(id))!.attempts, id).to.equal(1);
      expect(logger.errors().some((e) => /claiming jobs failed/.test(e.msg ?? ''))).to.equal(true);
      expect(logger.errors().some((e) => /writing job outcomes failed/.test(e.msg ?? ''))).to.equal(true);
      expect(shell.state).to.equal('running');
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).to.deep.equal([]);
  });

  it('keeps renewing the leases of finished jobs whose outcomes cannot be written, so none runs twice', async () => {
    const registry = new JobRegistry();
    const runs = new Map<string, number>();
    class Task {
      async run(n: number) {
        runs.set(String(n), (runs.get(String(n)) ?? 0) + 1);
        await sleep(1);
      }
    }
    registry.register('task', Task);
    const store = new MemoryJobStore();
    let writesDown = false;
    let failedWrites = 0;
    const manager = wrapManager(store, {
      recordOutcomes: (o) => {
        if (!writesDown) return store.recordOutcomes(o);
        failedWrites++;
        return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      },
    });
    const shell = new JobExecutorShell({ manager, registry, logger: new CapturingLogger() });
    const LEASE_MS = 600;
    try {
      writesDown = true;
      const ids = await store
        .adder({ registry })
        .addJobs(Array.from({ length: 10 }, (_, i) => ({ target: Task, call: (j: Task) => j.run(i) })));
      shell.startJobQueue('default', { workers: 2, pulseMs: 10, leaseMs: LEASE_MS });
      await waitFor(() => runs.size === 10, 'all ten ran once while their outcomes could not be written');
      // Five leases long: with the plain backoff (100 ms doubling to 10 s) the writes would wait past
      // the lease, and the queue would claim and run the jobs again.
      await sleep(5 * LEASE_MS);
      expect(
        [...runs.values()].every((n) => n === 1),
        `executions: ${JSON.stringify([...runs])}`,
      ).to.equal(true);
      // Retried at least every LEASE_MS / 4 (150 ms): about twenty tries in 3 s, not five.
      expect(failedWrites).to.be.at.least(12);
      writesDown = false;
      await waitFor(async () => (await store.listJobs({ status: 'done', limit: 100 })).length === 10, 'all ten done');
      for (const id of ids) expect((await store.getJob(id))!.attempts, id).to.equal(1);
      expect([...runs.values()].every((n) => n === 1)).to.equal(true);
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
    }
  });
});
