import { expect } from 'chai';
import { InvalidOptionError } from '../errors.js';
import { Retry } from '../retry.js';
import { call, LEASE } from './contract-context.js';
import type { ContractContext } from './contract-context.js';

/** The storage contract's part on enqueue and claim. */
export function describeJobContract(t: ContractContext): void {
  describe('enqueue', function () {
    it('stores a job as new, with its options, due now by default', async function () {
      const id = await t.add(1, { metadata: { tenant: 'acme', n: 3 }, retry: Retry.fixed(4, 500) });
      const job = await t.h.admin.getJob(id);
      expect(job).to.not.equal(null);
      expect(job!.id).to.equal(id);
      expect(job!.status).to.equal('new');
      expect(job!.queue).to.equal('default');
      expect(job!.target).to.equal('t');
      expect(job!.method).to.equal('run');
      expect(job!.attempts).to.equal(0);
      expect(job!.runAt.getTime()).to.equal(t.clock.now().getTime());
      expect(job!.metadata).to.deep.equal({ tenant: 'acme', n: 3 });
      expect(job!.retry).to.deep.equal(Retry.fixed(4, 500));
      expect(job!.lease).to.equal(null);
      expect(job!.lastError).to.equal(null);
      expect(job!.finishedAt).to.equal(null);
      expect(job!.uniqueKey).to.equal(null);
    });

    it('answers null for an unknown id', async function () {
      expect(await t.h.admin.getJob('01890a5d-ac96-774b-bcce-b302099a8057')).to.equal(null);
    });

    it('adds a batch in order and returns the ids in order', async function () {
      const ids = await t.adder.addJobs([1, 2, 3].map((n) => ({ call: call(n) })));
      expect(ids).to.have.length(3);
      expect(new Set(ids).size).to.equal(3);
      const jobs = await t.claim(10);
      expect(jobs.map((j) => j.id)).to.deep.equal(ids);
      expect(jobs.map((j) => t.argOf(j))).to.deep.equal([1, 2, 3]);
    });

    it('stores a delayed job with runAt = now + delay', async function () {
      const id = await t.add(1, { delayMs: 5_000 });
      expect((await t.h.admin.getJob(id))!.runAt.getTime()).to.equal(t.clock.now().getTime() + 5_000);
    });
  });

  describe('claim', function () {
    it('claims with a lease for the owner and counts the attempt', async function () {
      const id = await t.add();
      const [job] = await t.claim(10, 'exec-1');
      expect(job.id).to.equal(id);
      expect(job.status).to.equal('processing');
      expect(job.attempts).to.equal(1);
      expect(job.lease.owner).to.equal('exec-1');
      expect(job.lease.token).to.be.a('string').and.not.equal('');
      expect(job.lease.expiresAt.getTime()).to.equal(t.clock.now().getTime() + LEASE);
      const stored = await t.h.admin.getJob(id);
      expect(stored!.status).to.equal('processing');
      expect(stored!.lease!.token).to.equal(job.lease.token);
      expect(await t.claim()).to.deep.equal([]);
    });

    it('never gives one job to two concurrent claimers', async function () {
      const ids = await t.adder.addJobs(Array.from({ length: 60 }, (_, i) => ({ call: call(i) })));
      const batches = await Promise.all(Array.from({ length: 8 }, (_, i) => t.claim(5, `owner-${i}`)));
      const claimed = batches.flat().map((j) => j.id);
      expect(new Set(claimed).size).to.equal(claimed.length);
      const rest = await t.claim(100, 'late');
      expect([...claimed, ...rest.map((j) => j.id)].sort()).to.deep.equal([...ids].sort());
      for (const b of batches) expect(b.length).to.be.at.most(5);
    });

    it('returns at most `limit` jobs', async function () {
      await t.adder.addJobs(Array.from({ length: 7 }, (_, i) => ({ call: call(i) })));
      expect(await t.claim(3)).to.have.length(3);
      expect(await t.claim(3)).to.have.length(3);
      expect(await t.claim(3)).to.have.length(1);
    });

    it('rejects a limit below 1 with a clear error', async function () {
      let thrown: unknown;
      try {
        await t.claim(0);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).to.be.instanceOf(InvalidOptionError);
    });

    it('does not claim a job before its runAt', async function () {
      const id = await t.add(1, { runAt: new Date(t.clock.now().getTime() + 60_000) });
      expect(await t.claim()).to.have.length(0);
      t.clock.advance(59_999);
      expect(await t.claim()).to.have.length(0);
      t.clock.advance(1);
      const jobs = await t.claim();
      expect(jobs.map((j) => j.id)).to.deep.equal([id]);
    });

    it('claims only from the queues asked for', async function () {
      const a = await t.add(1, { queue: 'a' });
      const b = await t.add(2, { queue: 'b' });
      await t.add(3, { queue: 'c' });
      expect((await t.claim(10, 'o', ['a'])).map((j) => j.id)).to.deep.equal([a]);
      expect((await t.claim(10, 'o', ['b', 'x'])).map((j) => j.id)).to.deep.equal([b]);
      expect(await t.claim(10, 'o', ['default'])).to.have.length(0);
    });

    it('orders by runAt, then by creation', async function () {
      const t0 = t.clock.now().getTime();
      const late = await t.add('late', { runAt: new Date(t0 - 1_000) });
      const first = await t.add('first', { runAt: new Date(t0 - 5_000) });
      const tie1 = await t.add('tie1', { runAt: new Date(t0 - 3_000) });
      const tie2 = await t.add('tie2', { runAt: new Date(t0 - 3_000) });
      const now1 = await t.add('now1');
      const jobs = await t.claim(10);
      expect(jobs.map((j) => j.id)).to.deep.equal([first, tie1, tie2, late, now1]);
    });

    it('claims across several queues in one global order', async function () {
      const t0 = t.clock.now().getTime();
      const b = await t.add('b', { queue: 'q2', runAt: new Date(t0 - 2_000) });
      const a = await t.add('a', { queue: 'q1', runAt: new Date(t0 - 3_000) });
      const c = await t.add('c', { queue: 'q1', runAt: new Date(t0 - 1_000) });
      expect((await t.claim(2, 'o', ['q1', 'q2'])).map((j) => j.id)).to.deep.equal([a, b]);
      expect((await t.claim(2, 'o', ['q1', 'q2'])).map((j) => j.id)).to.deep.equal([c]);
    });
  });
}
