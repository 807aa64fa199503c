import { expect } from 'chai';
import {
  CorruptJobError,
  deserializeArgs,
  infraRetryDelayMs,
  withInfraRetry,
  QueueListeners,
  rounds,
  leaseExpiredError,
  leaseExpiredErrorParts,
} from '../src/index.js';

describe('storage edge: shared parts', function () {
  it('a "__proto__" key read back from edited storage never reaches a job', function () {
    expect(() => deserializeArgs('{"json":[{"a":{"__proto__":{"polluted":true}}}]}', 'job-1')).to.throw(
      CorruptJobError,
      '__proto__',
    );
    // Through superjson (a "meta" part) the key is refused or dropped: either way no own __proto__ comes back.
    let viaCodec: unknown[] = [];
    try {
      viaCodec = deserializeArgs('{"json":[{"__proto__":1}],"meta":{"values":{}}}', 'job-2');
    } catch (e) {
      expect(e).to.be.instanceOf(CorruptJobError);
    }
    for (const v of viaCodec) expect(Object.prototype.hasOwnProperty.call(v, '__proto__')).to.equal(false);
    // The text alone is fine where it is only a string.
    expect(deserializeArgs('{"json":["__proto__"]}', 'job-3')).to.deep.equal(['__proto__']);
  });

  it('infra retry: bounded tries, equal jitter, a deadline and an abort signal', async function () {
    const retry = { maxAttempts: 4, baseDelayMs: 0, maxDelayMs: 0 };
    let calls = 0;
    await withInfraRetry(
      retry,
      () => true,
      async () => {
        if (++calls < 3) throw new Error('blip');
      },
    );
    expect(calls).to.equal(3);
    calls = 0;
    const e = await withInfraRetry(
      retry,
      () => true,
      async () => {
        calls++;
        throw new Error('down');
      },
    ).catch((x: Error) => x);
    expect(calls).to.equal(4);
    expect(e.message).to.equal('down');
    calls = 0;
    await withInfraRetry(
      retry,
      () => false,
      async () => {
        calls++;
        throw new Error('permanent');
      },
    ).catch(() => undefined);
    expect(calls, 'a permanent error is not retried').to.equal(1);
    // deadline: the next wait would pass it, so the loop gives up after the first try
    calls = 0;
    await withInfraRetry(
      { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 1000, deadlineMs: 500 },
      () => true,
      async () => {
        calls++;
        throw new Error('slow');
      },
    ).catch(() => undefined);
    expect(calls).to.equal(1);
    // abort: a closed store stops the loop
    const ac = new AbortController();
    ac.abort();
    const aborted = await withInfraRetry(
      retry,
      () => true,
      async () => 'ran',
      {
        signal: ac.signal,
        fail: (f) => new Error(`aborted=${f.aborted}`),
      },
    ).catch((x: Error) => x.message);
    expect(aborted).to.equal('aborted=true');
    expect(infraRetryDelayMs({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 }, 3, () => 0)).to.equal(200);
    expect(infraRetryDelayMs({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 }, 3, () => 0.999999)).to.equal(400);
  });

  it('outcome rounds: one item per key per round, in order', function () {
    const r = rounds(['a', 'b', 'a', 'a', 'c'], (x) => x);
    expect(r.map((round) => round.map((p) => p.index))).to.deep.equal([[0, 1, 4], [2], [3]]);
  });

  it("lease-error parts rebuild core's LeaseExpiredError exactly", function () {
    const { name, before, after } = leaseExpiredErrorParts();
    const e = leaseExpiredError('host:1');
    expect({ name, message: before + 'host:1' + after }).to.deep.equal(e);
  });

  it('listener fan-out: a throwing listener neither stops the others nor reaches the writer', function () {
    const l = new QueueListeners();
    const heard: string[] = [];
    l.add(() => {
      throw new Error('boom');
    });
    const off = l.add((q) => heard.push(q));
    l.notify(['a', 'b']);
    off();
    l.notify(['c']);
    expect(heard).to.deep.equal(['a', 'b']);
  });
});
