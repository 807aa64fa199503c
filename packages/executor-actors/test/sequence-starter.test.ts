import 'reflect-metadata';
import { expect } from 'chai';
import {
  getSequenceRun,
  InvalidOptionError,
  JobRegistry,
  listSequenceRuns,
  MemoryJobStore,
  onSuccess,
  registerSequenceStarter,
  Retry,
  runWithJobContext,
  scheduleSequence,
  ScheduleManager,
  Scheduler,
  SequenceRegistry,
  SequenceStarter,
  sequenceJob,
  step,
  deserializeResult,
  type JobContext,
  type JobRecord,
  type SequenceRun,
} from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import { Container } from 'inversify';
import { InversifyContainerFactory, JobExecutorShell } from '../src/index.js';
import { CapturingLogger, waitFor } from './helpers.js';

const ran: string[] = [];

class Steps {
  first(label: string): void {
    ran.push(`first:${label}`);
  }
  second(): void {
    ran.push('second');
  }
}

const sequences = new SequenceRegistry();
const pair = sequences.define({
  name: 'pair',
  steps: [
    step({ name: 'first', target: Steps, call: (j) => j.first('defined') }),
    step({ name: 'second', target: Steps, call: (j) => j.second(), start: onSuccess('first') }),
  ],
});

function newRegistry(): JobRegistry {
  return new JobRegistry().register('seq-starter.steps', Steps);
}

