import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { expect } from 'chai';
import {
  JobAbortError,
  JobRegistry,
  MemoryJobStore,
  Retry,
  ambientContext,
  jobContext,
  withAmbient,
  AmbientContextError,
  deserializeResult,
  InvalidOptionError,
} from '@oddjob/core';
import { ImmediateRunner, JobExecutorShell, JobPersistedError } from '../src/index.js';
import { CapturingLogger, waitFor } from './helpers.js';

/** A mail service that is down for its first `failures` calls. */
class FakeMail {
  sent: string[] = [];
  calls = 0;
  constructor(private failures: number) {}
  send(to: string): void {
    this.calls++;
    if (this.failures-- > 0) throw new Error('mail service unavailable');
    this.sent.push(to);
  }
}

describe('ImmediateRunner (run now, store only on failure)', () => {
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  function setup(failures: number) {
    const mail = new FakeMail(failures);
    const registry = new JobRegistry();
    const seen: { attempt: number; maxAttempts: number }[] = [];
    class Confirmation {
      send(to: string): string {
        seen.push({ attempt: jobContext().attempt, maxAttempts: jobContext().maxAttempts });
        if (to === 'bad') throw new JobAbortError('no such address');
        mail.send(to);
        return `sent to ${to}`;
      }
    }
    registry.register('confirmation', Confirmation);
    const store = new MemoryJobStore();
    const logger = new CapturingLogger();
    const runner = new ImmediateRunner({ store, registry, logger });
    return { mail, registry, Confirmation, store, logger, runner, seen };
  }

  it('resolves with the value on success and writes nothing', async () => {
    const { runner, store, Confirmation, mail } = setup(0);
    expect(await runner.executeWithRetries(Confirmation, (j) => j.send('ada@x'))).to.equal('sent to ada@x');
    expect(mail.sent).to.deep.equal(['ada@x']);
    expect(await store.listJobs()).to.have.length(0);
  });

  it('refuses, before running, a job that would wait for parents or take a slot of a key', async () => {
    const { runner, Confirmation, mail, store } = setup(0);
    for (const options of [{ after: ['01a23b2a-b8e8-74fb-a087-6dd06b0be851'] }, { concurrencyKey: 'k' }]) {
      let error: unknown;
      try {
        await runner.executeWithRetries(Confirmation, (j) => j.send('ada@x'), options);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(InvalidOptionError);
    }
    expect(mail.calls).to.equal(0);
    expect(await store.listJobs()).to.have.length(0);
  });

  it('writes a done record in its own queue when asked, with its result and attempt 1', async () => {
    const { runner, store, Confirmation } = setup(0);
    await runner.executeWithRetries(Confirmation, (j) => j.send('ada@x'), { queue: 'mail', persistOnSuccess: true });
    const [rec] = await store.listJobs();
    expect(rec).to.include({ status: 'done', queue: 'mail', attempts: 1 });
    expect(deserializeResult(rec.result, rec.id)).to.equal('sent to ada@x');
    expect((await store.listRuns(rec.id)).map((r) => [r.attempt, r.state])).to.deep.equal([[1, 'done']]);
    expect(rec.metadata.oddjob).to.equal(undefined);
  });

  it('stores a failed first attempt; an executor retries it on schedule and the mail goes out once', async () => {
    const { runner, store, Confirmation, mail, registry, seen } = setup(1);
    const before = Date.now();
    let told: unknown;
    try {
      await runner.executeWithRetries(Confirmation, (j) => j.send('ada@x'), {
        queue: 'mail',
        retry: Retry.list([300, 10_000, 20_000]),
      });
    } catch (err) {
      told = err;
    }
    expect(told).to.be.instanceOf(JobPersistedError);
    const persisted = told as JobPersistedError;
    expect(persisted.stored).to.equal('retry');
    const rec = (await store.getJob(persisted.jobId, { runs: true }))!;
    expect(rec).to.include({ status: 'retry', queue: 'mail', attempts: 1, executorId: `immediate:${process.pid}` });
    expect(rec.runAt.getTime()).to.be.within(before + 300, Date.now() + 300);
    // The job's own policy, unshifted: the claim counts attempt 2 and the list goes on from its second delay.
    expect(rec.retry).to.deep.equal({ maxAttempts: 4, backoff: { kind: 'list', delaysMs: [300, 10_000, 20_000] } });
    expect(rec.lastError!.message).to.equal('mail service unavailable');
    expect(rec.runs!.map((r) => [r.attempt, r.state, r.error?.message])).to.deep.equal([
      [1, 'retry', 'mail service unavailable'],
    ]);
    expect(rec.metadata.oddjob).to.equal(undefined);
    expect(mail.sent).to.deep.equal([]);

    shell = new JobExecutorShell({ store, registry, logger: new CapturingLogger() });
    shell.startJobQueue('mail', { workers: 1, pulseMs: 10 });
    await waitFor(async () => (await store.getJob(persisted.jobId))?.status === 'done', 'the stored job to be done');
    expect(mail.sent).to.deep.equal(['ada@x']);
    expect(mail.calls).to.equal(2);
    // The retried run knows it is the second attempt of four.
    expect(seen).to.deep.equal([
      { attempt: 1, maxAttempts: 4 },
      { attempt: 2, maxAttempts: 4 },
    ]);
  });

  it('stores a JobAbortError as failed, never retried', async () => {
    const { runner, store, Confirmation } = setup(0);
    const err = await runner
      .executeWithRetries(Confirmation, (j) => j.send('bad'), { queue: 'mail' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(JobPersistedError);
    expect((err as JobPersistedError).stored).to.equal('failed');
    const rec = (await store.getJob((err as JobPersistedError).jobId))!;
    expect(rec.status).to.equal('failed');
    expect(rec.lastError!.name).to.equal('JobAbortError');
    expect(rec.attempts).to.equal(1);
  });

  it('runInBackground returns at once and stores a failure, logging it', async () => {
    const { runner, store, Confirmation, logger } = setup(1);
    const id = runner.runInBackground(Confirmation, (j) => j.send('ada@x'), {
      queue: 'mail',
      retry: Retry.fixed(3, 60_000),
    });
    expect(await store.getJob(id)).to.equal(null);
    await runner.idle();
    const rec = (await store.getJob(id))!;
    expect(rec).to.include({ status: 'retry', attempts: 1 });
    expect(rec.retry.maxAttempts).to.equal(3);
    expect(logger.entries.some((e) => e.level === 'warn' && e.obj.jobId === id)).to.equal(true);
  });

  it('refuses arguments that could not be stored before running anything', async () => {
    const { runner, Confirmation, mail } = setup(0);
    expect(() => runner.runInBackground(Confirmation, (j) => j.send((() => 1) as unknown as string))).to.throw(
      /args\[0\]/,
    );
    expect(mail.calls).to.equal(0);
  });

  it('stores the lines the failed attempt logged, under attempt 1', async () => {
    const registry = new JobRegistry();
    class Chatty {
      run(): void {
        jobContext().log('step %d', 1);
        jobContext().logAt('warn', 'giving up');
        throw new Error('down');
      }
    }
    registry.register('chatty', Chatty);
    const store = new MemoryJobStore();
    const runner = new ImmediateRunner({ store, registry, logger: new CapturingLogger(), host: 'box-a' });
    const err = (await runner.executeWithRetries(Chatty, (j) => j.run()).catch((e: unknown) => e)) as JobPersistedError;
    const logs = await store.listLogs(err.jobId);
    expect(logs.map((l) => [l.attempt, l.level, l.message])).to.deep.equal([
      [1, 'info', 'step 1'],
      [1, 'warn', 'giving up'],
    ]);
    expect((await store.listRuns(err.jobId))[0].host).to.equal('box-a');
  });

  it('refuses a store without insertAttempted, saying what it needs', () => {
    const store = { insertJobs: async () => [] } as unknown as MemoryJobStore;
    expect(() => new ImmediateRunner({ store })).to.throw(/insertAttempted/);
  });
});

describe('ambient context (run as the same user)', () => {
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  it('captures at enqueue and restores around every run, retries included', async () => {
    const request = new AsyncLocalStorage<{ userId: string }>();
    const ambient = ambientContext({ capture: () => request.getStore(), restore: (v, run) => request.run(v, run) });
    const registry = new JobRegistry();
    const seen: { lib: string | undefined; ctx: unknown; attempt: number }[] = [];
    const library = () => request.getStore()?.userId; // code the job calls, reading the app's own context
    class Report {
      make() {
        seen.push({ lib: library(), ctx: jobContext().ambient, attempt: jobContext().attempt });
        if (jobContext().attempt === 1) throw new Error('first attempt fails');
      }
    }
    registry.register('report', Report);
    const store = new MemoryJobStore();
    const adder = withAmbient(store.adder({ registry }), ambient);
    const id = await request.run({ userId: 'u-42' }, () =>
      adder.addJob(Report, (r) => r.make(), { retry: Retry.fixed(2, 10) }),
    );
    shell = new JobExecutorShell({ store, registry, ambient, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await waitFor(async () => (await store.getJob(id))?.status === 'done', 'the job to be done');
    expect(seen).to.deep.equal([
      { lib: 'u-42', ctx: { userId: 'u-42' }, attempt: 1 },
      { lib: 'u-42', ctx: { userId: 'u-42' }, attempt: 2 },
    ]);
  });

  it('refuses a captured value that is not plain JSON', async () => {
    const registry = new JobRegistry();
    class Noop {
      run() {}
    }
    registry.register('noop', Noop);
    const store = new MemoryJobStore();
    const adder = withAmbient(
      store.adder({ registry }),
      ambientContext({ capture: () => ({ at: new Date() }), restore: (_v, run) => run() }),
    );
    let err: unknown;
    await adder.addJob(Noop, (n) => n.run()).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(AmbientContextError);
    expect((err as Error).message).to.match(/ambient/);
    expect(await store.listJobs()).to.have.length(0);
  });
});
