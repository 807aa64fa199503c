import { expect } from 'chai';
import { SuperJSON } from 'superjson';
import { CorruptJobError, JobArgumentError, deserializeArgs, serializeArgs } from '../src/index.js';

function rejection(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('serializer', function () {
  it('round-trips Date, bigint, Buffer, Uint8Array, Map, Set, undefined and nesting', function () {
    const args = [
      new Date(1234567890123),
      -42n,
      Buffer.from('hello'),
      new Uint8Array([1, 2, 3]),
      new Map([['k', new Set([1, 2])]]),
      undefined,
      { a: [undefined, null, { b: new Date(5) }] },
    ];
    const back = deserializeArgs(serializeArgs(args), 'j');
    expect(back).to.have.length(args.length);
    expect((back[0] as Date).getTime()).to.equal(1234567890123);
    expect(back[1]).to.equal(-42n);
    expect(Buffer.isBuffer(back[2])).to.equal(true);
    expect((back[2] as Buffer).toString()).to.equal('hello');
    expect(Buffer.isBuffer(back[3])).to.equal(false);
    expect([...(back[3] as Uint8Array)]).to.deep.equal([1, 2, 3]);
    expect([...((back[4] as Map<string, Set<number>>).get('k') as Set<number>)]).to.deep.equal([1, 2]);
    expect(back[5]).to.equal(undefined);
    expect(back[6]).to.deep.equal({ a: [undefined, null, { b: new Date(5) }] });
  });

  it('keeps a Uint8Array view to its own bytes, not its whole buffer', function () {
    const whole = new Uint8Array([0, 1, 2, 3, 4, 5]);
    const view = whole.subarray(2, 4);
    const [back] = deserializeArgs(serializeArgs([view]), 'j');
    expect([...(back as Uint8Array)]).to.deep.equal([2, 3]);
  });

  it('rejects a function and names the argument position', function () {
    const e = rejection(() => serializeArgs(['ok', { nested: [1, () => 1] }]));
    expect(e).to.be.instanceOf(JobArgumentError);
    expect(e.message).to.equal('args[1].nested[1]: a function cannot be serialized');
  });

  it('rejects a symbol', function () {
    const e = rejection(() => serializeArgs([Symbol('s')]));
    expect(e).to.be.instanceOf(JobArgumentError);
    expect(e.message).to.contain('args[0]');
    expect(e.message).to.contain('symbol');
  });

  it('rejects a class instance, naming its class', function () {
    class Money {
      constructor(readonly cents: number) {}
    }
    const e = rejection(() => serializeArgs([1, 2, new Money(5)]));
    expect(e).to.be.instanceOf(JobArgumentError);
    expect(e.message).to.contain('args[2]');
    expect(e.message).to.contain('Money');
  });

  it('rejects a cycle but accepts a repeated (acyclic) reference', function () {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const e = rejection(() => serializeArgs([a]));
    expect(e).to.be.instanceOf(JobArgumentError);
    expect(e.message).to.equal('args[0].self: circular reference: the value contains itself');
    const shared = { x: 1 };
    const [back] = deserializeArgs(serializeArgs([{ l: shared, r: shared }]), 'j');
    expect(back).to.deep.equal({ l: { x: 1 }, r: { x: 1 } });
  });

  it('rejects a function inside a Map value and a Set', function () {
    expect(rejection(() => serializeArgs([new Map([['f', () => 0]])])).message).to.contain('args[0].get("f")');
    expect(rejection(() => serializeArgs([new Set([1, () => 0])])).message).to.contain('args[0]<item 1>');
  });

  it('reports unreadable stored arguments as CorruptJobError naming the job', function () {
    for (const bad of ['{"json":[1,', 'not json at all', '{"json":{"a":1}}', '']) {
      const e = rejection(() => deserializeArgs(bad, 'job-42'));
      expect(e, bad).to.be.instanceOf(CorruptJobError);
      expect(e.message).to.contain('job-42');
    }
  });

  it('writes plain JSON data exactly as superjson would (the fast path is invisible)', function () {
    const plain = [1, 'two', true, null, [3, { four: [5, 'six'] }], { nested: { a: 'b', n: -1.5 } }, ''];
    expect(serializeArgs(plain)).to.equal(SuperJSON.stringify(plain));
    expect(deserializeArgs(serializeArgs(plain), 'j')).to.deep.equal(plain);
  });

  it('refuses an own "__proto__" key, naming where it is', function () {
    const proto = JSON.parse('{"x": 1, "__proto__": {"polluted": true}}') as object;
    const e = rejection(() => serializeArgs(['a', { inner: proto }]));
    expect(e).to.be.instanceOf(JobArgumentError);
    expect(e.message).to.contain('args[1].inner.__proto__');
  });

  it('leaves values plain JSON would bend to superjson: -0, NaN, Infinity, undefined; holes become null', function () {
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    const [negZero, nan, inf, holes, undef] = deserializeArgs(
      serializeArgs([-0, Number.NaN, Infinity, sparse, [undefined]]),
      'j',
    ) as [number, number, number, unknown[], unknown[]];
    expect(Object.is(negZero, -0)).to.equal(true);
    expect(Number.isNaN(nan)).to.equal(true);
    expect(inf).to.equal(Infinity);
    expect(holes).to.have.length(3);
    expect(holes[1], 'a hole reads back as null, as in JSON').to.equal(null);
    expect(holes[2]).to.equal(3);
    expect(undef).to.deep.equal([undefined]);
  });
});
