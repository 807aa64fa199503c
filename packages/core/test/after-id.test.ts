import { expect } from 'chai';
import { newJobId, uuidBoundAfter } from '../src/index.js';

/** A deterministic generator (no Math.random: a failure must replay). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('uuidBoundAfter (afterId for stores with uuid-typed ids)', function () {
  it('the v7 ids core makes sort the same as strings and as 128-bit numbers (uuid order)', function () {
    const ids = Array.from({ length: 2000 }, () => newJobId());
    const asNumber = (id: string) => BigInt(`0x${id.replace(/-/g, '')}`);
    const byString = [...ids].sort();
    const byNumber = [...ids].sort((a, b) => (asNumber(a) < asNumber(b) ? -1 : asNumber(a) > asNumber(b) ? 1 : 0));
    expect(byString).to.deep.equal(byNumber);
    expect(byString).to.deep.equal(ids, 'made in creation order');
  });

  it('answers the UUID after a UUID, the completion of a prefix, null after the last', function () {
    expect(uuidBoundAfter('')).to.equal('00000000-0000-0000-0000-000000000000');
    expect(uuidBoundAfter('0190')).to.equal('01900000-0000-0000-0000-000000000000');
    expect(uuidBoundAfter('01900000-0000-7000-8000-00000000000f')).to.equal('01900000-0000-7000-8000-000000000010');
    expect(uuidBoundAfter('0190000f-ffff-ffff-ffff-ffffffffffff')).to.equal('01900010-0000-0000-0000-000000000000');
    expect(uuidBoundAfter('0190ABCD')).to.equal('0190a000-0000-0000-0000-000000000000');
    expect(uuidBoundAfter('ffffffff-ffff-ffff-ffff-ffffffffffff')).to.equal(null);
    expect(uuidBoundAfter('g')).to.equal(null);
  });

  it('for random strings near ids: a UUID sorts after afterId exactly when it is at or after the bound', function () {
    const rnd = lcg(18);
    const alphabet = '0123456789abcdefABCDEF-g~ .\u00e9\u0000';
    const pick = (s: string) => s[Math.floor(rnd() * s.length)];
    const ids = Array.from({ length: 200 }, () => {
      let s = '';
      for (let i = 0; i < 36; i++)
        s += [8, 13, 18, 23].includes(i) ? '-' : pick('0123456789abcdef'.slice(0, 2 + Math.floor(rnd() * 15)));
      return s;
    });
    for (let n = 0; n < 3000; n++) {
      const base = ids[Math.floor(rnd() * ids.length)];
      // A prefix of an id, one character changed or appended, as a caller's odd afterId would be.
      let s = base.slice(0, Math.floor(rnd() * 38));
      if (rnd() < 0.5 && s.length > 0) {
        const at = Math.floor(rnd() * s.length);
        s = s.slice(0, at) + pick(alphabet) + s.slice(at + 1);
      }
      if (rnd() < 0.3) s += pick(alphabet);
      const bound = uuidBoundAfter(s);
      if (bound !== null) {
        expect(bound, s).to.match(UUID);
        expect(bound > s, s).to.equal(true);
      }
      for (const id of ids) {
        expect(id > s, `${id} vs ${JSON.stringify(s)}`).to.equal(bound !== null && id >= bound);
      }
    }
  });
});
