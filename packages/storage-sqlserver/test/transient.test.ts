import { expect } from 'chai';
import sql from 'mssql';
import { isDuplicateKeyError, isTransientError } from '../src/index.js';
import { backoffMs, withRetry } from '../src/transient.js';

/** Errors shaped the way mssql 12 / tedious 19 hand them over. */
function requestError(number: number): Error {
  const original = Object.assign(new Error(`server error ${number}`), { number, code: 'EREQUEST' });
  return Object.assign(new sql.RequestError(original, 'EREQUEST'), { number });
}
function connectionError(code: string): Error {
  return new sql.ConnectionError(`connection failed (${code})`, code as never);
}

describe('sqlserver: error classification', function () {
  it('retries deadlock victims and lock time-outs', function () {
    expect(isTransientError(requestError(1205))).to.equal(true);
    expect(isTransientError(requestError(1222))).to.equal(true);
  });

  it('retries dropped and stalled connections', function () {
    for (const code of ['ECONNRESET', 'ESOCKET', 'ETIMEOUT', 'ECONNCLOSED', 'ECLOSE']) {
      expect(isTransientError(connectionError(code)), code).to.equal(true);
    }
  });

  it('finds the cause wherever the driver wrapped it', function () {
    const socket = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(isTransientError(new sql.RequestError(socket, 'EREQUEST'))).to.equal(true); // originalError
    expect(isTransientError(new Error('wrapped', { cause: requestError(1205) }))).to.equal(true); // cause
    const last = Object.assign(requestError(3998), { precedingErrors: [requestError(1205)] }); // earlier server error
    expect(isTransientError(last)).to.equal(true);
  });

  it('does not retry what retrying cannot fix', function () {
    for (const n of [2627, 2601, 208, 515, 547, 8152, 51001]) expect(isTransientError(requestError(n)), String(n)).to.equal(false);
    for (const code of ['ELOGIN', 'EABORT', 'EINJECT', 'EARGS', 'ENOTOPEN']) expect(isTransientError(connectionError(code)), code).to.equal(false);
    expect(isTransientError(new Error('plain'))).to.equal(false);
    expect(isTransientError(undefined)).to.equal(false);
    expect(isTransientError('1205')).to.equal(false);
  });

  it('recognises duplicate keys (2627 constraint, 2601 unique index) and nothing else', function () {
    expect(isDuplicateKeyError(requestError(2627))).to.equal(true);
    expect(isDuplicateKeyError(requestError(2601))).to.equal(true);
    expect(isDuplicateKeyError(requestError(1205))).to.equal(false);
    expect(isDuplicateKeyError(connectionError('ESOCKET'))).to.equal(false);
  });
});

describe('sqlserver: transient retries', function () {
  const fast = { maxAttempts: 4, baseDelayMs: 0, maxDelayMs: 0 };

  it('backs off within [0, min(max, base * 2^(n-1))]', function () {
    const r = { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 300 };
    expect(backoffMs(r, 1, () => 0.999999)).to.equal(50);
    expect(backoffMs(r, 3, () => 0.999999)).to.equal(200);
    expect(backoffMs(r, 10, () => 0.999999)).to.equal(300);
    expect(backoffMs(r, 2, () => 0)).to.equal(0);
  });

  it('runs again after a transient error, up to maxAttempts in all', async function () {
    let calls = 0;
    const value = await withRetry(fast, async () => {
      if (++calls < 3) throw requestError(1205);
      return 'done';
    });
    expect(value).to.equal('done');
    expect(calls).to.equal(3);

    calls = 0;
    let thrown: unknown;
    try {
      await withRetry(fast, async () => {
        calls++;
        throw connectionError('ESOCKET');
      });
    } catch (e) {
      thrown = e;
    }
    expect(calls).to.equal(4);
    expect((thrown as { code?: string }).code).to.equal('ESOCKET');
  });

  it('gives other errors back at once', async function () {
    let calls = 0;
    let thrown: unknown;
    try {
      await withRetry(fast, async () => {
        calls++;
        throw requestError(2627);
      });
    } catch (e) {
      thrown = e;
    }
    expect(calls).to.equal(1);
    expect(isDuplicateKeyError(thrown)).to.equal(true);
  });
});
