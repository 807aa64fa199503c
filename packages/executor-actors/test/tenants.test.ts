import 'reflect-metadata';
import { expect } from 'chai';
import { InvalidOptionError, JobRegistry, MemoryJobStore, jobContext } from '@oddjob/core';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, waitFor, wrapManager } from './helpers.js';

describe('tenants (several stores, one shell)', () => {
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  it('refuses store and tenants together, an empty or badly named tenant, and an unknown tenant', () => {
    const s = new MemoryJobStore();
    expect(() => new JobExecutorShell({ store: s, tenants: { a: s } })).to.throw(
      InvalidOptionError,
      /either store or tenants/,
    );
    expect(() => new JobExecutorShell({ tenants: {} })).to.throw(InvalidOptionError, /one or more/);
    expect(() => new JobExecutorShell({ tenants: { 'a/b': s } })).to.throw(InvalidOptionError, /tenant name "a\/b"/);
    expect(() => new JobExecutorShell({ tenants: { a: {} as MemoryJobStore } })).to.throw(
      InvalidOptionError,
      /tenants\.a/,
    );
    shell = new JobExecutorShell({ tenants: { a: s }, logger: new CapturingLogger() });
    expect(() => shell!.startJobQueue('q', { tenant: 'zz' })).to.throw(
      InvalidOptionError,
      /"zz" is not one of this shell's tenants \(a\)/,
    );
  });

  it('tells the tenant in job and queue events, and registers the executor in every tenant store', async () => {
    const registry = new JobRegistry();
    class Work {
      async run() {
        await jobContext().reportProgress(1);
      }
    }
    registry.register('work', Work);
    const east = new MemoryJobStore();
    const west = new MemoryJobStore();
    const a = await east.adder({ registry }).addJob(Work, (w) => w.run());
    const b = await west.adder({ registry }).addJob(Work, (w) => w.run());
    shell = new JobExecutorShell({ tenants: { east, west }, registry, logger: new CapturingLogger() });
    const seen: string[] = [];
    for (const event of ['job:started', 'job:progress', 'job:succeeded'] as const) {
      shell.on(event, (e: { tenant?: string; job?: { id: string }; jobId?: string }) =>
        seen.push(`${event} ${e.tenant} ${e.job?.id ?? e.jobId}`),
      );
    }
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await east.waitForJob(a, { timeoutMs: 20_000 });
    await west.waitForJob(b, { timeoutMs: 20_000 });
    await waitFor(() => seen.length === 6, 'both jobs succeeded events');
    expect([...seen].sort()).to.deep.equal(
      [
        `job:started east ${a}`,
        `job:progress east ${a}`,
        `job:succeeded east ${a}`,
        `job:started west ${b}`,
        `job:progress west ${b}`,
        `job:succeeded west ${b}`,
      ].sort(),
    );
    await waitFor(
      async () => (await east.listExecutors()).length === 1 && (await west.listExecutors()).length === 1,
      'the executor in both registries',
    );
    expect((await east.listExecutors())[0].queues.map((q) => q.name).sort()).to.deep.equal([
      'east/default',
      'west/default',
    ]);
  });

  it("keeps running one tenant's queue while the other's storage fails every claim", async () => {
    const registry = new JobRegistry();
    const seen: (string | undefined)[] = [];
    class Work {
      run() {
        seen.push(jobContext().tenant);
      }
    }
    registry.register('work', Work);
    const good = new MemoryJobStore();
    const broken = new MemoryJobStore();
    const failing = wrapManager(broken, {
      claimJobs: () => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })),
    });
    const logger = new CapturingLogger();
    shell = new JobExecutorShell({ tenants: { good, broken: failing }, registry, logger });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await broken.adder({ registry }).addJob(Work, (w) => w.run());
    const ids = await good
      .adder({ registry })
      .addJobs(Array.from({ length: 20 }, () => ({ target: Work, call: (w: Work) => w.run() })));
    await waitFor(
      async () => (await good.countJobs()).find((c) => c.status === 'done')?.count === ids.length,
      'the good tenant to finish',
    );
    expect(seen.every((t) => t === 'good')).to.equal(true);
    expect(logger.errors().some((e) => e.obj.tenant === 'broken')).to.equal(true);
    expect(logger.errors().some((e) => e.obj.tenant === 'good')).to.equal(false);
    expect((await broken.listJobs())[0].status).to.equal('new');
  });
});
