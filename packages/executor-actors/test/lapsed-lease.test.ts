import 'reflect-metadata';
import { expect } from 'chai';
import { JobRegistry, MemoryJobStore, type JobContext } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, waitFor } from './helpers.js';

describe('JobExecutorShell: a job that blocks past its lease', () => {
  it('never starts a queued neighbour whose lease lapsed meanwhile: it is released unrun and runs later under a fresh lease', async () => {
    const clock = new TestClock();
    const registry = new JobRegistry();
    const store = new MemoryJobStore({ clock });
    const underLapsedLease: string[] = [];
    const ran: string[] = [];
    const LEASE_MS = 1_000;
    class Work {
      /**
       * Blocks the event loop (no renewal can come back) for longer than the lease, on its first
       * attempt; its own outcome is then refused and it runs again, as it would in production.
       */
      block(ctx?: JobContext): void {
        if (ctx!.attempt > 1) return;
        clock.advance(LEASE_MS * 3);
        const until = performance.now() + 20;
        while (performance.now() < until) {
          // busy
        }
      }
      async neighbour(ctx?: JobContext): Promise<void> {
        const now = clock.now().getTime();
        const rec = await store.getJob(ctx!.jobId);
        if (rec!.lease === null || rec!.lease.expiresAt.getTime() <= now) underLapsedLease.push(ctx!.jobId);
        ran.push(ctx!.jobId);
      }
    }
    registry.register('work', Work);
    const adder = store.adder({ registry });
    await adder.addJob(Work, (w) => w.block());
    const neighbours = await adder.addJobs(
      Array.from({ length: 5 }, () => ({ target: Work, call: (w: Work) => w.neighbour() })),
    );
    const logger = new CapturingLogger();
    const shell = new JobExecutorShell({ manager: store, registry, clock, logger });
    try {
      // One worker: the neighbours wait in its mailbox behind the blocker.
      shell.startJobQueue('default', { workers: 1, maxPending: 6, pulseMs: 10, leaseMs: LEASE_MS, sweepMs: 100 });
      await waitFor(async () => (await store.listJobs({ status: 'done', limit: 100 })).length === 6, 'all six done');
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
    }
    expect(underLapsedLease).to.deep.equal([]);
    expect([...new Set(ran)].sort()).to.deep.equal([...neighbours].sort());
    expect(ran.length).to.equal(5);
    // Whether the store still accepts the release of a lapsed lease is the store's call (the memory
    // store refuses it, and the job is reclaimed as an expired lease): either way none is lost and
    // none ran twice.
    expect(logger.entries.some((e) => /lease ran out before the job started/.test(e.msg ?? ''))).to.equal(true);
  });
});
