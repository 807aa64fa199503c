import { expect } from 'chai';
import { describeValue } from '../src/index.js';

describe('describeValue (values in error messages)', () => {
  it('shows objects as JSON, never [object Object]', () => {
    expect(describeValue({ workers: 2 })).to.equal('{"workers":2}');
    expect(describeValue([1, 'a'])).to.equal('[1,"a"]');
    expect(describeValue('10')).to.equal('"10"');
    expect(describeValue(1.5)).to.equal('1.5');
    expect(describeValue(7n)).to.equal('7n');
    expect(describeValue(undefined)).to.equal('undefined');
  });

  it('never throws, whatever it is given', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(describeValue(cyclic)).to.equal('an object that cannot be shown');
    expect(describeValue(proxy)).to.be.a('string');
    expect(describeValue(Object.create(null))).to.equal('{}');
    expect(describeValue(function named() {})).to.equal('a function (named)');
    expect(describeValue({ big: 1n })).to.equal('an object that cannot be shown');
  });
});
