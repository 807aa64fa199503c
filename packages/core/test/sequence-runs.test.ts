import { expect } from 'chai';
import {
  always,
  cancelSequenceRun,
  getSequenceRun,
  listSequenceRuns,
  MemoryJobStore,
  onFailure,
  onMixed,
  onSuccess,
  SequenceRegistry,
  startSequence,
  type JobQueueAdder,
  type SequenceRun,
  type StepStatus,
} from '../src/index.js';
import { TestClock } from '../src/testing/index.js';

const plain = (n: number) => ({ call: { target: 'seq-runs.plain', method: 'run', args: [n] } });

/** Read runs of a store whose jobs the test ends by hand (claim, then an outcome), no executor. */
describe('sequences: reading and cancelling runs', function () {
  let clock: TestClock;
  let store: MemoryJobStore;
  let adder: JobQueueAdder;
  const sequences = new SequenceRegistry();
  sequences.define({
    name: 'etl',
    steps: [
      { name: 'extract', ...plain(1) },
      { name: 'load', ...plain(2), start: onSuccess('extract') },
      { name: 'alert', ...plain(3), start: onFailure('extract') },
      { name: 'tidy', ...plain(4), start: always('load', 'alert') },
    ],
  });
  sequences.define({
    name: 'fan',
    steps: [
      { name: 'a', ...plain(1) },
      { name: 'b', ...plain(2) },
      { name: 'mixed', ...plain(3), start: onMixed('a', 'b') },
    ],
  });

  beforeEach(function () {
    clock = new TestClock();
    store = new MemoryJobStore({ clock });
    adder = store.adder();
  });

  /** Claims every claimable job, ends the one of `step` as `kind` and gives the rest back. */
  async function end(run: string, step: string, kind: 'done' | 'failed'): Promise<void> {
    const jobId = (await getSequenceRun(store, run))!.steps.find((s) => s.step === step)!.jobId;
    const claimed = await store.claimJobs({ queues: ['default'], limit: 100, owner: 'test', leaseMs: 60_000 });
    const job = claimed.find((j) => j.id === jobId);
    expect(job, `step ${step} is claimable`).to.not.equal(undefined);
    const lease = (id: string) => ({ jobId: id, token: claimed.find((j) => j.id === id)!.lease.token });
    const others = claimed
      .filter((j) => j.id !== jobId)
      .map((j) => ({ kind: 'released' as const, lease: lease(j.id) }));
    const outcome =
      kind === 'done'
        ? { kind, lease: lease(jobId) }
        : { kind, lease: lease(jobId), error: { name: 'Error', message: 'boom' } };
    expect(await store.recordOutcomes([outcome, ...others])).to.deep.equal(['ok', ...others.map(() => 'ok')]);
    clock.advance(1);
  }

  const statuses = (run: SequenceRun): Record<string, StepStatus> =>
    Object.fromEntries(run.steps.map((s) => [s.step, s.status]));

  it('takes the failure branch: the on-success sibling is skipped, the failure is handled', async function () {
    const run = await startSequence(adder, sequences, 'etl');
    let read = (await getSequenceRun(store, run))!;
    expect([read.run, read.name, read.status, read.finishedAt]).to.deep.equal([run, 'etl', 'running', null]);
    expect(statuses(read)).to.deep.equal({ extract: 'queued', load: 'waiting', alert: 'waiting', tidy: 'waiting' });
    await end(run, 'extract', 'failed');
    read = (await getSequenceRun(store, run))!;
    expect(statuses(read)).to.deep.equal({ extract: 'failed', load: 'skipped', alert: 'queued', tidy: 'waiting' });
    expect(read.steps[1].lastError!.name).to.equal('DependencyError');
    expect(read.steps[1].after!.parents).to.deep.equal([
      { step: 'extract', job: read.steps[0].jobId, when: 'succeeded' },
    ]);
    expect(read.status).to.equal('running');
    await end(run, 'alert', 'done');
    await end(run, 'tidy', 'done');
    read = (await getSequenceRun(store, run))!;
    expect(statuses(read)).to.deep.equal({ extract: 'failed', load: 'skipped', alert: 'succeeded', tidy: 'succeeded' });
    expect(read.status).to.equal('succeeded');
    expect(read.finishedAt).to.be.instanceOf(Date);
  });

  it('fails a run whose failure branch failed too', async function () {
    const run = await startSequence(adder, sequences, 'etl');
    await end(run, 'extract', 'failed');
    await end(run, 'alert', 'failed');
    await end(run, 'tidy', 'done');
    expect((await getSequenceRun(store, run))!.status).to.equal('failed');
  });

  it('runs an on-mixed step when one parent succeeded and one failed, and skips it when both succeeded', async function () {
    const mixed = await startSequence(adder, sequences, 'fan');
    await end(mixed, 'a', 'done');
    await end(mixed, 'b', 'failed');
    expect(statuses((await getSequenceRun(store, mixed))!).mixed).to.equal('queued');
    await end(mixed, 'mixed', 'done');
    expect((await getSequenceRun(store, mixed))!.status).to.equal('succeeded');
    const same = await startSequence(adder, sequences, 'fan');
    await end(same, 'a', 'done');
    await end(same, 'b', 'done');
    const read = (await getSequenceRun(store, same))!;
    expect(statuses(read)).to.deep.equal({ a: 'succeeded', b: 'succeeded', mixed: 'skipped' });
    expect(read.status).to.equal('succeeded');
  });

  it('cancels every unfinished step of a run, children first, and reads it as cancelled', async function () {
    const run = await startSequence(adder, sequences, 'etl');
    const other = await startSequence(adder, sequences, 'etl');
    expect(await cancelSequenceRun(store, run)).to.deep.equal(['tidy', 'alert', 'load', 'extract']);
    const read = (await getSequenceRun(store, run))!;
    expect(statuses(read)).to.deep.equal({
      extract: 'cancelled',
      load: 'cancelled',
      alert: 'cancelled',
      tidy: 'cancelled',
    });
    expect(read.status).to.equal('cancelled');
    expect(await cancelSequenceRun(store, run)).to.deep.equal([]);
    expect((await getSequenceRun(store, other))!.status).to.equal('running');
  });

  it('leaves ended steps as they are when cancelling', async function () {
    const run = await startSequence(adder, sequences, 'etl');
    await end(run, 'extract', 'done');
    expect(await cancelSequenceRun(store, run)).to.deep.equal(['tidy', 'load']);
    // alert was skipped by extract's success; tidy waited for load and alert: the user cancelled it.
    expect(statuses((await getSequenceRun(store, run))!)).to.deep.equal({
      extract: 'succeeded',
      load: 'cancelled',
      alert: 'skipped',
      tidy: 'cancelled',
    });
  });

  it('answers null for a run it has no step of', async function () {
    expect(await getSequenceRun(store, '01900000-0000-7000-8000-000000000000')).to.equal(null);
  });

  it('lists runs newest first, of one sequence or all, at most limit', async function () {
    const first = await startSequence(adder, sequences, 'etl');
    clock.advance(1000);
    const fan = await startSequence(adder, sequences, 'fan');
    clock.advance(1000);
    const last = await startSequence(adder, sequences, 'etl');
    await adder.addJob({ target: 'not-a-step', method: 'run', args: [] });
    expect((await listSequenceRuns(store)).map((r) => r.run)).to.deep.equal([last, fan, first]);
    expect((await listSequenceRuns(store, { name: 'etl' })).map((r) => r.run)).to.deep.equal([last, first]);
    expect((await listSequenceRuns(store, { limit: 1 })).map((r) => [r.run, r.name, r.status])).to.deep.equal([
      [last, 'etl', 'running'],
    ]);
    expect((await listSequenceRuns(store, { name: 'fan' }))[0].steps.map((s) => s.step)).to.deep.equal([
      'a',
      'b',
      'mixed',
    ]);
  });
});
