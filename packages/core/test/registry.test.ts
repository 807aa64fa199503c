import { expect } from 'chai';
import {
  InvalidOptionError,
  JobRegistry,
  UnknownJobMethodError,
  UnknownJobTargetError,
  job,
  prepareJob,
  recordCall,
  deserializeArgs,
  JobArgumentError,
} from '../src/index.js';

class Base {
  inherited(): string {
    return 'base';
  }
}
class Mailer extends Base {
  send(to: string, subject: string): string {
    return `${to}:${subject}`;
  }
  get notAMethod(): number {
    return 1;
  }
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('registry', function () {
  it('resolves registered targets and their own methods only', function () {
    const r = new JobRegistry().register('mail', Mailer);
    expect(r.nameOf(Mailer)).to.equal('mail');
    expect(r.resolveTarget('mail')).to.equal(Mailer);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- compares the function's identity, never calls it
    expect(r.resolveMethod('mail', 'send')).to.equal(Mailer.prototype.send);
    for (const m of ['inherited', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'notAMethod', 'nope']) {
      expect(
        thrown(() => r.resolveMethod('mail', m)),
        m,
      ).to.be.instanceOf(UnknownJobMethodError);
    }
    expect(thrown(() => r.resolveTarget('other'))).to.be.instanceOf(UnknownJobTargetError);
  });

  it('refuses to register one name to two classes or one class under two names', function () {
    class Other {}
    const r = new JobRegistry().register('mail', Mailer);
    expect(thrown(() => r.register('mail', Other))).to.be.instanceOf(InvalidOptionError);
    expect(thrown(() => r.register('mail2', Mailer))).to.be.instanceOf(InvalidOptionError);
    expect(thrown(() => r.register('bad name!', Other))).to.be.instanceOf(InvalidOptionError);
    r.register('mail', Mailer); // the same pair again is fine
  });

  it('names an unregistered class in the error', function () {
    class Stray {}
    const e = thrown(() => new JobRegistry().nameOf(Stray)) as Error;
    expect(e).to.be.instanceOf(UnknownJobTargetError);
    expect(e.message).to.contain('Stray');
  });

  it('the @job decorator registers under the stable name', function () {
    const r = new JobRegistry();
    @job('report.daily', r)
    class DailyReport {
      build(day: string): string {
        return day;
      }
    }
    expect(r.nameOf(DailyReport)).to.equal('report.daily');
    expect(r.resolveTarget('report.daily')).to.equal(DailyReport);
  });
});

describe('recordCall and prepareJob', function () {
  const r = new JobRegistry().register('mail', Mailer);

  it('records the method and the evaluated arguments', function () {
    let n = 1;
    const rec = recordCall<Mailer>((j) => j.send(`a${n++}@b.c`, 'hi'));
    expect(rec).to.deep.equal({ method: 'send', args: ['a1@b.c', 'hi'] });
    expect(n).to.equal(2);
  });

  it('refuses a recorder that calls no method or two', function () {
    expect(thrown(() => recordCall<Mailer>(() => undefined))).to.be.instanceOf(InvalidOptionError);
    expect(
      thrown(() =>
        recordCall<Mailer>((j) => {
          j.send('a', 'b');
          j.send('c', 'd');
        }),
      ),
    ).to.be.instanceOf(InvalidOptionError);
  });

  it('prepares a typed job with the registered name and serialized args', function () {
    const job = prepareJob(
      { target: Mailer, call: (j: Mailer) => j.send('a@b.c', 'hi'), options: { queue: 'mail' } },
      r,
    );
    expect(job.target).to.equal('mail');
    expect(job.method).to.equal('send');
    expect(job.queue).to.equal('mail');
    expect(deserializeArgs(job.args, job.id)).to.deep.equal(['a@b.c', 'hi']);
    expect(job.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('rejects, at enqueue, an inherited method of a typed target', function () {
    expect(thrown(() => prepareJob({ target: Mailer, call: (j: Mailer) => j.inherited() }, r))).to.be.instanceOf(
      UnknownJobMethodError,
    );
  });

  it('gives time-ordered ids', function () {
    const ids = Array.from({ length: 200 }, () => prepareJob({ call: { target: 'x', method: 'm', args: [] } }).id);
    expect([...ids].sort()).to.deep.equal(ids);
  });

  it('rejects bad options naming the option', function () {
    const base = { target: 'x', method: 'm', args: [] };
    const cases: [object, string][] = [
      [{ queue: 'has space' }, 'queue'],
      [{ queue: '' }, 'queue'],
      [{ runAt: new Date('nope') }, 'runAt'],
      [{ delayMs: -5 }, 'delayMs'],
      [{ uniqueKey: '' }, 'uniqueKey'],
      [{ metadata: [1] }, 'metadata'],
      [{ retry: { maxAttempts: 0, backoff: { kind: 'fixed', delayMs: 0 } } }, 'retry.maxAttempts'],
    ];
    for (const [options, option] of cases) {
      const e = thrown(() => prepareJob({ call: base, options }));
      expect(e, option).to.be.instanceOf(InvalidOptionError);
      expect((e as InvalidOptionError).option).to.equal(option);
    }
    expect(thrown(() => prepareJob({ call: { target: 'x', method: '__proto__.x', args: [] } }))).to.be.instanceOf(
      InvalidOptionError,
    );
    expect(thrown(() => prepareJob({ call: { target: 'x', method: 'm', args: [() => 1] } }))).to.be.instanceOf(
      JobArgumentError,
    );
    expect(thrown(() => prepareJob({ call: base, options: { metadata: { f: () => 1 } } }))).to.be.instanceOf(
      JobArgumentError,
    );
    // Metadata is stored as plain JSON by every provider: what JSON would bend is refused, at any depth.
    for (const metadata of [
      { n: 1n },
      { deep: { n: [2n] } },
      { at: new Date(0) },
      { u: undefined },
      { x: Number.NaN },
    ]) {
      expect(
        thrown(() => prepareJob({ call: base, options: { metadata } })),
        JSON.stringify(Object.keys(metadata)),
      ).to.be.instanceOf(JobArgumentError);
    }
    expect(prepareJob({ call: base, options: { metadata: { a: [1, { b: null }], s: 'x' } } }).metadata).to.deep.equal({
      a: [1, { b: null }],
      s: 'x',
    });
  });
});
