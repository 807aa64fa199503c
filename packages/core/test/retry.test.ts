import { expect } from 'chai';
import { DEFAULT_RETRY_POLICY, InvalidOptionError, Retry, retryDelayMs, validateRetryPolicy } from '../src/index.js';

describe('retry policies', function () {
  it('fixed: the same delay until attempts run out', function () {
    const p = Retry.fixed(3, 500);
    expect(retryDelayMs(p, 1)).to.equal(500);
    expect(retryDelayMs(p, 2)).to.equal(500);
    expect(retryDelayMs(p, 3)).to.equal(null);
  });

  it('list: one delay per retry, e.g. 2 min, 3 h, 6 h, 24 h', function () {
    const min = 60_000;
    const h = 60 * min;
    const p = Retry.list([2 * min, 3 * h, 6 * h, 24 * h]);
    expect(p.maxAttempts).to.equal(5);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(p, n))).to.deep.equal([2 * min, 3 * h, 6 * h, 24 * h, null]);
  });

  it('list with more attempts than delays repeats the last delay', function () {
    const p = validateRetryPolicy({ maxAttempts: 5, backoff: { kind: 'list', delaysMs: [10, 20] } });
    expect([1, 2, 3, 4].map((n) => retryDelayMs(p, n))).to.deep.equal([10, 20, 20, 20]);
  });

  it('exponential without jitter doubles and caps', function () {
    const p = Retry.exponential(10, 100, { maxMs: 1000, jitter: false });
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(p, n))).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
  });

  it('exponential with jitter stays within [d/2, d]', function () {
    const p = Retry.exponential(10, 1000, { factor: 3 });
    expect(retryDelayMs(p, 2, () => 0)).to.equal(1500);
    expect(retryDelayMs(p, 2, () => 0.999999)).to.equal(3000);
  });

  it('none: never retries', function () {
    expect(retryDelayMs(Retry.none(), 1)).to.equal(null);
  });

  it('the default policy allows 3 attempts', function () {
    expect(DEFAULT_RETRY_POLICY.maxAttempts).to.equal(3);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 3)).to.equal(null);
  });

  it('rejects bad policies naming the field', function () {
    const cases: [unknown, string][] = [
      [{ maxAttempts: 0, backoff: { kind: 'fixed', delayMs: 1 } }, 'retry.maxAttempts'],
      [{ maxAttempts: 2.5, backoff: { kind: 'fixed', delayMs: 1 } }, 'retry.maxAttempts'],
      [{ maxAttempts: 2, backoff: { kind: 'fixed', delayMs: -1 } }, 'retry.backoff.delayMs'],
      [{ maxAttempts: 2, backoff: { kind: 'list', delaysMs: [] } }, 'retry.backoff.delaysMs'],
      [{ maxAttempts: 2, backoff: { kind: 'list', delaysMs: [1, Number.NaN] } }, 'retry.backoff.delaysMs[1]'],
      [{ maxAttempts: 2, backoff: { kind: 'exponential', baseMs: 1, factor: 0.5 } }, 'retry.backoff.factor'],
      [{ maxAttempts: 2, backoff: { kind: 'linear' } }, 'retry.backoff.kind'],
      [{ maxAttempts: 2 }, 'retry.backoff'],
    ];
    for (const [policy, field] of cases) {
      let thrown: unknown;
      try {
        validateRetryPolicy(policy as never);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, field).to.be.instanceOf(InvalidOptionError);
      expect((thrown as InvalidOptionError).option).to.equal(field);
    }
  });
});
