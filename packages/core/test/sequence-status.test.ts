import { expect } from 'chai';
import {
  deriveRunStatus,
  DEPENDENCY_ERROR_NAME,
  stepStatusOf,
  type DependencyWhen,
  type SequenceRunStep,
  type StepStatus,
} from '../src/index.js';

type S = Pick<SequenceRunStep, 'step' | 'status' | 'after'>;

/** A step of a run: `parents` as [step, when]; mixed when asked. */
function s(step: string, status: StepStatus, parents: [string, DependencyWhen][] = [], mixed = false): S {
  return {
    step,
    status,
    after:
      parents.length === 0
        ? null
        : { rule: mixed ? 'mixed' : 'each', parents: parents.map(([p, when]) => ({ step: p, job: `id-${p}`, when })) },
  };
}

describe('sequences: step and run status', function () {
  it('reads a cancelled job as skipped when its parents decided it, as cancelled when a user did', function () {
    const dep = { name: DEPENDENCY_ERROR_NAME, message: 'parent x ended failed, not succeeded' };
    expect(stepStatusOf({ status: 'cancelled', lastError: dep })).to.equal('skipped');
    expect(stepStatusOf({ status: 'cancelled', lastError: null })).to.equal('cancelled');
    expect(stepStatusOf({ status: 'cancelled', lastError: { name: 'Error', message: 'attempt 1' } })).to.equal(
      'cancelled',
    );
    expect(
      (['waiting', 'new', 'processing', 'retry', 'done', 'failed'] as const).map((status) =>
        stepStatusOf({ status, lastError: null }),
      ),
    ).to.deep.equal(['waiting', 'queued', 'running', 'retrying', 'succeeded', 'failed']);
  });

  it('is running while any step is not final, whatever else ended', function () {
    for (const open of ['waiting', 'queued', 'running', 'retrying'] as const) {
      expect(deriveRunStatus([s('a', 'failed'), s('b', open, [['a', 'failed']])])).to.equal('running');
    }
  });

  it('succeeds when every step that ran succeeded and the rest were skipped', function () {
    expect(
      deriveRunStatus([
        s('a', 'succeeded'),
        s('b', 'succeeded', [['a', 'succeeded']]),
        s('c', 'skipped', [['a', 'failed']]),
      ]),
    ).to.equal('succeeded');
  });

  it('fails on a failure no step handled; an always step runs after it but does not handle it', function () {
    expect(deriveRunStatus([s('a', 'failed'), s('b', 'skipped', [['a', 'succeeded']])])).to.equal('failed');
    expect(deriveRunStatus([s('a', 'failed'), s('tidy', 'succeeded', [['a', 'finished']])])).to.equal('failed');
  });

  it('succeeds when the failure branch (on-failure or on-mixed) ran; fails when the handler failed', function () {
    expect(deriveRunStatus([s('a', 'failed'), s('alert', 'succeeded', [['a', 'failed']])])).to.equal('succeeded');
    expect(
      deriveRunStatus([
        s('a', 'succeeded'),
        s('b', 'failed'),
        s(
          'report',
          'succeeded',
          [
            ['a', 'finished'],
            ['b', 'finished'],
          ],
          true,
        ),
      ]),
    ).to.equal('succeeded');
    expect(deriveRunStatus([s('a', 'failed'), s('alert', 'failed', [['a', 'failed']])])).to.equal('failed');
    // A handler that was skipped handled nothing.
    expect(deriveRunStatus([s('a', 'failed'), s('alert', 'skipped', [['a', 'failed']])])).to.equal('failed');
  });

  it('is cancelled when a user cancelled a step, even after a failure', function () {
    expect(deriveRunStatus([s('a', 'succeeded'), s('b', 'cancelled', [['a', 'succeeded']])])).to.equal('cancelled');
    expect(deriveRunStatus([s('a', 'failed'), s('b', 'cancelled')])).to.equal('cancelled');
  });
});
