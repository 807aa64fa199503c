import { expect } from 'chai';
import {
  InvalidOptionError,
  JobQueueAdder,
  MemoryJobStore,
  decideChild,
  checkFlowOptions,
  resolveBatchParents,
  type JobAfter,
} from '../src/index.js';

const A = '01a23b2a-b8e8-74fb-a087-6dd06b0be851';
const B = '01a23b2a-b8e8-74fb-a087-6dd06b0be852';

function refused(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(InvalidOptionError);
    return e as InvalidOptionError;
  }
  throw new Error('expected InvalidOptionError');
}

describe('flow: the decision rule and option checks every store shares', function () {
  describe('decideChild', function () {
    const each: JobAfter = {
      rule: 'each',
      parents: [
        { job: A, when: 'succeeded' },
        { job: B, when: 'failed' },
      ],
    };

    it("'each' releases only when every parent met its when, else names the first that did not", function () {
      expect(decideChild(each, ['done', 'failed'])).to.deep.equal({ kind: 'release' });
      expect(decideChild(each, ['cancelled', 'done'])).to.deep.equal({
        kind: 'cancel',
        message: `parent ${A} ended cancelled, not succeeded`,
      });
      expect(decideChild(each, ['done', 'cancelled'])).to.deep.equal({
        kind: 'cancel',
        message: `parent ${B} ended cancelled, not failed`,
      });
    });

    it("'finished' accepts every end; 'mixed' wants at least one done and one not", function () {
      const finished: JobAfter = { rule: 'each', parents: [{ job: A, when: 'finished' }] };
      for (const o of ['done', 'failed', 'cancelled'] as const)
        expect(decideChild(finished, [o]).kind).to.equal('release');
      const mixed: JobAfter = { rule: 'mixed', parents: each.parents };
      expect(decideChild(mixed, ['done', 'cancelled']).kind).to.equal('release');
      expect(decideChild(mixed, ['done', 'done'])).to.deep.equal({
        kind: 'cancel',
        message: 'every parent ended done, not a mixed outcome',
      });
      expect(decideChild(mixed, ['failed', 'cancelled'])).to.deep.equal({
        kind: 'cancel',
        message: 'no parent ended done, not a mixed outcome',
      });
    });
  });

  describe('checkFlowOptions', function () {
    it('fills the defaults and keeps what was given', function () {
      expect(checkFlowOptions({}, false)).to.deep.equal({
        uniqueScope: 'stored',
        priority: 0,
        after: null,
        concurrency: null,
        sequence: null,
      });
      const c = checkFlowOptions({ after: [A, { job: 2, when: 'finished' }], concurrencyKey: 'k' }, false);
      expect(c.after).to.deep.equal({
        rule: 'each',
        parents: [
          { job: A, when: 'succeeded' },
          { job: 2, when: 'finished' },
        ],
      });
      expect(c.concurrency).to.deep.equal({ key: 'k', limit: 1, alreadyRunning: 'queue' });
    });

    it('names the option it refuses', function () {
      const cases: [Record<string, unknown>, string][] = [
        [{ after: [] }, 'after'],
        [{ after: ['not-a-uuid'] }, 'after[0]'],
        [{ after: [A, A] }, 'after'],
        [{ after: [{ job: A, when: 'sometimes' }] }, 'after[0].when'],
        [{ after: [A], afterRule: 'mixed' }, 'afterRule'],
        [{ afterRule: 'each' }, 'afterRule'],
        [{ concurrencyLimit: 2 }, 'concurrencyLimit'],
        [{ alreadyRunning: 'skip' }, 'alreadyRunning'],
        [{ concurrencyKey: '' }, 'concurrencyKey'],
        [{ concurrencyKey: 'k', concurrencyLimit: 0 }, 'concurrencyLimit'],
        [{ concurrencyKey: 'k', alreadyRunning: 'never' }, 'alreadyRunning'],
        [{ uniqueScope: 'queued' }, 'uniqueScope'],
        [{ priority: 40000 }, 'priority'],
        [{ sequence: { name: 'n', run: 'x', step: 's' } }, 'sequence.run'],
      ];
      for (const [options, option] of cases)
        expect(refused(() => checkFlowOptions(options, false)).option).to.equal(option);
    });
  });

  describe('resolveBatchParents', function () {
    const ids = [A, B, '01a23b2a-b8e8-74fb-a087-6dd06b0be853'];
    const on = (...jobs: (string | number)[]) => ({
      rule: 'each' as const,
      parents: jobs.map((job) => ({ job, when: 'succeeded' as const })),
    });

    it('turns indexes into the batch ids, leaving stored ids alone', function () {
      const stored = '01a23b2a-b8e8-74fb-a087-6dd06b0be8ff';
      expect(resolveBatchParents(ids, [null, on(0, stored), on(1)])).to.deep.equal([null, on(A, stored), on(B)]);
    });

    it('refuses self-references, indexes past the end, and cycles (naming them)', function () {
      expect(refused(() => resolveBatchParents(ids, [on(0), null, null])).message).to.contain('itself');
      expect(refused(() => resolveBatchParents(ids, [on(5), null, null])).message).to.contain('past');
      const cycle = refused(() => resolveBatchParents(ids, [on(2), on(0), on(1)]));
      expect(cycle.message).to.match(/cycle/);
      expect(cycle.message).to.contain('0 → 2 → 1 → 0');
      expect(refused(() => resolveBatchParents(ids, [on(1), on(A), null])).message).to.contain('cycle');
    });
  });

  it('addJob (one job) refuses a batch index in after', async function () {
    const adder = new JobQueueAdder(new MemoryJobStore());
    let error: unknown;
    try {
      await adder.addJob({ target: 't', method: 'run', args: [] }, { after: [0] });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(InvalidOptionError);
  });
});
