import { expect } from 'chai';
import sql from 'mssql';
import { isDuplicateKeyError, isTransientError } from '../src/index.js';
import {
  StorageOperationError,
  StorageUnavailableError,
  isTransientStorageFailure,
  InvalidOptionError,
} from '@oddjob/core';
import { backoffMs, toStorageError, withRetry } from '../src/transient.js';

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
    for (const n of [2627, 2601, 208, 515, 547, 8152, 51001])
      expect(isTransientError(requestError(n)), String(n)).to.equal(false);
    for (const code of ['ELOGIN', 'EABORT', 'EINJECT', 'EARGS', 'ENOTOPEN'])
      expect(isTransientError(connectionError(code)), code).to.equal(false);
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

  it("backs off within [d/2, d], d = min(max, base * 2^(n-1)) (core's equal jitter)", function () {
    const r = { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 300 };
    expect(backoffMs(r, 1, () => 0.999999)).to.equal(50);
    expect(backoffMs(r, 3, () => 0.999999)).to.equal(200);
    expect(backoffMs(r, 10, () => 0.999999)).to.equal(300);
    expect(backoffMs(r, 2, () => 0)).to.equal(50);
    expect(backoffMs(r, 10, () => 0)).to.equal(150);
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

describe('sqlserver: driver errors mapped into the storage error family', function () {
  it('a transient driver failure becomes StorageUnavailableError, keeping the driver error as cause', function () {
    for (const err of [
      requestError(1205),
      requestError(40613),
      connectionError('ESOCKET'),
      connectionError('ETIMEOUT'),
    ]) {
      const mapped = toStorageError('claimJobs', err);
      expect(mapped, err.message).to.be.instanceOf(StorageUnavailableError);
      expect((mapped as StorageUnavailableError).provider).to.equal('sqlserver');
      expect((mapped as StorageUnavailableError).operation).to.equal('claimJobs');
      expect(mapped.cause).to.equal(err);
      expect(isTransientStorageFailure(mapped)).to.equal(true);
    }
  });

  it('a permanent one (syntax, missing object, permission, login) becomes StorageOperationError naming the error number', function () {
    for (const n of [102, 156, 208, 229, 230, 2627]) {
      const err = requestError(n);
      const mapped = toStorageError('claimJobs', err);
      expect(mapped, String(n)).to.be.instanceOf(StorageOperationError);
      expect(mapped.message).to.contain('claimJobs').and.contain(`error ${n}`);
      expect(mapped.cause).to.equal(err);
      expect(isTransientStorageFailure(mapped)).to.equal(false);
    }
    expect(toStorageError('open', connectionError('ELOGIN'))).to.be.instanceOf(StorageOperationError);
    expect(toStorageError('x', new Error('plain'))).to.be.instanceOf(StorageOperationError);
    expect(toStorageError('x', 'a string')).to.be.instanceOf(StorageOperationError);
  });

  it("OddJob's own errors pass through unchanged, and the duplicate-key check still sees through the mapping", function () {
    const own = new InvalidOptionError('limit', 'bad');
    expect(toStorageError('claimJobs', own)).to.equal(own);
    expect(isDuplicateKeyError(toStorageError('insertJobs', requestError(2627)))).to.equal(true);
  });
});
