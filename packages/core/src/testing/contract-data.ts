import { expect } from 'chai';
import { CorruptJobError } from '../errors.js';
import { Retry } from '../retry.js';
import { deserializeArgs } from '../serializer.js';
import type { ContractContext } from './contract-context.js';

/** The storage contract's part on data fidelity and bad stored data. */
export function describeDataContract(t: ContractContext): void {
  describe('data fidelity', function () {
    it('round-trips every serializable type through storage', async function () {
      const value = {
        date: new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 123)),
        big: 12345678901234567890123n,
        buf: Buffer.from([0, 1, 2, 255]),
        bytes: new Uint8Array([9, 8, 7]),
        map: new Map<unknown, unknown>([
          ['a', 1],
          [2, new Date(0)],
        ]),
        set: new Set(['x', 'y']),
        undef: undefined,
        nested: { list: [1, 'two', null, undefined, { deep: true }], unicode: 'żółw 🐢 "quotes" \\ \u0000' },
        nan: Number.NaN,
        negInf: -Infinity,
      };
      const id = await t.adder.addJob({ target: 't', method: 'run', args: [value, undefined, 'tail'] });
      const [job] = await t.claim();
      expect(job.id).to.equal(id);
      const args = deserializeArgs(job.args, job.id);
      expect(args).to.have.length(3);
      expect(args[1]).to.equal(undefined);
      expect(args[2]).to.equal('tail');
      const back = args[0] as typeof value;
      expect(back.date).to.be.instanceOf(Date);
      expect(back.date.getTime()).to.equal(value.date.getTime());
      expect(back.big).to.equal(value.big);
      expect(Buffer.isBuffer(back.buf)).to.equal(true);
      expect([...back.buf]).to.deep.equal([0, 1, 2, 255]);
      expect(back.bytes).to.be.instanceOf(Uint8Array);
      expect([...back.bytes]).to.deep.equal([9, 8, 7]);
      expect(back.map).to.be.instanceOf(Map);
      expect(back.map.get('a')).to.equal(1);
      expect((back.map.get(2) as Date).getTime()).to.equal(0);
      expect(back.set).to.be.instanceOf(Set);
      expect([...back.set]).to.deep.equal(['x', 'y']);
      expect('undef' in back).to.equal(true);
      expect(back.undef).to.equal(undefined);
      expect(back.nested).to.deep.equal(value.nested);
      expect(Number.isNaN(back.nan)).to.equal(true);
      expect(back.negInf).to.equal(-Infinity);
    });

    it('keeps metadata, retry policy and a unicode error message intact', async function () {
      const metadata = { user: 'u-1', tenant: 'ächme', nested: { a: [1, 2] }, flag: false, none: null };
      const id = await t.add(1, { metadata, retry: Retry.list([120_000, 10_800_000]) });
      const [job] = await t.claim();
      expect(job.metadata).to.deep.equal(metadata);
      expect(job.retry).to.deep.equal(Retry.list([120_000, 10_800_000]));
      const error = { name: 'Error', message: 'ünïcödé \'quoted\' "and" \n newline', stack: 'Error: x\n  at y' };
      await t.record({ kind: 'failed', lease: t.leaseOf(job), error });
      expect((await t.h.admin.getJob(id))!.lastError).to.deep.equal(error);
    });
  });

  describe('bad stored data', function () {
    it('a job with corrupt arguments can still be claimed, is reported, and can be failed', async function () {
      const bad = await t.add(1);
      const good = await t.add(2);
      await t.h.corruptJobArgs(bad);
      const jobs = await t.claim();
      expect(jobs.map((j) => j.id).sort()).to.deep.equal([bad, good].sort());
      const badJob = jobs.find((j) => j.id === bad)!;
      let thrown: unknown;
      try {
        deserializeArgs(badJob.args, badJob.id);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).to.be.instanceOf(CorruptJobError);
      expect((thrown as Error).message).to.contain(bad);
      const goodJob = jobs.find((j) => j.id === good)!;
      expect(t.argOf(goodJob)).to.equal(2);
      expect(
        await t.record({
          kind: 'failed',
          lease: t.leaseOf(badJob),
          error: { name: 'CorruptJobError', message: (thrown as Error).message },
        }),
      ).to.deep.equal(['ok']);
      expect((await t.h.admin.getJob(bad))!.status).to.equal('failed');
    });
  });
}
