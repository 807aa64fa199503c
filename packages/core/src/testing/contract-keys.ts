import { expect } from 'chai';
import { call, type ContractContext } from './contract-context.js';
import { flowHelpers } from './contract-flow-helpers.js';

/**
 * The storage contract's part on concurrency keys and the "already running" policy (flow.ts): a key
 * admits at most `limit` unfinished jobs at once; the rest wait (waitingFor 'slot') and are admitted,
 * in claim order, in the same write that ends a keyed job.
 */
export function describeKeyContract(t: ContractContext): void {
  describe('concurrency keys', function () {
    const f = flowHelpers(t);
    const keyed = (n: number, key = 'k', extra = {}) => f.addWith(n, { concurrencyKey: key, ...extra });

    it('limit 1: the second job of a key waits for a slot until the first ends', async function () {
      const first = await keyed(1);
      const second = await keyed(2);
      const waiting = await f.get(second);
      expect([waiting.status, waiting.waitingFor]).to.deep.equal(['waiting', 'slot']);
      expect(waiting.concurrency).to.deep.equal({ key: 'k', limit: 1, alreadyRunning: 'queue' });
      expect((await f.get(first)).concurrency).to.deep.equal({ key: 'k', limit: 1, alreadyRunning: 'queue' });
      expect((await f.claimAll()).map((j) => j.id)).to.deep.equal([first]);
      expect(await f.claimAll()).to.have.length(0);
      expect((await t.h.admin.listJobs({ status: 'processing' })).map((j) => j.id)).to.deep.equal([first]);
    });

    it('the end of a keyed job admits the next: done, failed and cancelled all free the slot', async function () {
      const a = await keyed(1);
      const b = await keyed(2);
      const c = await keyed(3);
      const d = await keyed(4);
      await f.finish(a, 'done');
      expect(await f.statuses(b, c, d)).to.deep.equal(['new', 'waiting', 'waiting']);
      await f.finish(b, 'failed');
      expect(await f.statuses(c, d)).to.deep.equal(['new', 'waiting']);
      expect(await t.h.admin.cancelJob(c)).to.equal(true);
      expect(await f.status(d)).to.equal('new');
    });

    it('a job waiting out a retry backoff keeps its slot', async function () {
      const a = await keyed(1);
      const b = await keyed(2);
      await f.finish(a, 'retry');
      expect(await f.statuses(a, b)).to.deep.equal(['retry', 'waiting']);
    });

    it('limit n admits n at once', async function () {
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await keyed(i, 'pool', { concurrencyLimit: 3 }));
      expect(await f.statuses(...ids)).to.deep.equal(['new', 'new', 'new', 'waiting']);
      expect(await f.claimAll()).to.have.length(3);
    });

    it('a blocked key holds up neither other keys nor unkeyed jobs', async function () {
      const a1 = await keyed(1, 'a');
      for (let i = 0; i < 5; i++) await keyed(10 + i, 'a');
      const b1 = await keyed(2, 'b');
      const plain = await t.add(3);
      const first = await f.claimAll();
      expect(first.map((j) => j.id)).to.deep.equal([a1, b1, plain]);
    });

    it('cancelling a waiting keyed job admits no one extra', async function () {
      const a = await keyed(1);
      const b = await keyed(2);
      const c = await keyed(3);
      expect(await t.h.admin.cancelJob(b)).to.equal(true);
      expect(await f.statuses(a, b, c)).to.deep.equal(['new', 'cancelled', 'waiting']);
      await f.finish(a, 'done');
      expect(await f.status(c)).to.equal('new');
    });

    it('admits waiting jobs in claim order: priority, then runAt, then creation', async function () {
      const holder = await keyed(1);
      const late = await keyed(2);
      const urgent = await keyed(3, 'k', { priority: 10 });
      const later = await keyed(4);
      await f.finish(holder, 'done');
      expect(await f.statuses(late, urgent, later)).to.deep.equal(['waiting', 'new', 'waiting']);
      await f.finish(urgent, 'done');
      expect(await f.statuses(late, later)).to.deep.equal(['new', 'waiting']);
    });

    it("'skip' adds nothing while a job of the key is unfinished, answering that job's id", async function () {
      const first = await keyed(1, 'once', { alreadyRunning: 'skip' });
      expect(await keyed(2, 'once', { alreadyRunning: 'skip' })).to.equal(first);
      const [job] = await f.claimAll();
      expect(job.id).to.equal(first);
      expect(await keyed(3, 'once', { alreadyRunning: 'skip' })).to.equal(first);
      expect(await t.h.admin.listJobs()).to.have.length(1);
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      const next = await keyed(4, 'once', { alreadyRunning: 'skip' });
      expect(next).to.not.equal(first);
      expect(await f.status(next)).to.equal('new');
    });

    it("'skip' also sees a job of the key that waits for a slot", async function () {
      const a = await keyed(1);
      const b = await keyed(2);
      expect(await f.status(b)).to.equal('waiting');
      expect(await keyed(3, 'k', { alreadyRunning: 'skip' })).to.be.oneOf([a, b]);
      expect(await t.h.admin.listJobs()).to.have.length(2);
    });

    it("'allow' runs beside the key's jobs and still holds a slot", async function () {
      const a = await keyed(1);
      const side = await keyed(2, 'k', { alreadyRunning: 'allow' });
      const queued = await keyed(3);
      expect(await f.statuses(a, side, queued)).to.deep.equal(['new', 'new', 'waiting']);
      await f.finish(a, 'done');
      expect(await f.status(queued)).to.equal('waiting');
      await f.finish(side, 'done');
      expect(await f.status(queued)).to.equal('new');
    });

    it('a job whose executor died keeps its slot until it runs again or is failed', async function () {
      const a = await keyed(1, 'k', { retry: { maxAttempts: 2, backoff: { kind: 'fixed', delayMs: 0 } } });
      const b = await keyed(2);
      await t.claim(10, 'dies', ['default'], 1000);
      t.clock.advance(1001);
      const [again] = await t.claim(10, 'heir', ['default'], 1000);
      expect(again.id).to.equal(a);
      expect(await f.status(b)).to.equal('waiting');
      t.clock.advance(1001);
      // a's attempts are spent: this claim fails it, which admits b, which the same claim then takes
      expect((await t.claim(10, 'heir2', ['default'], 1000)).map((j) => j.id)).to.deep.equal([b]);
      expect(await f.statuses(a, b)).to.deep.equal(['failed', 'processing']);
    });

    it('a child released by its parents while its key is full waits for a slot', async function () {
      const holder = await keyed(1);
      const parent = await t.add(2);
      const child = await t.add(3, { after: [parent], concurrencyKey: 'k' });
      expect((await f.get(child)).waitingFor).to.equal('parents');
      await f.finish(parent, 'done');
      const c = await f.get(child);
      expect([c.status, c.waitingFor]).to.deep.equal(['waiting', 'slot']);
      await f.finish(holder, 'done');
      expect(await f.status(child)).to.equal('new');
    });

    it('a requeued keyed job waits for a slot if its key is full', async function () {
      const a = await keyed(1);
      await f.finish(a, 'failed');
      const b = await keyed(2);
      expect(await t.h.admin.requeueJob(a)).to.equal(true);
      expect(await f.statuses(a, b)).to.deep.equal(['waiting', 'new']);
      await f.finish(b, 'done');
      expect(await f.status(a)).to.equal('new');
    });

    it('concurrent adds of one key admit exactly limit of them', async function () {
      const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => keyed(i, 'race', { concurrencyLimit: 2 })));
      const states = await f.statuses(...ids);
      expect(states.filter((s) => s === 'new')).to.have.length(2);
      expect(states.filter((s) => s === 'waiting')).to.have.length(10);
    });

    it("concurrent 'skip' adds of one key store exactly one job", async function () {
      const ids = await Promise.all(
        Array.from({ length: 12 }, (_, i) => keyed(i, 'single', { alreadyRunning: 'skip' })),
      );
      expect(new Set(ids).size).to.equal(1);
      expect(await t.h.admin.listJobs()).to.have.length(1);
    });

    it('a batch with several jobs of one key admits them in batch order', async function () {
      const ids = await t.adder.addJobs([
        { call: call(1), options: { concurrencyKey: 'batch' } },
        { call: call(2), options: { concurrencyKey: 'batch' } },
        { call: call(3), options: { concurrencyKey: 'other' } },
      ]);
      expect(await f.statuses(...ids)).to.deep.equal(['new', 'waiting', 'new']);
    });
  });
}
