import { expect } from 'chai';
import { Retry } from '../retry.js';
import { call, err } from './contract-context.js';
import type { ContractContext } from './contract-context.js';

/** The storage contract's part on outcomes and leases. */
export function describeOutcomeContract(t: ContractContext): void {
  describe('outcomes', function () {
    it('done: final, lease cleared, finishedAt set; a second write is refused', async function () {
      const id = await t.add();
      const [job] = await t.claim();
      t.clock.advance(10);
      expect(await t.record({ kind: 'done', lease: t.leaseOf(job) })).to.deep.equal(['ok']);
      const stored = await t.h.admin.getJob(id);
      expect(stored!.status).to.equal('done');
      expect(stored!.lease).to.equal(null);
      expect(stored!.finishedAt!.getTime()).to.equal(t.clock.now().getTime());
      expect(await t.record({ kind: 'failed', lease: t.leaseOf(job), error: err('x') })).to.deep.equal(['lease-lost']);
      expect((await t.h.admin.getJob(id))!.status).to.equal('done');
      expect(await t.claim()).to.have.length(0);
    });

    it('retry: waits until its runAt, keeps the error, counts attempts', async function () {
      const id = await t.add(1, { retry: Retry.fixed(3, 1000) });
      const [job] = await t.claim();
      const runAt = new Date(t.clock.now().getTime() + 1_000);
      const error = { name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at x' };
      expect(await t.record({ kind: 'retry', lease: t.leaseOf(job), error, runAt })).to.deep.equal(['ok']);
      const stored = await t.h.admin.getJob(id);
      expect(stored!.status).to.equal('retry');
      expect(stored!.lastError).to.deep.equal(error);
      expect(stored!.runAt.getTime()).to.equal(runAt.getTime());
      expect(stored!.lease).to.equal(null);
      expect(stored!.finishedAt).to.equal(null);
      expect(await t.claim()).to.have.length(0);
      t.clock.advance(1_000);
      const [again] = await t.claim();
      expect(again.id).to.equal(id);
      expect(again.attempts).to.equal(2);
      expect(again.lease.token).to.not.equal(job.lease.token);
    });

    it('failed: final with its error', async function () {
      const id = await t.add();
      const [job] = await t.claim();
      expect(await t.record({ kind: 'failed', lease: t.leaseOf(job), error: err('bad input') })).to.deep.equal(['ok']);
      const stored = await t.h.admin.getJob(id);
      expect(stored!.status).to.equal('failed');
      expect(stored!.lastError).to.deep.equal(err('bad input'));
      expect(stored!.finishedAt).to.not.equal(null);
      expect(await t.claim()).to.have.length(0);
    });

    it('released: claimable at once and the attempt is not counted', async function () {
      const id = await t.add();
      const [job] = await t.claim(10, 'leaving');
      expect(await t.record({ kind: 'released', lease: t.leaseOf(job) })).to.deep.equal(['ok']);
      const stored = await t.h.admin.getJob(id);
      expect(stored!.attempts).to.equal(0);
      expect(stored!.lease).to.equal(null);
      const [again] = await t.claim(10, 'other');
      expect(again.id).to.equal(id);
      expect(again.attempts).to.equal(1);
    });

    it('applies a mixed batch, each outcome fenced on its own', async function () {
      const ids = await t.adder.addJobs([1, 2, 3, 4].map((n) => ({ call: call(n) })));
      const jobs = await t.claim(10);
      const bogus = { jobId: jobs[3].id, token: 'not-the-token' };
      const results = await t.record(
        { kind: 'done', lease: t.leaseOf(jobs[0]) },
        { kind: 'failed', lease: t.leaseOf(jobs[1]), error: err('no') },
        { kind: 'retry', lease: t.leaseOf(jobs[2]), error: err('again'), runAt: t.clock.now() },
        { kind: 'done', lease: bogus },
      );
      expect(results).to.deep.equal(['ok', 'ok', 'ok', 'lease-lost']);
      const statuses = await Promise.all(ids.map(async (id) => (await t.h.admin.getJob(id))!.status));
      expect(statuses).to.deep.equal(['done', 'failed', 'retry', 'processing']);
    });

    it('refuses a write for an unknown job', async function () {
      const results = await t.record({
        kind: 'done',
        lease: { jobId: '01890a5d-ac96-774b-bcce-b302099a8057', token: 'x' },
      });
      expect(results).to.deep.equal(['lease-lost']);
    });
  });

  describe('leases', function () {
    it('an expired lease makes the job claimable again, and fences the old owner out', async function () {
      const id = await t.add(1, { retry: Retry.fixed(5, 0) });
      const [old] = await t.claim(10, 'crashed', ['default'], 1_000);
      t.clock.advance(999);
      expect(await t.claim(10, 'other')).to.have.length(0);
      t.clock.advance(2);
      const [fresh] = await t.claim(10, 'other');
      expect(fresh.id).to.equal(id);
      expect(fresh.attempts).to.equal(2);
      expect(fresh.lease.owner).to.equal('other');
      expect(await t.record({ kind: 'done', lease: t.leaseOf(old) })).to.deep.equal(['lease-lost']);
      expect(await t.h.manager.extendLeases([t.leaseOf(old)], 1_000)).to.deep.equal(['lease-lost']);
      expect(await t.h.manager.reportProgress(t.leaseOf(old), 50)).to.equal('lease-lost');
      expect(await t.record({ kind: 'done', lease: t.leaseOf(fresh) })).to.deep.equal(['ok']);
      expect((await t.h.admin.getJob(id))!.status).to.equal('done');
    });

    it('an expired lease refuses writes even before anyone reclaims the job', async function () {
      await t.add();
      const [job] = await t.claim(10, 'slow', ['default'], 1_000);
      t.clock.advance(1_001);
      expect(await t.record({ kind: 'done', lease: t.leaseOf(job) })).to.deep.equal(['lease-lost']);
    });

    it('extending a lease keeps the job from being reclaimed', async function () {
      const id = await t.add();
      const [job] = await t.claim(10, 'runner', ['default'], 1_000);
      t.clock.advance(800);
      expect(await t.h.manager.extendLeases([t.leaseOf(job)], 1_000)).to.deep.equal(['ok']);
      expect((await t.h.admin.getJob(id))!.lease!.expiresAt.getTime()).to.equal(t.clock.now().getTime() + 1_000);
      t.clock.advance(800);
      expect(await t.claim(10, 'thief')).to.have.length(0);
      expect(await t.record({ kind: 'done', lease: t.leaseOf(job) })).to.deep.equal(['ok']);
    });

    it('a job whose lease expired on its last attempt fails instead of running again', async function () {
      const id = await t.add(1, { retry: Retry.none() });
      await t.claim(10, 'died', ['default'], 1_000);
      t.clock.advance(1_001);
      expect(await t.claim(10, 'other')).to.have.length(0);
      const stored = await t.h.admin.getJob(id);
      expect(stored!.status).to.equal('failed');
      expect(stored!.lastError!.name).to.equal('LeaseExpiredError');
      expect(stored!.lastError!.message).to.contain('died');
    });

    it("a spent job failed by a claim does not take a claimable job's place in it", async function () {
      // A short answer tells the executor the queue ran dry, so failing the spent job must not
      // cost the t.claim the job behind it.
      const spent = await t.add(1, { retry: Retry.none() });
      await t.claim(10, 'died', ['default'], 1_000);
      t.clock.advance(1_001);
      const next = await t.add(2);
      const got = await t.claim(1, 'other');
      expect(got.map((j) => j.id)).to.deep.equal([next]);
      expect((await t.h.admin.getJob(spent))!.status).to.equal('failed');
    });
  });
}
