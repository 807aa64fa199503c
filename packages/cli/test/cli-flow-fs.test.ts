import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { JobRegistry, onSuccess, ScheduleManager, SequenceRegistry, startSequence } from '@oddjob/core';
import { FileJobStore } from '@oddjob/storage-fs';
import { runCli } from './run-cli.js';

/** The worker fixture's target as this process registers it: a schedule is checked against a registry. */
class Fixture {
  echo(text: string): string {
    return text;
  }
}
const registry = new JobRegistry().register('cli-fixture', Fixture);

const call = (n: number) => ({ target: 'cli-fixture', method: 'echo', args: [`step ${n}`] });

describe('oddjob CLI: jobs that wait and sequence runs on the file store (real binary)', function () {
  this.timeout(60_000);
  let root: string;
  let dir: string;
  const cli = (...args: string[]) => runCli(['--store', dir, ...args]);
  const withStore = async <T>(fn: (store: FileJobStore) => Promise<T>): Promise<T> => {
    const store = await FileJobStore.open({ dir });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'oddjob-cli-flow-'));
    dir = join(root, 'store');
    const r = await cli('migrate');
    expect(r.code, r.stderr).to.equal(0);
    // Says at once what is missing when the file store does not keep jobs that wait (before its
    // layout 4), instead of failing each test on a symptom.
    const kept = await withStore(async (store) => {
      const a = await store.adder().addJob(call(0), { queue: 'probe-q' });
      const b = await store.adder().addJob(call(0), { queue: 'probe-q', after: [a] });
      const status = (await store.getJob(b))?.status;
      await store.cancelJob(b);
      await store.cancelJob(a);
      return status;
    });
    expect(kept, 'the file store must keep jobs that wait (storage-fs layout 4)').to.equal('waiting');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('enqueues a job that waits for another, lists and shows it waiting, and cancels it', async () => {
    const parent = (await cli('enqueue', 'cli-fixture', 'echo', '["p"]', '--queue', 'flow-q')).stdout.trim();
    const add = await cli(
      'enqueue',
      'cli-fixture',
      'echo',
      '["c"]',
      '--queue',
      'flow-q',
      '--after',
      `${parent}:finished`,
      '--priority',
      '3',
      '--concurrency-key',
      'acct-7',
      '--concurrency-limit',
      '2',
      '--already-running',
      'queue',
      '--unique-key',
      'child-7',
      '--unique-scope',
      'queued',
    );
    expect(add.code, add.stderr).to.equal(0);
    const child = add.stdout.trim();
    const waiting = await cli('jobs', 'list', '--status', 'waiting');
    expect(waiting.code, waiting.stderr).to.equal(0);
    expect(waiting.stdout.split('\n')[0]).to.match(/^ID\s+QUEUE\s+CALL\s+STATUS\s+PRIORITY/);
    expect(waiting.stdout).to.match(new RegExp(`${child}\\s+flow-q\\s+cli-fixture.echo\\s+waiting \\(parents\\)\\s+3`));
    expect(waiting.stdout).to.not.contain(parent);
    const show = await cli('jobs', 'show', child);
    expect(show.stdout)
      .to.match(/^status\s+waiting$/m)
      .and.match(/^priority\s+3$/m)
      .and.match(/^unique key\s+child-7 \(held while queued\)$/m)
      .and.match(new RegExp(`^after\\s+${parent} finished$`, 'm'))
      .and.match(/^concurrency key acct-7, at most 2 at once, already running: queue$/m);
    const bad = await cli('enqueue', 'cli-fixture', 'echo', '[]', '--already-running', 'later');
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.contain('--already-running "later": must be one of skip, queue, allow');
    // Cancel takes waiting jobs (the parent, new, is left alone by this filter).
    const cancel = await cli('jobs', 'cancel', '--status', 'waiting', '--queue', 'flow-q', '--yes');
    expect(cancel.code, cancel.stderr).to.equal(0);
    expect(cancel.stdout).to.equal('cancelled 1 of 1 jobs\n');
    expect(
      JSON.parse((await cli('jobs', 'show', child, '--json')).stdout) as { status: string; waitingFor: null },
    ).to.include({ status: 'cancelled', waitingFor: null });
  });

  it("shows and sets a schedule's priority and already-running policy", async () => {
    await withStore((store) =>
      new ScheduleManager({ store, writer: store, registry }).create('nightly', call(0), { cron: '0 3 * * *' }),
    );
    const set = await cli('schedules', 'set', 'nightly', '--priority', '4', '--already-running', 'skip');
    expect(set.code, set.stderr).to.equal(0);
    expect(set.stdout).to.equal('nightly: priority 4, key oddjob.schedule:nightly (limit 1, already running: skip)\n');
    const show = await cli('schedules', 'show', 'nightly');
    expect(show.stdout)
      .to.match(/^priority\s+4$/m)
      .and.match(/^key\s+oddjob.schedule:nightly \(limit 1, already running: skip\)$/m);
    expect((await cli('schedules', 'list')).stdout).to.match(/^NAME\s+CRON\s+ZONE\s+CALL\s+QUEUE\s+PRIORITY/);
    const none = await cli('schedules', 'set', 'nightly');
    expect(none.code).to.not.equal(0);
    expect(none.stderr).to.contain('give --priority');
  });

  it('lists sequence runs by name, shows one with its steps, and cancels it', async () => {
    const sequences = new SequenceRegistry();
    sequences.define({
      name: 'etl',
      steps: [
        { name: 'extract', call: call(1) },
        { name: 'load', call: call(2), start: onSuccess('extract') },
      ],
    });
    const run = await withStore((store) => startSequence(store.adder(), sequences, 'etl'));
    const list = await cli('sequences', 'list', '--name', 'etl');
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout.split('\n')[0]).to.match(/^RUN\s+SEQUENCE\s+STATUS\s+STEPS/);
    expect(list.stdout).to.match(new RegExp(`${run}\\s+etl\\s+running\\s+1 queued, 1 waiting`));
    expect((await cli('sequences', 'list', '--name', 'other')).stdout).to.equal('no sequence runs of other\n');
    const show = await cli('sequences', 'show', run);
    expect(show.stdout)
      .to.match(/^status\s+running$/m)
      .and.match(/^load\s+waiting\s+\S+\s+cli-fixture.echo\s+extract succeeded/m);
    const steps = JSON.parse((await cli('jobs', 'list', '--run', run, '--json')).stdout) as { sequence: unknown }[];
    expect(steps.map((s) => s.sequence)).to.deep.equal([
      { name: 'etl', run, step: 'extract' },
      { name: 'etl', run, step: 'load' },
    ]);
    const cancel = await cli('sequences', 'cancel', run, '--yes');
    expect(cancel.code, cancel.stderr).to.equal(0);
    expect(cancel.stdout).to.equal('cancelled 2 steps: load, extract\n');
    const after = JSON.parse((await cli('sequences', 'show', run, '--json')).stdout) as { status: string };
    expect(after.status).to.equal('cancelled');
    const again = await cli('sequences', 'cancel', run, '--yes');
    expect(again.code).to.not.equal(0);
    expect(again.stderr).to.contain('has no step left to cancel');
    const unknown = await cli('sequences', 'show', '00000000-0000-7000-8000-000000000000');
    expect(unknown.stderr).to.contain('no sequence run');
  });
});
