import { expect } from 'chai';
import { InvalidOptionError } from '../errors.js';
import { newJobId } from '../ids.js';
import { LEASE, rejection, type ContractContext } from './contract-context.js';
import { flowHelpers } from './contract-flow-helpers.js';

/**
 * The storage contract's part on priorities (ordered before runAt in the claim), unique-key scopes
 * and the sequence tag a job carries (flow.ts).
 */
export function describePriorityContract(t: ContractContext): void {
  const f = flowHelpers(t);

  describe('priorities', function () {
    it('claims higher priority first, before older jobs; equal priorities by runAt then creation', async function () {
      const old = await t.add(1);
      t.clock.advance(10);
      const low = await t.add(2, { priority: -1 });
      const high = await t.add(3, { priority: 7 });
      const mid = await t.add(4, { priority: 3 });
      const mid2 = await t.add(5, { priority: 3 });
      t.clock.advance(10);
      const jobs = await f.claimAll();
      expect(jobs.map((j) => j.id)).to.deep.equal([high, mid, mid2, old, low]);
      expect(jobs.map((j) => j.priority)).to.deep.equal([7, 3, 3, 0, -1]);
    });

    it('a claim with a small limit takes the highest priorities', async function () {
      await t.add(1);
      const a = await t.add(2, { priority: 1 });
      const b = await t.add(3, { priority: 2 });
      const jobs = await t.claim(2);
      expect(jobs.map((j) => j.id)).to.deep.equal([b, a]);
    });

    it('a high priority job is not claimed before its runAt', async function () {
      const later = await t.add(1, { priority: 100, delayMs: 1000 });
      const now = await t.add(2);
      expect((await f.claimAll()).map((j) => j.id)).to.deep.equal([now]);
      t.clock.advance(1000);
      expect((await f.claimAll()).map((j) => j.id)).to.deep.equal([later]);
    });

    it('orders one claim over several queues by priority too', async function () {
      const a = await t.add(1, { queue: 'qa' });
      const b = await t.add(2, { queue: 'qb', priority: 1 });
      const jobs = await t.h.manager.claimJobs({ queues: ['qa', 'qb'], limit: 10, owner: 'o', leaseMs: LEASE });
      expect(jobs.map((j) => j.id)).to.deep.equal([b, a]);
    });

    it('stores the priority (0 by default) and keeps it through a retry', async function () {
      const id = await t.add(1, { priority: -32768 });
      expect((await f.get(id)).priority).to.equal(-32768);
      expect((await f.get(await t.add(2))).priority).to.equal(0);
      await f.finish(id, 'retry');
      expect((await f.get(id)).priority).to.equal(-32768);
    });

    it('refuses a priority that is not a 16-bit integer', async function () {
      for (const priority of [32768, -32769, 1.5, Number.NaN]) {
        const e = await rejection(t.add(1, { priority }));
        expect(e).to.be.instanceOf(InvalidOptionError);
        expect((e as InvalidOptionError).option).to.equal('priority');
      }
    });
  });

  describe('unique key scopes', function () {
    it("'stored' (the default) holds the key after the job ended", async function () {
      const first = await t.add(1, { uniqueKey: 'u' });
      expect((await f.get(first)).uniqueScope).to.equal('stored');
      await f.finish(first, 'done');
      expect(await t.add(2, { uniqueKey: 'u' })).to.equal(first);
    });

    it("'unfinished' holds the key until the job is final", async function () {
      const first = await t.add(1, { uniqueKey: 'u', uniqueScope: 'unfinished' });
      expect(await t.add(2, { uniqueKey: 'u', uniqueScope: 'unfinished' })).to.equal(first);
      await f.finish(first, 'retry');
      expect(await t.add(3, { uniqueKey: 'u', uniqueScope: 'unfinished' })).to.equal(first);
      t.clock.advance(60_000);
      await f.finish(first, 'failed');
      const second = await t.add(4, { uniqueKey: 'u', uniqueScope: 'unfinished' });
      expect(second).to.not.equal(first);
      const stored = await f.get(first);
      expect([stored.uniqueKey, stored.uniqueScope]).to.deep.equal(['u', 'unfinished']);
    });

    it("'queued' holds the key until the job is first claimed, and not again after a retry", async function () {
      const first = await t.add(1, { uniqueKey: 'q', uniqueScope: 'queued' });
      expect(await t.add(2, { uniqueKey: 'q', uniqueScope: 'queued' })).to.equal(first);
      await f.finish(first, 'retry');
      const second = await t.add(3, { uniqueKey: 'q', uniqueScope: 'queued' });
      expect(second).to.not.equal(first);
      expect(await t.add(4, { uniqueKey: 'q' })).to.equal(second);
      expect((await f.get(first)).uniqueKey).to.equal('q');
    });

    it("a 'queued' key is let go when its job ends unclaimed (cancelled, or decided by its parents)", async function () {
      const first = await t.add(1, { uniqueKey: 'c', uniqueScope: 'queued' });
      expect(await t.h.admin.cancelJob(first)).to.equal(true);
      const second = await t.add(2, { uniqueKey: 'c', uniqueScope: 'queued' });
      expect(second).to.not.equal(first);
      const parent = await t.add(3);
      const child = await t.add(4, { uniqueKey: 'd', uniqueScope: 'queued', after: [parent] });
      await f.finish(parent, 'failed');
      expect(await f.status(child)).to.equal('cancelled');
      expect(await t.add(5, { uniqueKey: 'd', uniqueScope: 'queued' })).to.not.equal(child);
    });

    it("a 'queued' key waiting for parents is held", async function () {
      const parent = await t.add(1);
      const child = await t.add(2, { uniqueKey: 'w', uniqueScope: 'queued', after: [parent] });
      expect(await t.add(3, { uniqueKey: 'w', uniqueScope: 'queued' })).to.equal(child);
    });

    it("a key given up by 'unfinished' is not taken back by a requeue", async function () {
      const first = await t.add(1, { uniqueKey: 'r', uniqueScope: 'unfinished' });
      await f.finish(first, 'done');
      const second = await t.add(2, { uniqueKey: 'r', uniqueScope: 'unfinished' });
      expect(await t.h.admin.requeueJob(first)).to.equal(true);
      expect(await t.add(3, { uniqueKey: 'r', uniqueScope: 'unfinished' })).to.equal(second);
    });
  });

  describe('sequence tags', function () {
    it('stores the tag and lists the jobs of one run, or of one sequence', async function () {
      const run = newJobId();
      const other = newJobId();
      const a = await t.add(1, { sequence: { name: 'nightly', run, step: 'extract' } });
      const b = await t.add(2, { sequence: { name: 'nightly', run, step: 'load' } });
      const c = await t.add(3, { sequence: { name: 'nightly', run: other, step: 'extract' } });
      await t.add(4);
      expect((await f.get(a)).sequence).to.deep.equal({ name: 'nightly', run, step: 'extract' });
      expect((await f.get(await t.add(5))).sequence).to.equal(null);
      expect((await t.h.admin.listJobs({ sequenceRun: run })).map((j) => j.id)).to.deep.equal([a, b]);
      expect((await t.h.admin.listJobs({ sequence: 'nightly' })).map((j) => j.id)).to.deep.equal([a, b, c]);
      expect(await t.h.admin.listJobs({ sequence: 'nightly', status: 'done' })).to.deep.equal([]);
    });
  });
}
