import { expect } from 'chai';
import { StorageOperationError, StorageUnavailableError } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import { ClaimCycle, ClaimCycleError } from '../src/claim-cycle.js';
import { ClaimLoop } from '../src/claim-loop.js';
import type { CoordinatorMessage, LayerMessage } from '../src/messages.js';
import { resolveQueueOptions } from '../src/options.js';
import { CapturingLogger } from './helpers.js';

describe('ClaimCycle', () => {
  it('allows the transitions of its diagram and refuses the others', async () => {
    const c = new ClaimCycle();
    expect(c.phase).to.deep.equal({ kind: 'idle', looksEmpty: false });
    // A second claim while one is out, or a backoff with none out, is a coordinator bug.
    expect(() => c.to({ kind: 'backing-off', timer: setTimeout(() => undefined, 0) })).to.throw(
      ClaimCycleError,
      /idle → backing-off/,
    );
    c.to({ kind: 'claiming', lookAgain: false, short: false });
    c.mayHaveWork();
    expect(c.phase).to.deep.equal({ kind: 'claiming', lookAgain: true, short: false });
    let fired = false;
    const timer = setTimeout(() => (fired = true), 5);
    c.to({ kind: 'backing-off', timer });
    expect(() => c.to({ kind: 'claiming', lookAgain: false, short: false })).to.throw(ClaimCycleError);
    c.to({ kind: 'idle', looksEmpty: false }); // clears the backoff timer
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).to.equal(false);
    c.to({ kind: 'claiming', lookAgain: false, short: false });
    c.to({ kind: 'failed' });
    expect(() => c.to({ kind: 'idle', looksEmpty: false })).to.throw(ClaimCycleError, /failed → idle/);
    c.close();
    expect(c.phase.kind).to.equal('closed');
    expect(() => c.to({ kind: 'claiming', lookAgain: false, short: false })).to.throw(ClaimCycleError);
  });

  it('waits for a claim still out when closed, then closes on its answer', () => {
    const c = new ClaimCycle();
    c.to({ kind: 'claiming', lookAgain: false, short: false });
    c.close();
    expect(c.phase.kind).to.equal('claiming');
    c.to({ kind: 'closed' });
    expect(c.phase.kind).to.equal('closed');
  });
});

describe('ClaimLoop with two claims in flight', () => {
  function loop(claimsInFlight: 1 | 2) {
    const sent: LayerMessage[] = [];
    const told: CoordinatorMessage[] = [];
    const l = new ClaimLoop(
      resolveQueueOptions('q', { workers: 10, maxPending: 500, claimsInFlight }, 'me', 'host'),
      new TestClock(),
      new CapturingLogger(),
      'q',
    );
    l.attach({ name: 'self', tell: (m) => told.push(m) }, { name: 'layer', tell: (m) => sent.push(m) });
    const limits = () => sent.map((m) => (m.kind === 'fetch' ? m.request.limit : -1));
    return { l, limits, told };
  }
  const transient = new StorageUnavailableError('test', 'claim', 'connection reset');

  it('asks two claims of half the room each, and a third only once one has answered', () => {
    const { l, limits } = loop(2);
    expect(l.tryAsk(0, 10, 500)).to.equal('asked');
    expect(l.tryAsk(0, 10, 500)).to.equal('asked');
    expect(l.tryAsk(0, 10, 500)).to.equal('not-now');
    expect(limits()).to.deep.equal([250, 250]);
    l.answered(250, 250, true);
    expect(l.claiming).to.equal(true);
    // 250 held and 250 out: no room until the workers finish some.
    expect(l.tryAsk(250, 10, 500)).to.equal('full');
    expect(l.tryAsk(120, 10, 500)).to.equal('asked');
    expect(limits()).to.deep.equal([250, 250, 130]);
  });

  it('one claim in flight keeps the old rule: the whole room, and nothing more while it is out', () => {
    const { l, limits } = loop(1);
    expect(l.tryAsk(0, 10, 500)).to.equal('asked');
    expect(l.tryAsk(0, 10, 500)).to.equal('not-now');
    l.answered(500, 500, true);
    expect(l.tryAsk(400, 10, 500)).to.equal('not-now'); // a top-up of 100 is not worth a claim
    expect(l.tryAsk(10, 10, 500)).to.equal('asked');
    expect(limits()).to.deep.equal([500, 490]);
  });

  it('a short answer stops further asks until the other claim is back, then the queue looks empty', () => {
    const { l } = loop(2);
    l.tryAsk(0, 10, 500);
    l.tryAsk(0, 10, 500);
    l.answered(3, 250, true);
    expect(l.tryAsk(3, 10, 500)).to.equal('not-now');
    l.answered(0, 250, true);
    expect(l.claiming).to.equal(false);
    expect(l.tryAsk(3, 10, 500)).to.equal('not-now');
    l.mayHaveWork();
    expect(l.tryAsk(3, 10, 500)).to.equal('asked');
  });

  it('a transient failure backs off only once no other claim is out', () => {
    const { l, told } = loop(2);
    l.tryAsk(0, 10, 500);
    l.tryAsk(0, 10, 500);
    expect(l.failed(transient, 250)).to.equal(null);
    expect(l.claiming, 'the other claim is still out').to.equal(true);
    l.answered(250, 250, true);
    expect(l.tryAsk(250, 10, 500)).to.equal('asked'); // no backoff: the other claim worked
    expect(l.failed(transient, 250)).to.equal(null);
    expect(l.tryAsk(250, 10, 500)).to.equal('not-now'); // backing off now
    expect(told).to.deep.equal([]);
    l.retryDue();
    expect(l.tryAsk(250, 10, 500)).to.equal('asked');
  });

  it('a permanent failure ends the claims; the other claim answering later is taken back, not an error', () => {
    const { l } = loop(2);
    l.tryAsk(0, 10, 500);
    l.tryAsk(0, 10, 500);
    const failure = l.failed(new StorageOperationError('test', 'claim', 'relation "jobs" does not exist'), 250);
    expect(failure?.operation).to.equal('claim');
    expect(l.claiming, 'a drain still waits for the other').to.equal(true);
    l.answered(250, 250, false);
    expect(l.claiming).to.equal(false);
    expect(l.tryAsk(0, 10, 500)).to.equal('not-now');
  });

  it('a drain waits for both claims', () => {
    const { l } = loop(2);
    l.tryAsk(0, 10, 500);
    l.tryAsk(0, 10, 500);
    l.close();
    l.answered(250, 250, false);
    expect(l.claiming).to.equal(true);
    l.failedWhileClosing(250);
    expect(l.claiming).to.equal(false);
  });
});
