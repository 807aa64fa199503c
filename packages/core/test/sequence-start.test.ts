import { expect } from 'chai';
import {
  defineSequence,
  job,
  JobRegistry,
  MemoryJobStore,
  onFailure,
  onMixed,
  onSuccess,
  planSequence,
  SequenceOverrideError,
  SequenceRegistry,
  sequenceStepKey,
  startSequence,
  step,
  UnknownJobTargetError,
  UnknownSequenceError,
  deserializeArgs,
  type JobRecord,
} from '../src/index.js';

const registry = new JobRegistry();

@job('seq-start.etl', registry)
class Etl {
  extract(day: string, full = false): string {
    return `${day}:${String(full)}`;
  }
}

class NotRegistered {
  run(): void {}
}

const plain = (n: number) => ({ call: { target: 'seq-start.plain', method: 'run', args: [n] } });

const etl = defineSequence({
  name: 'etl',
  steps: [
    step({
      name: 'extract',
      target: Etl,
      call: (j) => j.extract('2030-01-01'),
      options: { queue: 'etl', priority: 5 },
    }),
    { name: 'load', ...plain(1), start: onSuccess('extract') },
    { name: 'alert', ...plain(2), start: onFailure('extract') },
    { name: 'report', ...plain(3), start: onMixed('load', 'alert') },
  ],
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('sequences: starting', function () {
  let store: MemoryJobStore;
  let sequences: SequenceRegistry;
  beforeEach(function () {
    store = new MemoryJobStore();
    sequences = new SequenceRegistry();
    sequences.define(etl);
  });

  const stepsOf = (run: string): Promise<JobRecord[]> => store.listJobs({ sequenceRun: run });

  it('plans one batch entry per step: tag, unique key, parents as batch indexes', function () {
    const run = '01900000-0000-7000-8000-000000000001';
    const specs = planSequence(etl, run);
    expect(specs).to.have.length(4);
    expect(specs.map((s) => s.options!.sequence)).to.deep.equal(
      ['extract', 'load', 'alert', 'report'].map((name) => ({ name: 'etl', run, step: name })),
    );
    expect(specs.map((s) => s.options!.uniqueKey)).to.deep.equal(
      ['extract', 'load', 'alert', 'report'].map((name) => `oddjob.sequence:${run}:${name}`),
    );
    expect(specs[0].options!.after).to.equal(undefined);
    expect([specs[1].options!.after, specs[1].options!.afterRule]).to.deep.equal([
      [{ job: 0, when: 'succeeded' }],
      'each',
    ]);
    expect([specs[2].options!.after, specs[2].options!.afterRule]).to.deep.equal([
      [{ job: 0, when: 'failed' }],
      'each',
    ]);
    expect([specs[3].options!.after, specs[3].options!.afterRule]).to.deep.equal([
      [
        { job: 1, when: 'finished' },
        { job: 2, when: 'finished' },
      ],
      'mixed',
    ]);
    expect([specs[0].options!.queue, specs[0].options!.priority]).to.deep.equal(['etl', 5]);
    expect((specs[0] as { target?: unknown }).target).to.equal(Etl);
  });

  it('adds every step in one batch, tagged and linked by stored id; answers a UUID v7 run id', async function () {
    const run = await startSequence(store.adder({ registry }), sequences, 'etl');
    expect(run).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const jobs = await stepsOf(run);
    expect(jobs.map((j) => j.sequence!.step)).to.deep.equal(['extract', 'load', 'alert', 'report']);
    expect(jobs.every((j) => j.sequence!.name === 'etl' && j.sequence!.run === run)).to.equal(true);
    const [extract, load, alert, report] = jobs;
    expect([extract.target, extract.method, extract.queue, extract.priority]).to.deep.equal([
      'seq-start.etl',
      'extract',
      'etl',
      5,
    ]);
    expect(deserializeArgs(extract.args, extract.id)).to.deep.equal(['2030-01-01']);
    expect(extract.after).to.equal(null);
    expect(load.after).to.deep.equal({ rule: 'each', parents: [{ job: extract.id, when: 'succeeded' }] });
    expect(alert.after).to.deep.equal({ rule: 'each', parents: [{ job: extract.id, when: 'failed' }] });
    expect(report.after).to.deep.equal({
      rule: 'mixed',
      parents: [
        { job: load.id, when: 'finished' },
        { job: alert.id, when: 'finished' },
      ],
    });
    expect(jobs.map((j) => j.uniqueKey)).to.deep.equal(jobs.map((j) => sequenceStepKey(run, j.sequence!.step)));
    expect((await store.listJobs({ sequence: 'etl' })).map((j) => j.id)).to.deep.equal(jobs.map((j) => j.id));
  });

  it('gives a run other arguments and options per step, leaving the definition as it is', async function () {
    const run = await startSequence(store.adder({ registry }), sequences, 'etl', {
      overrides: {
        extract: { args: ['2031-02-03', true], queue: 'etl-big' },
        load: { args: ['x'], priority: -3, metadata: { why: 'rerun' } },
      },
    });
    const [extract, load, alert] = await stepsOf(run);
    expect(deserializeArgs(extract.args, extract.id)).to.deep.equal(['2031-02-03', true]);
    expect([extract.method, extract.queue, extract.priority]).to.deep.equal(['extract', 'etl-big', 5]);
    expect(deserializeArgs(load.args, load.id)).to.deep.equal(['x']);
    expect([load.priority, load.metadata]).to.deep.equal([-3, { why: 'rerun' }]);
    expect(deserializeArgs(alert.args, alert.id)).to.deep.equal([2]);
    const again = await startSequence(store.adder({ registry }), sequences, 'etl');
    const [plainExtract] = await stepsOf(again);
    expect(deserializeArgs(plainExtract.args, plainExtract.id)).to.deep.equal(['2030-01-01']);
  });

  it('refuses overrides of an unknown step, of options the sequence sets, or args that are not an array, writing nothing', async function () {
    const adder = store.adder({ registry });
    const unknown = await rejection(startSequence(adder, sequences, 'etl', { overrides: { lod: { args: [] } } }));
    expect(unknown).to.be.instanceOf(SequenceOverrideError);
    expect(unknown.message).to.equal(
      'sequence "etl" overrides for step "lod": the sequence has no such step (its steps: extract, load, alert, report)',
    );
    const owned = await rejection(
      startSequence(adder, sequences, 'etl', { overrides: { load: { uniqueKey: 'mine' } as never } }),
    );
    expect(owned.message).to.contain('"uniqueKey" is set by the sequence itself');
    const args = await rejection(
      startSequence(adder, sequences, 'etl', { overrides: { load: { args: 'x' as never } } }),
    );
    expect(args.message).to.contain('args must be an array');
    const queue = await rejection(startSequence(adder, sequences, 'etl', { overrides: { load: { queue: '' } } }));
    expect(queue.message).to.match(/^sequence "etl" overrides for step "load": .*queue/);
    expect(await store.listJobs()).to.deep.equal([]);
  });

  it('refuses an unknown sequence and a run id that is not a lowercase UUID', async function () {
    const adder = store.adder({ registry });
    expect(await rejection(startSequence(adder, sequences, 'nope'))).to.be.instanceOf(UnknownSequenceError);
    expect((await rejection(startSequence(adder, sequences, 'etl', { runId: 'run-1' }))).message).to.contain('runId');
    expect(await store.listJobs()).to.deep.equal([]);
  });

  it('is stored whole or not at all: one step the adder refuses writes none of the run', async function () {
    sequences.define({
      name: 'half',
      steps: [
        { name: 'fine', ...plain(1) },
        { name: 'unregistered', target: NotRegistered, call: (j: NotRegistered) => j.run(), start: onSuccess('fine') },
      ],
    });
    const e = await rejection(startSequence(store.adder({ registry }), sequences, 'half'));
    expect(e).to.be.instanceOf(UnknownJobTargetError);
    expect(await store.listJobs()).to.deep.equal([]);
  });

  it('starting again with the same run id adds nothing and answers the same run', async function () {
    const runId = '01900000-0000-7000-8000-0000000000aa';
    const adder = store.adder({ registry });
    expect(await startSequence(adder, sequences, 'etl', { runId })).to.equal(runId);
    const first = (await stepsOf(runId)).map((j) => j.id);
    expect(await startSequence(adder, sequences, 'etl', { runId })).to.equal(runId);
    expect((await store.listJobs()).map((j) => j.id)).to.deep.equal(first);
  });
});