describe('sequences: the starter job (oddjob.sequence)', function () {
  let shell: JobExecutorShell | undefined;
  beforeEach(() => (ran.length = 0));
  afterEach(async function () {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  async function ended(store: MemoryJobStore, run: string): Promise<SequenceRun> {
    let read: SequenceRun | null = null;
    await waitFor(async () => (read = await getSequenceRun(store, run))?.status === 'succeeded', `run ${run}`);
    return read!;
  }

  it('starts a run from the executor’s registry; the run id is the starter job’s id', async function () {
    const registry = newRegistry();
    const store = new MemoryJobStore();
    shell = new JobExecutorShell({ store, registry, sequences, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
    const starter = await store.adder({ registry }).addJob(sequenceJob('pair', { first: { args: ['given'] } }));
    const run = await ended(store, starter);
    expect(run.run).to.equal(starter);
    expect(ran).to.deep.equal(['first:given', 'second']);
    const done = (await store.getJob(starter))!;
    expect(done.status).to.equal('done');
    expect(deserializeResult(done.result, starter)).to.deep.equal({
      run: starter,
      jobIds: { first: run.steps[0].jobId, second: run.steps[1].jobId },
    });
  });

  it('fails at once, naming the known sequences, for a name the executor does not define', async function () {
    const registry = newRegistry();
    const store = new MemoryJobStore();
    shell = new JobExecutorShell({ store, registry, sequences, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    const id = await store.adder({ registry }).addJob(sequenceJob('nope'), { retry: Retry.fixed(5, 10) });
    const job = await store.waitForJob(id, { timeoutMs: 20_000 });
    expect([job.status, job.attempts]).to.deep.equal(['failed', 1]);
    expect(job.lastError).to.deep.include({
      name: 'UnknownSequenceError',
      message: 'no sequence is defined as "nope" (defined: "pair")',
    });
  });

  it('fails at once, naming the option, on an executor given no sequences', async function () {
    const registry = newRegistry();
    registerSequenceStarter(registry);
    const store = new MemoryJobStore();
    shell = new JobExecutorShell({ store, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    const id = await store.adder({ registry }).addJob(sequenceJob('pair'), { retry: Retry.fixed(5, 10) });
    const job = await store.waitForJob(id, { timeoutMs: 20_000 });
    expect([job.status, job.attempts, job.lastError!.name]).to.deep.equal(['failed', 1, 'JobAbortError']);
    expect(job.lastError!.message).to.contain('give its shell the `sequences` option');
  });

  it('answers the starter itself whatever the container factory (inversify, the starter bound to itself)', async function () {
    const registry = newRegistry();
    registerSequenceStarter(registry);
    // The factory binds every registered target, the starter too: the shell must still answer its own.
    const containers = new InversifyContainerFactory(new Container(), { registry });
    const store = new MemoryJobStore();
    shell = new JobExecutorShell({ store, registry, containers, sequences, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    const starter = await store.adder({ registry }).addJob(sequenceJob('pair'));
    expect((await ended(store, starter)).run).to.equal(starter);
  });

  it('adds the run to the store (tenant) the starter came from', async function () {
    const registry = newRegistry();
    const [a, b] = [new MemoryJobStore(), new MemoryJobStore()];
    shell = new JobExecutorShell({ tenants: { a, b }, registry, sequences, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    const starter = await b.adder({ registry }).addJob(sequenceJob('pair'));
    expect((await ended(b, starter)).steps).to.have.length(2);
    expect(await a.listJobs()).to.deep.equal([]);
  });

  it('refuses a sequences option that is not a registry', function () {
    expect(
      () =>
        new JobExecutorShell({
          store: new MemoryJobStore(),
          sequences: {} as SequenceRegistry,
          logger: new CapturingLogger(),
        }),
    ).to.throw(InvalidOptionError, 'sequences');
  });

  it('re-run after a crash (its lease expired) answers the run its first attempt added: no second run', async function () {
    const clock = new TestClock();
    const registry = newRegistry();
    registerSequenceStarter(registry);
    const store = new MemoryJobStore({ clock });
    const adder = store.adder({ registry });
    const starter = await adder.addJob(sequenceJob('pair'));
    // The first attempt: claimed by an executor that adds the run, as the starter does, then dies
    // before its outcome is written.
    const [claimed] = await store.claimJobs({ queues: ['default'], limit: 1, owner: 'doomed', leaseMs: 5_000 });
    expect(claimed.id).to.equal(starter);
    const ctx = { jobId: starter, tenant: undefined } as unknown as JobContext;
    const dying = SequenceStarter.withDeps({ sequences, adderFor: () => adder });
    const first = await runWithJobContext(ctx, () => dying.start('pair'));
    expect(first.run).to.equal(starter);
    clock.advance(5_001);
    shell = new JobExecutorShell({ store, registry, sequences, clock, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
    const again = await store.waitForJob(starter, { timeoutMs: 20_000 });
    expect([again.status, again.attempts]).to.deep.equal(['done', 2]);
    expect(deserializeResult(again.result, starter)).to.deep.equal(first);
    await ended(store, starter);
    const steps = await store.listJobs({ sequence: 'pair' });
    expect(steps.map((j) => j.id)).to.deep.equal(Object.values(first.jobIds));
    expect(ran).to.deep.equal(['first:defined', 'second']);
    expect((await listSequenceRuns(store)).map((r) => r.run)).to.deep.equal([starter]);
  });

  it('a schedule fires a sequence: each firing starts one run, with the schedule’s overrides', async function () {
    const clock = new TestClock(Date.UTC(2030, 0, 1, 12, 0, 0));
    const registry = newRegistry();
    registerSequenceStarter(registry);
    const store = new MemoryJobStore({ clock });
    const manager = new ScheduleManager({ store, writer: store, registry, clock });
    const schedule = await scheduleSequence(manager, 'nightly-pair', pair, {
      cron: '0 2 * * *',
      overrides: { first: { args: ['scheduled'] } },
    });
    expect([schedule.target, schedule.method]).to.deep.equal(['oddjob.sequence', 'start']);
    expect(schedule.nextFireAt!.toISOString()).to.equal('2030-01-02T02:00:00.000Z');
    const scheduler = new Scheduler({ store, writer: store, registry, clock });
    shell = new JobExecutorShell({
      store,
      registry,
      sequences,
      clock,
      schedulers: [scheduler],
      schedulePollMs: 10,
      logger: new CapturingLogger(),
    });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
    await new Promise((r) => setTimeout(r, 50));
    expect(await listSequenceRuns(store)).to.deep.equal([]);
    clock.set(new Date('2030-01-02T02:00:01Z'));
    await waitFor(async () => (await listSequenceRuns(store))[0]?.status === 'succeeded', 'the first firing’s run');
    clock.set(new Date('2030-01-03T02:00:01Z'));
    await waitFor(async () => (await listSequenceRuns(store)).length === 2, 'the second firing’s run');
    const runs = await listSequenceRuns(store);
    const starters: JobRecord[] = await store.listJobs({ target: 'oddjob.sequence' });
    expect(runs.map((r) => r.run).sort()).to.deep.equal(starters.map((j) => j.id).sort());
    expect(starters.map((j) => (j.metadata['oddjob.schedule'] as { name: string }).name)).to.deep.equal([
      'nightly-pair',
      'nightly-pair',
    ]);
    await waitFor(async () => (await listSequenceRuns(store)).every((r) => r.status === 'succeeded'), 'both runs');
    expect(ran.filter((r) => r === 'first:scheduled')).to.have.length(2);
  });

  it('scheduleSequence refuses overrides of an unknown step, and a manager whose registry lacks the starter', async function () {
    const store = new MemoryJobStore();
    const manager = new ScheduleManager({ store, writer: store, registry: newRegistry() });
    let e: unknown = null;
    await scheduleSequence(manager, 'x', pair, { cron: '@daily' }).catch((err: unknown) => (e = err));
    expect((e as Error).message).to.contain('registerSequenceStarter(registry)');
    e = null;
    await scheduleSequence(manager, 'x', pair, { cron: '@daily', overrides: { third: {} } }).catch(
      (err: unknown) => (e = err),
    );
    expect((e as Error).message).to.contain('overrides for step "third": the sequence has no such step');
    expect(await store.listSchedules()).to.deep.equal([]);
  });
});
