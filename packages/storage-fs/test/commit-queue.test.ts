import { expect } from 'chai';
import { CommitQueue } from '../src/commit-queue.js';

/** A flush the test finishes by hand, so that "before it completed" is a state, not a race. */
class ManualFlush {
  readonly started: { resolve: () => void; reject: (err: Error) => void }[] = [];
  readonly fn = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.started.push({ resolve, reject });
    });
}

/** Tracks whether a commit has been answered yet, and how. */
function track(p: Promise<void>): { state: 'pending' | 'ok' | Error } {
  const t: { state: 'pending' | 'ok' | Error } = { state: 'pending' };
  p.then(
    () => (t.state = 'ok'),
    (err: Error) => (t.state = err),
  );
  return t;
}

/** Lets every promise callback that can run, run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('fs store: CommitQueue (group commit)', function () {
  it('starts a flush at once when idle, and answers only after that flush completed', async function () {
    const flush = new ManualFlush();
    const q = new CommitQueue(flush.fn);
    const a = track(q.commit());
    expect(flush.started).to.have.length(1); // no timer: the first request flushes straight away
    await settle();
    expect(a.state, 'acknowledged before its fsync completed').to.equal('pending');
    flush.started[0].resolve();
    await settle();
    expect(a.state).to.equal('ok');
  });

  it('never answers a request with the flush that was already running when it asked', async function () {
    const flush = new ManualFlush();
    const q = new CommitQueue(flush.fn);
    const first = track(q.commit());
    const late = [track(q.commit()), track(q.commit()), track(q.commit())];
    expect(flush.started).to.have.length(1); // the late ones wait; they do not start their own
    flush.started[0].resolve();
    await settle();
    expect(first.state).to.equal('ok');
    for (const l of late) expect(l.state, 'answered by a flush that may predate its change').to.equal('pending');
    // All the late requests share the one flush that started after the first.
    expect(flush.started).to.have.length(2);
    flush.started[1].resolve();
    await settle();
    for (const l of late) expect(l.state).to.equal('ok');
    expect(flush.started).to.have.length(2);
  });

  it('a failed flush fails exactly the requests it covered; the next request flushes again', async function () {
    const flush = new ManualFlush();
    const q = new CommitQueue(flush.fn);
    const a = track(q.commit());
    const b = track(q.commit());
    flush.started[0].reject(new Error('EIO'));
    await settle();
    expect(a.state).to.be.instanceOf(Error);
    expect(b.state, 'b waits for its own flush').to.equal('pending');
    flush.started[1].resolve();
    await settle();
    expect(b.state).to.equal('ok');
    const c = track(q.commit());
    expect(flush.started).to.have.length(3);
    flush.started[2].resolve();
    await settle();
    expect(c.state).to.equal('ok');
  });

  it('a flush that throws synchronously is a rejection, and settled() waits for every flush', async function () {
    let calls = 0;
    const q = new CommitQueue(() => {
      calls++;
      if (calls === 1) throw new Error('bad handle');
      return Promise.resolve();
    });
    const a = q.commit();
    const b = q.commit();
    await q.settled();
    expect(
      await a.then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    ).to.equal('bad handle');
    expect(await b.then(() => 'ok')).to.equal('ok');
    expect(calls).to.equal(2);
  });
});
