import { expect } from 'chai';
import { toJobError } from '../src/index.js';

/** Values a hostile or careless job can throw; converting any of them must not throw. */
function hostileValues(): [string, unknown][] {
  const cyclic = Object.create(null) as Record<string, unknown>;
  cyclic.self = cyclic;
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const badMessage = new Error('x');
  Object.defineProperty(badMessage, 'message', {
    get: () => {
      throw new Error('no message for you');
    },
  });
  const badName = new Error('named');
  Object.defineProperty(badName, 'name', {
    get: () => {
      throw new Error('no name');
    },
  });
  const badStack = new Error('stacked');
  Object.defineProperty(badStack, 'stack', {
    get: () => {
      throw new Error('no stack');
    },
  });
  const bigintHolder = Object.create(null) as Record<string, unknown>;
  bigintHolder.n = 10n;
  const throwingToJSON = {
    toJSON() {
      throw new Error('nope');
    },
    toString() {
      throw new Error('nope');
    },
  };
  const nonStringMessage = new Error('y');
  Object.defineProperty(nonStringMessage, 'message', { value: { nested: true } });
  return [
    ['a null-prototype cyclic object', cyclic],
    ['a revoked Proxy', revoked],
    ['an Error whose message getter throws', badMessage],
    ['an Error whose name getter throws', badName],
    ['an Error whose stack getter throws', badStack],
    ['a null-prototype object holding a BigInt', bigintHolder],
    ['a Symbol', Symbol('boom')],
    ['a BigInt', 12n],
    ['an object whose toJSON and toString throw', throwingToJSON],
    ['an Error whose message is not a string', nonStringMessage],
    ['undefined', undefined],
    ['null', null],
  ];
}

describe('toJobError', () => {
  for (const [what, value] of hostileValues()) {
    it(`never throws, and gives text, for ${what}`, () => {
      const e = toJobError(value);
      expect(e.name).to.be.a('string').and.not.equal('');
      expect(e.message).to.be.a('string');
      if (e.stack !== undefined) expect(e.stack).to.be.a('string');
    });
  }

  it('keeps what it can read of an Error whose message getter throws', () => {
    const err = new TypeError('t');
    Object.defineProperty(err, 'message', {
      get: () => {
        throw new Error('x');
      },
    });
    const e = toJobError(err);
    expect(e.name).to.equal('TypeError');
    expect(e.message).to.match(/could not be read/);
  });

  it('still converts ordinary values as before', () => {
    expect(toJobError(new RangeError('r'))).to.include({ name: 'RangeError', message: 'r' });
    expect(toJobError('plain')).to.deep.equal({ name: 'NonErrorThrown', message: 'plain' });
    expect(toJobError({ a: 1 })).to.deep.equal({ name: 'NonErrorThrown', message: '{"a":1}' });
    expect(toJobError(Symbol('s')).message).to.equal('Symbol(s)');
  });
});
