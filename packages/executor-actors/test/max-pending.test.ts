import 'reflect-metadata';
import { expect } from 'chai';
import { InvalidOptionError, JobRegistry, MemoryJobStore } from '@oddjob/core';
import { JobExecutorShell, JobQueueCoordinator, type CoordinatorInit } from '../src/index.js';
import { CapturingLogger, waitFor, wrapManager } from './helpers.js';

describe('JobExecutorShell: maxPending', () => {
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  it('raises the bound on pending jobs when set, and still never exceeds it', async () => {
    const registry = new JobRegistry();
    class Work {
      async run() {
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    registry.register('work', Work);
    const coordinators: JobQueueCoordinator[] = [];
    class Observed extends JobQueueCoordinator {
      constructor(init: CoordinatorInit) {
        super(init);
        coordinators.push(this);
      }
    }
    const store = new MemoryJobStore();
    await store
      .adder({ registry })
      .addJobs(Array.from({ length: 200 }, () => ({ target: Work, call: (j: Work) => j.run() })));
    const seen: { pending: number; limit: number }[] = [];
    const manager = wrapManager(store, {
      claimJobs: (r) => {
        seen.push({ pending: coordinators[0].pending, limit: r.limit });
        return store.claimJobs(r);
      },
    });
    shell = new JobExecutorShell({ manager, registry, coordinator: Observed, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, maxPending: 25, pulseMs: 20 });
    await waitFor(async () => (await store.listJobs({ status: 'done', limit: 1000 })).length === 200, 'all 200 done');
    for (const s of seen) {
      expect(s.pending + s.limit, JSON.stringify(s)).to.be.at.most(25);
      // While the workers have their next jobs in hand, claims wait for a worthwhile batch.
      if (s.pending > 2) expect(s.limit, JSON.stringify(s)).to.be.at.least(13);
    }
    expect(
      seen.some((s) => s.pending > 2),
      'some claims were made while jobs were held',
    ).to.equal(true);
    expect(seen[0].limit, 'the first claim asks for the whole room').to.equal(25);
  });

  /** The limit of the first claim a queue of 2 workers makes on a store with this hint and options. */
  async function firstClaimLimit(claimBatchHint: number | undefined, maxPending?: number): Promise<number> {
    const registry = new JobRegistry();
    class Work {
      async run() {}
    }
    registry.register('work', Work);
    const store = new MemoryJobStore();
    await store.adder({ registry }).addJob(Work, (j) => j.run());
    const limits: number[] = [];
    const manager = wrapManager(store, {
      claimJobs: (r) => {
        limits.push(r.limit);
        return store.claimJobs(r);
      },
      claimBatchHint,
    });
    shell = new JobExecutorShell({ manager, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, pulseMs: 20, ...(maxPending === undefined ? {} : { maxPending }) });
    await waitFor(async () => limits.length > 0, 'a claim');
    await shell.shutdown({ timeoutMs: 1000 });
    shell = undefined;
    return limits[0];
  }

  it("takes twice the store's claim batch hint as the default when that is more than workers * 2", async () => {
    expect(await firstClaimLimit(undefined), 'no hint: workers * 2').to.equal(4);
    expect(await firstClaimLimit(15), 'hint 15').to.equal(30);
    expect(await firstClaimLimit(1), 'a hint below workers changes nothing').to.equal(4);
    expect(await firstClaimLimit(15, 6), 'an explicit maxPending wins').to.equal(6);
    for (const bad of [0, -3, 2.5, Number.NaN, Infinity])
      expect(await firstClaimLimit(bad), `a bad hint (${bad}) is ignored`).to.equal(4);
  });

  it('refuses a maxPending below the number of workers', () => {
    shell = new JobExecutorShell({
      manager: new MemoryJobStore(),
      registry: new JobRegistry(),
      logger: new CapturingLogger(),
    });
    expect(() => shell!.startJobQueue('default', { workers: 4, maxPending: 3 })).to.throw(
      InvalidOptionError,
      'maxPending',
    );
  });
});
