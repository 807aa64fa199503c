import 'reflect-metadata';
import { expect } from 'chai';
import {
  JobRegistry,
  MemoryJobStore,
  Retry,
  StorageOperationError,
  StorageUnavailableError,
  type ClaimRequest,
} from '@oddjob/core';
import { JobExecutorShell, type ExecutorEventName } from '../src/index.js';
import { CapturingLogger, sleep, waitFor, wrapManager } from './helpers.js';

describe('JobExecutorShell: events and permanent storage errors', () => {
  it('tells job started / succeeded / retry / failed and executor started / stopping to typed listeners', async () => {
    const registry = new JobRegistry();
    class Task {
      run(ok: boolean): void {
        if (!ok) throw new Error('nope');
      }
    }
    registry.register('task', Task);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    const ok = await adder.addJob(Task, (t) => t.run(true));
    const bad = await adder.addJob(Task, (t) => t.run(false), { retry: Retry.fixed(2, 10) });
    const seen: [ExecutorEventName, string][] = [];
    const shell = new JobExecutorShell({ store, registry, logger: new CapturingLogger() });
    shell.on('executor:started', ({ owner }) => seen.push(['executor:started', owner]));
    shell.on('executor:stopping', ({ timeoutMs }) => seen.push(['executor:stopping', String(timeoutMs)]));
    shell.on('job:started', ({ job }) => seen.push(['job:started', job.id]));
    shell.on('job:succeeded', ({ job }) => seen.push(['job:succeeded', job.id]));
    shell.on('job:retry', ({ job, error }) => seen.push(['job:retry', `${job.id}:${error.message}`]));
    shell.on('job:failed', ({ job, error }) => seen.push(['job:failed', `${job.id}:${error.message}`]));
    shell.on('job:failed', () => {
      throw new Error('a throwing listener is logged and harms nothing');
    });
    try {
      shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
      await waitFor(() => seen.some(([e]) => e === 'job:failed'), 'the failing job failed for good');
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
    }
    expect(seen[0]).to.deep.equal(['executor:started', shell.owner]);
    expect(
      seen
        .filter(([e]) => e === 'job:started')
        .map(([, id]) => id)
        .sort(),
    ).to.deep.equal([ok, bad, bad].sort());
    expect(seen).to.deep.include(['job:succeeded', ok]);
    expect(seen).to.deep.include(['job:retry', `${bad}:nope`]);
    expect(seen).to.deep.include(['job:failed', `${bad}:nope`]);
    expect(seen.at(-1)).to.deep.equal(['executor:stopping', '1000']);
  });

  it("carries each run's duration on the executor's clock in the outcome events", async () => {
    // The clock moves only when a job moves it: a run's duration is exactly what its method added.
    let t = Date.UTC(2026, 0, 1);
    const clock = { now: () => new Date(t) };
    const registry = new JobRegistry();
    class Timed {
      run(ms: number, ok: boolean): void {
        t += ms;
        if (!ok) throw new Error('nope');
      }
    }
    registry.register('timed', Timed);
    const store = new MemoryJobStore({ clock });
    const adder = store.adder({ registry });
    const durations = new Map<string, number | null>();
    const shell = new JobExecutorShell({ store, registry, clock, logger: new CapturingLogger() });
    shell.on('job:succeeded', ({ job, durationMs }) => durations.set(job.id, durationMs));
    shell.on('job:failed', ({ job, durationMs }) => durations.set(job.id, durationMs));
    // One job at a time: a run's duration ends at its stored outcome, so a job still running then
    // would add its time to the other's.
    const runOne = async (add: () => Promise<string>): Promise<string> => {
      const id = await add();
      await waitFor(() => durations.has(id), `job ${id} stored`);
      return id;
    };
    let quick = '';
    let failing = '';
    let missing = '';
    try {
      shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
      quick = await runOne(() => adder.addJob(Timed, (j) => j.run(250, true)));
      failing = await runOne(() => adder.addJob(Timed, (j) => j.run(40, false), { retry: Retry.none() }));
      missing = await runOne(() => adder.addJob({ target: 'not-registered-here', method: 'run', args: [] }));
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
    }
    expect(durations.get(quick)).to.equal(250);
    expect(durations.get(failing)).to.equal(40);
    expect(durations.get(missing)).to.equal(0); // started, and failed at once resolving its target
  });

  it('a permanent error from the claim fails the queue once, visibly, instead of backing off forever', async () => {
    const store = new MemoryJobStore();
    let claims = 0;
    const broken = new StorageOperationError(
      'sqlserver',
      'claim',
      'claim statement is invalid: relation "picked" does not exist',
    );
    const manager = wrapManager(store, {
      claimJobs: (_r: ClaimRequest) => {
        claims++;
        return Promise.reject(broken);
      },
    });
    const logger = new CapturingLogger();
    const shell = new JobExecutorShell({ store: manager, registry: new JobRegistry(), logger });
    const failures: { queue: string; operation: string; error: unknown }[] = [];
    shell.on('queue:failed', (e) => failures.push(e));
    try {
      shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
      await waitFor(() => failures.length === 1, 'queue:failed');
      await sleep(200); // twenty pulses: none may claim again
      expect(claims).to.equal(1);
      expect(failures).to.deep.equal([{ queue: 'default', operation: 'claim', error: broken }]);
      expect(shell.queueState('default')).to.equal('failed');
      expect(shell.queueFailure('default')).to.deep.equal({ operation: 'claim', error: broken });
      const errors = logger.errors();
      expect(errors).to.have.length(1);
      expect(errors[0].msg).to.match(/permanent storage error \(operation "claim"\)/);
      expect(logger.entries.some((e) => /backing off/.test(e.msg ?? ''))).to.equal(false);
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
    }
    expect(shell.queueState('default')).to.equal(undefined);
  });

  it('a transient storage error still backs off and recovers', async () => {
    const registry = new JobRegistry();
    class Task {
      run(): void {}
    }
    registry.register('task', Task);
    const store = new MemoryJobStore();
    await store.adder({ registry }).addJob(Task, (t) => t.run());
    let failuresLeft = 2;
    const manager = wrapManager(store, {
      claimJobs: (r: ClaimRequest) =>
        failuresLeft-- > 0
          ? Promise.reject(new StorageUnavailableError('postgres', 'claim', 'connection refused'))
          : store.claimJobs(r),
    });
    const logger = new CapturingLogger();
    const shell = new JobExecutorShell({ store: manager, registry, logger });
    const failed: unknown[] = [];
    shell.on('queue:failed', (e) => failed.push(e));
    try {
      shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
      await waitFor(
        async () => (await store.listJobs({ status: 'done' })).length === 1,
        'the job ran once storage was back',
      );
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
    }
    expect(failed).to.deep.equal([]);
    expect(logger.errors().filter((e) => /backing off/.test(e.msg ?? ''))).to.have.length(2);
  });

  it('accepts the store as `store` and still as the deprecated `manager`, refusing two different ones', () => {
    const a = new MemoryJobStore();
    const b = new MemoryJobStore();
    expect(() => new JobExecutorShell({ store: a, manager: b, logger: new CapturingLogger() })).to.throw(
      /either store or/,
    );
    expect(() => new JobExecutorShell({ logger: new CapturingLogger() })).to.throw(/needs \{ store \}/);
    const s = new JobExecutorShell({ manager: a, logger: new CapturingLogger() });
    return s.shutdown();
  });
});
