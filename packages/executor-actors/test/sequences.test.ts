import 'reflect-metadata';
import { expect } from 'chai';
import {
  always,
  cancelSequenceRun,
  getSequenceRun,
  JobAbortError,
  JobRegistry,
  MemoryJobStore,
  onFailure,
  onMixed,
  onSuccess,
  SequenceRegistry,
  startSequence,
  step,
  type SequenceRun,
  type StepStatus,
} from '@oddjob/core';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, gate, waitFor } from './helpers.js';

const ran: string[] = [];
let held = gate();

class Etl {
  extract(fail: boolean): string {
    ran.push('extract');
    if (fail) throw new JobAbortError('the source is gone');
    return 'rows';
  }
  load(): void {
    ran.push('load');
  }
  alert(): void {
    ran.push('alert');
  }
  tidy(): void {
    ran.push('tidy');
  }
  /** Succeeds or fails as asked, under a name of its own. */
  part(name: string, ok: boolean): void {
    ran.push(name);
    if (!ok) throw new JobAbortError(`${name} failed`);
  }
  async slow(): Promise<void> {
    ran.push('slow');
    await held.promise;
  }
}

const registry = new JobRegistry().register('seq-e2e.etl', Etl);
const sequences = new SequenceRegistry();
sequences.define({
  name: 'branch',
  steps: [
    step({ name: 'extract', target: Etl, call: (j) => j.extract(false) }),
    step({ name: 'load', target: Etl, call: (j) => j.load(), start: onSuccess('extract') }),
    step({ name: 'alert', target: Etl, call: (j) => j.alert(), start: onFailure('extract') }),
    step({ name: 'tidy', target: Etl, call: (j) => j.tidy(), start: always('load', 'alert') }),
  ],
});
sequences.define({
  name: 'fan',
  steps: [
    step({ name: 'a', target: Etl, call: (j) => j.part('a', true) }),
    step({ name: 'b', target: Etl, call: (j) => j.part('b', false) }),
    step({ name: 'report', target: Etl, call: (j) => j.part('report', true), start: onMixed('a', 'b') }),
  ],
});
sequences.define({
  name: 'long',
  steps: [
    step({ name: 'slow', target: Etl, call: (j) => j.slow() }),
    step({ name: 'after', target: Etl, call: (j) => j.part('after', true), start: onSuccess('slow') }),
    // Queue 'elsewhere' runs nowhere here: the step stays queued, so cancel meets a queued step too.
    { name: 'parked', call: { target: 'seq-e2e.etl', method: 'tidy', args: [] }, options: { queue: 'elsewhere' } },
  ],
});

const statuses = (run: SequenceRun): Record<string, StepStatus> =>
  Object.fromEntries(run.steps.map((s) => [s.step, s.status]));

describe('sequences on an executor (MemoryJobStore)', function () {
  let shell: JobExecutorShell | undefined;
  let store: MemoryJobStore;
  beforeEach(function () {
    ran.length = 0;
    held = gate();
    store = new MemoryJobStore();
    shell = new JobExecutorShell({ store, registry, sequences, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
  });
  afterEach(async function () {
    held.open();
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  async function ended(run: string): Promise<SequenceRun> {
    let read: SequenceRun | null = null;
    await waitFor(async () => (read = await getSequenceRun(store, run))?.status !== 'running', `run ${run} to end`);
    return read!;
  }

  it('runs the success branch and skips the failure branch', async function () {
    const run = await ended(await startSequence(store.adder({ registry }), sequences, 'branch'));
    expect(statuses(run)).to.deep.equal({
      extract: 'succeeded',
      load: 'succeeded',
      alert: 'skipped',
      tidy: 'succeeded',
    });
    expect(run.status).to.equal('succeeded');
    expect(ran).to.deep.equal(['extract', 'load', 'tidy']);
  });

  it('takes the failure branch of a failing step: its on-success sibling is skipped, the clean-up runs', async function () {
    const id = await startSequence(store.adder({ registry }), sequences, 'branch', {
      overrides: { extract: { args: [true] } },
    });
    const run = await ended(id);
    expect(statuses(run)).to.deep.equal({ extract: 'failed', load: 'skipped', alert: 'succeeded', tidy: 'succeeded' });
    expect(run.steps[0].lastError).to.deep.include({ name: 'JobAbortError', message: 'the source is gone' });
    expect(run.steps[1].lastError!.name).to.equal('DependencyError');
    // The failure had its branch: the run did what it was defined to do.
    expect(run.status).to.equal('succeeded');
    expect(ran).to.deep.equal(['extract', 'alert', 'tidy']);
  });

  it('runs an on-mixed step when one parent succeeded and the other failed', async function () {
    const run = await ended(await startSequence(store.adder({ registry }), sequences, 'fan'));
    expect(statuses(run)).to.deep.equal({ a: 'succeeded', b: 'failed', report: 'succeeded' });
    expect(run.status).to.equal('succeeded');
    expect([...ran].sort()).to.deep.equal(['a', 'b', 'report']);
  });

  it('fails the run when a failure has no branch, and skips only what could not run', async function () {
    const id = await startSequence(store.adder({ registry }), sequences, 'fan', {
      overrides: { a: { args: ['a', false] } },
    });
    const run = await ended(id);
    expect(statuses(run)).to.deep.equal({ a: 'failed', b: 'failed', report: 'skipped' });
    expect(run.status).to.equal('failed');
  });

  it('cancels a run: the running step, the queued one and the waiting one', async function () {
    const id = await startSequence(store.adder({ registry }), sequences, 'long');
    await waitFor(() => ran.includes('slow'), 'the slow step to start');
    expect((await getSequenceRun(store, id))!.status).to.equal('running');
    expect((await cancelSequenceRun(store, id)).sort()).to.deep.equal(['after', 'parked', 'slow']);
    held.open();
    const run = await ended(id);
    expect(statuses(run)).to.deep.equal({ slow: 'cancelled', after: 'cancelled', parked: 'cancelled' });
    expect(run.status).to.equal('cancelled');
    await new Promise((r) => setTimeout(r, 50));
    expect(ran).to.deep.equal(['slow']);
  });
});
