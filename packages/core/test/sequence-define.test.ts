import { expect } from 'chai';
import {
  always,
  defineSequence,
  job,
  JobRegistry,
  onFailure,
  onMixed,
  onSuccess,
  SequenceDefinitionError,
  SequenceRegistry,
  step,
  UnknownSequenceError,
  whenSteps,
  type SequenceStep,
} from '../src/index.js';

const registry = new JobRegistry();

@job('seq-define.etl', registry)
class Etl {
  extract(day: string): string {
    return day;
  }
  load(): void {}
}

const plain = (n: number) => ({ call: { target: 'x', method: 'run', args: [n] } });

/** The definition error `spec` is refused with. */
function refusal(steps: readonly unknown[], name = 'etl'): SequenceDefinitionError {
  try {
    defineSequence({ name, steps: steps as SequenceStep[] });
  } catch (err) {
    expect(err).to.be.instanceOf(SequenceDefinitionError);
    return err as SequenceDefinitionError;
  }
  throw new Error('the definition was accepted');
}

describe('sequences: defining', function () {
  it('freezes a definition of typed, plain and rule-bound steps, with the parents each rule names', function () {
    const def = defineSequence({
      name: 'nightly/etl',
      steps: [
        step({ name: 'extract', target: Etl, call: (j) => j.extract('2030-01-01'), options: { queue: 'etl' } }),
        { name: 'load', ...plain(1), start: onSuccess('extract') },
        { name: 'alert', ...plain(2), start: onFailure('extract', 'load') },
        { name: 'report', ...plain(3), start: onMixed('extract', 'load') },
        { name: 'tidy', ...plain(4), start: always('report') },
        { name: 'audit', ...plain(5), start: whenSteps({ extract: 'succeeded', alert: 'failed' }) },
      ],
    });
    expect(Object.isFrozen(def)).to.equal(true);
    expect(def.steps.map((s) => s.name)).to.deep.equal(['extract', 'load', 'alert', 'report', 'tidy', 'audit']);
    expect(def.steps[0].parents).to.deep.equal([]);
    expect(def.steps[2].parents).to.deep.equal([
      { index: 0, step: 'extract', when: 'failed' },
      { index: 1, step: 'load', when: 'failed' },
    ]);
    expect(def.steps[3].parents.map((p) => p.when)).to.deep.equal(['finished', 'finished']);
    expect(def.steps[5].parents).to.deep.equal([
      { index: 0, step: 'extract', when: 'succeeded' },
      { index: 2, step: 'alert', when: 'failed' },
    ]);
    expect(def.steps[0].options).to.deep.equal({ queue: 'etl' });
  });

  it('lets a step wait for a later one (the batch links by index in any order)', function () {
    const def = defineSequence({
      name: 's',
      steps: [
        { name: 'b', ...plain(1), start: onSuccess('a') },
        { name: 'a', ...plain(2) },
      ],
    });
    expect(def.steps[0].parents).to.deep.equal([{ index: 1, step: 'a', when: 'succeeded' }]);
  });

  it('refuses no steps, a bad name, duplicate names and unknown fields, naming the step', function () {
    expect(refusal([]).message).to.equal('sequence "etl": needs at least one step');
    expect(refusal([{ name: 'a', ...plain(1) }], 'bad name!').message).to.contain('the name must match');
    const dup = refusal([
      { name: 'a', ...plain(1) },
      { name: 'a', ...plain(2) },
    ]);
    expect([dup.step, dup.message]).to.deep.equal(['a', 'sequence "etl", step "a": two steps have this name']);
    expect(refusal([{ ...plain(1) }]).message).to.equal(
      'sequence "etl": step 0 needs a name matching /^[A-Za-z0-9_.:\\-/]{1,200}$/',
    );
    expect(refusal([{ name: 'a', ...plain(1), strat: onSuccess('b') }]).message).to.contain(
      '"strat" is not a step field',
    );
  });

  it('refuses a rule naming an unknown step or the step itself', function () {
    const unknown = refusal([
      { name: 'extract', ...plain(1) },
      { name: 'load', ...plain(2), start: onSuccess('extrakt') },
    ]);
    expect(unknown.step).to.equal('load');
    expect(unknown.message).to.equal(
      'sequence "etl", step "load": the start rule names "extrakt", which is not a step of the sequence',
    );
    expect(refusal([{ name: 'a', ...plain(1), start: always('a') }]).message).to.contain('names the step itself');
  });

  it('refuses cycles, naming the steps in the order they would wait', function () {
    const e = refusal([
      { name: 'root', ...plain(0) },
      { name: 'a', ...plain(1), start: onSuccess('c') },
      { name: 'b', ...plain(2), start: onSuccess('a') },
      { name: 'c', ...plain(3), start: onSuccess('b', 'root') },
    ]);
    expect(e.step).to.equal('a');
    expect(e.message).to.contain('cycle (a → c → b → a, each waiting for the next)');
  });

  it('refuses bad rules: on-mixed of one step, an unknown kind, a bad when, a step named twice', function () {
    const mixedOfOne = refusal([
      { name: 'a', ...plain(1) },
      { name: 'b', ...plain(2), start: { kind: 'on-mixed', steps: ['a'] } },
    ]);
    expect(mixedOfOne.message).to.contain('needs at least two steps');
    expect(refusal([{ name: 'a', ...plain(1), start: { kind: 'sometimes', steps: [] } }]).message).to.contain(
      'start must be a start rule',
    );
    expect(
      refusal([
        { name: 'a', ...plain(1) },
        { name: 'b', ...plain(2), start: { kind: 'each', parents: [{ step: 'a', when: 'maybe' }] } },
      ]).message,
    ).to.contain('when for "a" must be one of succeeded, failed, finished');
    expect(
      refusal([
        { name: 'a', ...plain(1) },
        { name: 'b', ...plain(2), start: { kind: 'on-success', steps: ['a', 'a'] } },
      ]).message,
    ).to.contain('names "a" twice');
  });

  it('refuses calls and options no job could take, and options the sequence sets itself', function () {
    expect(refusal([{ name: 'a' }]).message).to.contain('needs a call');
    expect(refusal([{ name: 'a', call: { target: 'x', method: 'run', args: 'no' } }]).message).to.contain(
      'call.args must be an array',
    );
    expect(refusal([{ name: 'a', call: { target: 'x', method: 'run', args: [() => 1] } }]).message).to.contain(
      'a function cannot be serialized',
    );
    expect(
      refusal([{ name: 'a', target: Etl, call: (j: Etl) => (j as unknown as { nope(): void }).nope() }]).message,
    ).to.contain('has no own method "nope"');
    expect(refusal([{ name: 'a', ...plain(1), options: { queue: 'bad queue' } }]).message).to.match(
      /^sequence "etl", step "a": .*queue/,
    );
    expect(refusal([{ name: 'a', ...plain(1), options: { priority: 1.5 } }]).message).to.contain('priority');
    for (const owned of ['after', 'afterRule', 'sequence', 'uniqueKey', 'uniqueScope']) {
      expect(refusal([{ name: 'a', ...plain(1), options: { [owned]: 'x' } }]).message).to.contain(
        `"${owned}" is set by the sequence itself`,
      );
    }
    expect(refusal([{ name: 'a', ...plain(1), options: { priorty: 3 } }]).message).to.contain(
      '"priorty" is not a job option a step can give',
    );
  });

  it('copies plain calls, so changing the object later changes nothing', function () {
    const call = { target: 'x', method: 'run', args: [1] };
    const def = defineSequence({ name: 's', steps: [{ name: 'a', call }] });
    call.args.push(2);
    expect((def.steps[0].job as { call: { args: unknown[] } }).call.args).to.deep.equal([1]);
  });
});

describe('sequences: SequenceRegistry', function () {
  it('holds definitions by name, refuses a second of one name, and names the known ones for an unknown', function () {
    const sequences = new SequenceRegistry();
    const def = sequences.define({ name: 'a', steps: [{ name: 's', ...plain(1) }] });
    expect(sequences.define(def)).to.equal(def);
    expect(sequences.get('a')).to.equal(def);
    expect(() => sequences.define({ name: 'a', steps: [{ name: 's', ...plain(2) }] })).to.throw(
      '"a" is already defined',
    );
    const e = (() => {
      try {
        sequences.get('b');
      } catch (err) {
        return err as Error;
      }
      return null;
    })();
    expect(e).to.be.instanceOf(UnknownSequenceError);
    expect(e!.message).to.equal('no sequence is defined as "b" (defined: "a")');
    expect(sequences.names()).to.deep.equal(['a']);
  });

  it('takes a definition made elsewhere (defineSequence) as it is', function () {
    const def = defineSequence({ name: 'made', steps: [{ name: 's', ...plain(1) }] });
    const sequences = new SequenceRegistry();
    expect(sequences.define(def)).to.equal(def);
    expect(sequences.has('made')).to.equal(true);
  });
});
