import 'reflect-metadata';
import { expect } from 'chai';
import { InvalidOptionError, JobRegistry, MemoryJobStore } from '@oddjob/core';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, observedCoordinator, waitFor, wrapManager } from './helpers.js';

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
    const { Observed, coordinators } = observedCoordinator();
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

  /** Drains 300 jobs with claims that take 15 ms each; what the claims saw, and how often each job ran. */
  async function drainWithSlowClaims(claimsInFlight: number | undefined) {
    const registry = new JobRegistry();
    const ran = new Map<number, number>();
    class Work {
      async run(n: number) {
        ran.set(n, (ran.get(n) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    registry.register('work', Work);
    const { Observed, coordinators } = observedCoordinator();
    const store = new MemoryJobStore();
    await store
      .adder({ registry })
      .addJobs(Array.from({ length: 300 }, (_, n) => ({ target: Work, call: (j: Work) => j.run(n) })));
    let out = 0;
    let outLimit = 0;
    const seen: { pending: number; limit: number; alreadyOut: number; outLimit: number }[] = [];
    const manager = wrapManager(store, {
      claimJobs: async (r) => {
        seen.push({ pending: coordinators[0].pending, limit: r.limit, alreadyOut: out, outLimit });
        out++;
        outLimit += r.limit;
        try {
          await new Promise((res) => setTimeout(res, 15));
          return await store.claimJobs(r);
        } finally {
          out--;
          outLimit -= r.limit;
        }
      },
    });
    shell = new JobExecutorShell({ manager, registry, coordinator: Observed, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 4, maxPending: 40, pulseMs: 20, claimsInFlight });
    await waitFor(async () => (await store.listJobs({ status: 'done', limit: 1000 })).length === 300, 'all 300 done');
    return { seen, ran };
  }

  it('claimsInFlight 2 asks a second claim while one is out, each for at most half of maxPending, and never holds more than maxPending', async () => {
    const { seen, ran } = await drainWithSlowClaims(2);
    expect(ran.size).to.equal(300);
    expect(
      [...ran.values()].every((n) => n === 1),
      'every job ran once',
    ).to.equal(true);
    for (const s of seen) {
      expect(s.alreadyOut, JSON.stringify(s)).to.be.at.most(1);
      expect(s.limit, JSON.stringify(s)).to.be.at.most(20);
      expect(s.pending + s.outLimit + s.limit, JSON.stringify(s)).to.be.at.most(40);
    }
    expect(
      seen.some((s) => s.alreadyOut === 1),
      'some claims were asked while another was out',
    ).to.equal(true);
  });

  it('claimsInFlight 1 (the default) never has two claims out', async () => {
    const { seen, ran } = await drainWithSlowClaims(undefined);
    expect(ran.size).to.equal(300);
    for (const s of seen) expect(s.alreadyOut, JSON.stringify(s)).to.equal(0);
    expect(seen[0].limit, 'the first claim asks for the whole room').to.equal(40);
  });

  it('refuses a claimsInFlight other than 1 or 2', () => {
    const s = new JobExecutorShell({
      manager: new MemoryJobStore(),
      registry: new JobRegistry(),
      logger: new CapturingLogger(),
    });
    shell = s;
    for (const bad of [0, 3, 1.5])
      expect(() => s.startJobQueue('default', { claimsInFlight: bad }), String(bad)).to.throw(
        InvalidOptionError,
        /claimsInFlight/,
      );
  });
});
