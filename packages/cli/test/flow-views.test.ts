import { expect } from 'chai';
import { getSequenceRun, JobRegistry, MemoryJobStore, onSuccess, SequenceRegistry, startSequence } from '@oddjob/core';
import { CliError } from '../src/errors.js';
import { flowOptions, parseParent, type FlowOpts } from '../src/commands/flow-options.js';
import { showJob, statusText } from '../src/commands/job-view.js';
import { showRun } from '../src/commands/sequences.js';

class Report {
  async make(n: number): Promise<number> {
    return n;
  }
}
const registry = new JobRegistry().register('report', Report);
const call = (n: number) => ({ target: 'report', method: 'make', args: [n] });

/**
 * In process, on the memory store (core's reference for jobs that wait): the option parsing and the
 * text views. The binary runs them against the file store in cli-flow-fs.test.ts.
 */
describe('CLI views and options of jobs that wait and sequence runs (memory store)', () => {
  it('turns the flow flags into job options, and names a bad value', () => {
    expect(
      flowOptions({
        priority: '-5',
        after: ['a', 'b:failed', 'c:finished'],
        afterRule: 'mixed',
        concurrencyKey: 'k',
        concurrencyLimit: '3',
        alreadyRunning: 'skip',
        uniqueScope: 'queued',
      }),
    ).to.deep.equal({
      priority: -5,
      after: [
        { job: 'a', when: 'succeeded' },
        { job: 'b', when: 'failed' },
        { job: 'c', when: 'finished' },
      ],
      afterRule: 'mixed',
      concurrencyKey: 'k',
      concurrencyLimit: 3,
      alreadyRunning: 'skip',
      uniqueScope: 'queued',
    });
    expect(flowOptions({})).to.deep.equal({});
    expect(parseParent('0190-ab')).to.deep.equal({ job: '0190-ab', when: 'succeeded' });
    const bad: [FlowOpts, string][] = [
      [{ priority: '1.5' }, '--priority'],
      [{ priority: '' }, '--priority'],
      [{ after: ['a:later'] }, '--after'],
      [{ afterRule: 'any' }, '--after-rule'],
      [{ alreadyRunning: 'wait' }, '--already-running'],
      [{ uniqueScope: 'forever' }, '--unique-scope'],
      [{ concurrencyLimit: 'two' }, '--concurrency-limit'],
    ];
    for (const [o, flag] of bad) {
      expect(() => flowOptions(o), flag).to.throw(CliError, flag);
    }
  });

  it('shows what a waiting job waits for, its parents, key, priority and unique scope', async () => {
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    const parent = await adder.addJob(call(1));
    const child = await adder.addJob(call(2), {
      after: [{ job: parent, when: 'finished' }],
      priority: 9,
      concurrencyKey: 'acct',
      concurrencyLimit: 2,
      uniqueKey: 'u-1',
      uniqueScope: 'unfinished',
    });
    const job = (await store.getJob(child))!;
    expect(statusText(job)).to.equal('waiting (parents)');
    const text = showJob(job, [], [], 200);
    expect(text)
      .to.match(/^status\s+waiting$/m)
      .and.match(/^unique key\s+u-1 \(held while unfinished\)$/m)
      .and.match(/^priority\s+9$/m)
      .and.match(/^waiting for its parents to end$/m)
      .and.match(new RegExp(`^after\\s+${parent} finished$`, 'm'))
      .and.match(/^concurrency key acct, at most 2 at once, already running: queue$/m);
    expect(statusText((await store.getJob(parent))!)).to.equal('new');
    expect(showJob((await store.getJob(parent))!, [], [], 200)).to.not.match(/^(after|waiting for|sequence) /m);
  });

  it('shows a sequence run with its steps, their status and parents by step name', async () => {
    const store = new MemoryJobStore();
    const sequences = new SequenceRegistry();
    sequences.define({
      name: 'etl',
      steps: [
        { name: 'extract', call: call(1) },
        { name: 'load', call: call(2), start: onSuccess('extract') },
      ],
    });
    const id = await startSequence(store.adder({ registry }), sequences, 'etl');
    const run = (await getSequenceRun(store, id))!;
    const text = showRun(run);
    expect(text)
      .to.match(new RegExp(`^run\\s+${id}$`, 'm'))
      .and.match(/^sequence\s+etl$/m)
      .and.match(/^status\s+running$/m);
    const rows = text.split('\n').filter((l) => /^(extract|load) /.test(l));
    expect(rows).to.have.length(2);
    expect(rows[0]).to.match(/^extract\s+queued\s+\S+\s+report\.make\s+-\s+-$/);
    expect(rows[1]).to.match(/^load\s+waiting\s+\S+\s+report\.make\s+extract succeeded\s+-$/);
    const step = (await store.getJob(run.steps[1].jobId))!;
    expect(showJob(step, [], [], 200)).to.match(new RegExp(`^sequence\\s+etl run ${id} step load$`, 'm'));
  });
});
