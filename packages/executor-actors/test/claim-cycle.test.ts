import { expect } from 'chai';
import { ClaimCycle, ClaimCycleError } from '../src/claim-cycle.js';

describe('ClaimCycle', () => {
  it('allows the transitions of its diagram and refuses the others', async () => {
    const c = new ClaimCycle();
    expect(c.phase).to.deep.equal({ kind: 'idle', looksEmpty: false });
    // A second claim while one is out, or a backoff with none out, is a coordinator bug.
    expect(() => c.to({ kind: 'backing-off', timer: setTimeout(() => undefined, 0) })).to.throw(
      ClaimCycleError,
      /idle → backing-off/,
    );
    c.to({ kind: 'claiming', askedAt: 1, lookAgain: false });
    c.mayHaveWork();
    expect(c.phase).to.deep.equal({ kind: 'claiming', askedAt: 1, lookAgain: true });
    let fired = false;
    const timer = setTimeout(() => (fired = true), 5);
    c.to({ kind: 'backing-off', timer });
    expect(() => c.to({ kind: 'claiming', askedAt: 2, lookAgain: false })).to.throw(ClaimCycleError);
    c.to({ kind: 'idle', looksEmpty: false }); // clears the backoff timer
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).to.equal(false);
    c.to({ kind: 'claiming', askedAt: 3, lookAgain: false });
    c.to({ kind: 'failed' });
    expect(() => c.to({ kind: 'idle', looksEmpty: false })).to.throw(ClaimCycleError, /failed → idle/);
    c.close();
    expect(c.phase.kind).to.equal('closed');
    expect(() => c.to({ kind: 'claiming', askedAt: 4, lookAgain: false })).to.throw(ClaimCycleError);
  });

  it('waits for a claim still out when closed, then closes on its answer', () => {
    const c = new ClaimCycle();
    c.to({ kind: 'claiming', askedAt: 1, lookAgain: false });
    c.close();
    expect(c.phase.kind).to.equal('claiming');
    c.to({ kind: 'closed' });
    expect(c.phase.kind).to.equal('closed');
  });
});
