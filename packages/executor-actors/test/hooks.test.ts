import 'reflect-metadata';
import { expect } from 'chai';
import { JobRegistry, MemoryJobStore, Retry, type ClaimedJob, type JobError } from '@oddjob/core';
import { JobExecutorShell, JobQueueCoordinator, type CoordinatorInit } from '../src/index.js';
import { CapturingLogger, gate, waitFor, wrapManager } from './helpers.js';

describe('JobQueueCoordinator hooks', () => {
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  it('calls onJobSuccess / onJobRetry / onJobFailed of a subclass, with their arguments, only after the write', async () => {
    const registry = new JobRegistry();
    const attempts = new Map<string, number>();
    class Task {
      run(name: string, failures: number) {
        const n = (attempts.get(name) ?? 0) + 1;
        attempts.set(name, n);
        if (n <= failures) throw new TypeError(`${name} #${n}`);
      }
    }
    registry.register('task', Task);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    const ok = await adder.addJob(Task, (j) => j.run('ok', 0));
    const retried = await adder.addJob(Task, (j) => j.run('retried', 1), { retry: Retry.fixed(2, 0) });
    const failed = await adder.addJob(Task, (j) => j.run('failed', 5), { retry: Retry.none() });

    const events: string[] = [];
    const manager = wrapManager(store, {
      recordOutcomes: async (outcomes) => {
        const checks = await store.recordOutcomes(outcomes);
        outcomes.forEach((o, i) => events.push(`write ${o.kind} ${o.lease.jobId} ${checks[i]}`));
        return checks;
      },
    });
    const retries: { job: ClaimedJob; error: JobError; runAt: Date }[] = [];
    const failures: { job: ClaimedJob; error: JobError }[] = [];
    let initSeen: CoordinatorInit | undefined;
    class Auditing extends JobQueueCoordinator {
      constructor(init: CoordinatorInit) {
        super(init);
        initSeen = init;
      }
      override onJobSuccess(job: ClaimedJob) {
        events.push(`success ${job.id}`);
      }
      override async onJobRetry(job: ClaimedJob, error: JobError, runAt: Date) {
        events.push(`retry ${job.id}`);
        retries.push({ job, error, runAt });
      }
      override onJobFailed(job: ClaimedJob, error: JobError) {
        events.push(`failed ${job.id}`);
        failures.push({ job, error });
      }
    }
    shell = new JobExecutorShell({ manager, registry, coordinator: Auditing, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await waitFor(() => events.filter((e) => !e.startsWith('write')).length === 4, 'four hooks');

    expect(initSeen?.queue).to.equal('default');
    for (const [hook, id] of [
      ['success', ok],
      ['retry', retried],
      ['failed', failed],
    ] as const) {
      const hookAt = events.indexOf(`${hook} ${id}`);
      const kind = hook === 'success' ? 'done' : hook;
      const writeAt = events.indexOf(`write ${kind} ${id} ok`);
      expect(writeAt, `${hook} written`).to.be.greaterThan(-1);
      expect(hookAt, `${hook} after its write`).to.be.greaterThan(writeAt);
    }
    expect(events.indexOf(`success ${retried}`)).to.be.greaterThan(events.indexOf(`write done ${retried} ok`));
    // One worker, jobs in id order: the hooks come in the order the outcomes were written.
    expect(events.filter((e) => !e.startsWith('write'))).to.deep.equal([
      `success ${ok}`,
      `retry ${retried}`,
      `failed ${failed}`,
      `success ${retried}`,
    ]);
    expect(retries[0].job.id).to.equal(retried);
    expect(retries[0].job.attempts).to.equal(1);
    expect(retries[0].error).to.include({ name: 'TypeError', message: 'retried #1' });
    expect(retries[0].runAt).to.be.instanceOf(Date);
    expect(failures[0].job.id).to.equal(failed);
    expect(failures[0].error).to.include({ name: 'TypeError', message: 'failed #1' });
  });

  it('logs a throwing or rejecting hook and carries on', async () => {
    const registry = new JobRegistry();
    class Task {
      run() {}
    }
    registry.register('task', Task);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    await adder.addJobs([1, 2, 3, 4].map(() => ({ target: Task, call: (j: Task) => j.run() })));
    let calls = 0;
    class Faulty extends JobQueueCoordinator {
      override onJobSuccess(): void | Promise<void> {
        calls++;
        if (calls % 2 === 0) return Promise.reject(new Error('async hook broke'));
        throw new Error('hook broke');
      }
    }
    const logger = new CapturingLogger();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      shell = new JobExecutorShell({ manager: store, registry, coordinator: Faulty, logger });
      shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
      await waitFor(() => calls === 4, 'four hook calls');
      await shell.shutdown();
      expect((await store.listJobs({ status: 'done' })).length).to.equal(4);
      expect(logger.errors().filter((e) => /hook (threw|rejected)/.test(e.msg ?? '')).length).to.equal(4);
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('runs no hook when the write answers lease-lost (the job was cancelled while it ran)', async () => {
    const registry = new JobRegistry();
    const started = gate();
    const release = gate();
    class Slow {
      async run() {
        started.open();
        await release.promise;
      }
    }
    registry.register('slow', Slow);
    const store = new MemoryJobStore();
    const id = await store.adder({ registry }).addJob(Slow, (j) => j.run());
    const hooks: string[] = [];
    const checks: string[] = [];
    class Recording extends JobQueueCoordinator {
      override onJobSuccess() {
        hooks.push('success');
      }
      override onJobFailed() {
        hooks.push('failed');
      }
    }
    const manager = wrapManager(store, {
      recordOutcomes: async (o) => {
        const c = await store.recordOutcomes(o);
        checks.push(...c);
        return c;
      },
    });
    const logger = new CapturingLogger();
    shell = new JobExecutorShell({ manager, registry, coordinator: Recording, logger });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await started.promise;
    expect(await store.cancelJob(id)).to.equal(true);
    release.open();
    await waitFor(() => checks.length === 1, 'the write');
    expect(checks).to.deep.equal(['lease-lost']);
    await shell.shutdown();
    expect(hooks).to.deep.equal([]);
    expect((await store.getJob(id))!.status).to.equal('cancelled');
    expect(logger.entries.some((e) => e.level === 'warn' && /lease was lost/.test(e.msg ?? ''))).to.equal(true);
  });

  it('calls onSaturated on a pulse when all room is taken', async () => {
    const registry = new JobRegistry();
    const release = gate();
    class Slow {
      async run() {
        await release.promise;
      }
    }
    registry.register('slow', Slow);
    const store = new MemoryJobStore();
    await store.adder({ registry }).addJobs([1, 2, 3].map(() => ({ target: Slow, call: (j: Slow) => j.run() })));
    const seen: { pending: number; capacity: number }[] = [];
    class Watching extends JobQueueCoordinator {
      override onSaturated(info: { queue: string; pending: number; capacity: number }) {
        seen.push(info);
      }
    }
    shell = new JobExecutorShell({ manager: store, registry, coordinator: Watching, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await waitFor(() => seen.length > 0, 'saturation');
    expect(seen[0]).to.deep.equal({ queue: 'default', pending: 2, capacity: 2 });
    release.open();
  });
});
