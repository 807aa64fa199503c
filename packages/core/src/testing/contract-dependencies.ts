import { expect } from 'chai';
import { InvalidOptionError, UnknownParentError } from '../errors.js';
import { DEPENDENCY_ERROR_NAME } from '../flow.js';
import { newJobId } from '../ids.js';
import { call, LEASE, rejection, type ContractContext } from './contract-context.js';
import { flowHelpers } from './contract-flow-helpers.js';

/**
 * The storage contract's part on dependencies (flow.ts): a job added with `after` waits until its
 * parents are final, then runs or is cancelled by its rule, in the same write as the parent's end.
 */
export function describeDependencyContract(t: ContractContext): void {
  describe('dependencies', function () {
    const f = flowHelpers(t);

    it('a child waits (waitingFor parents) and is not claimed while its parent is open', async function () {
      const parent = await t.add(1);
      const child = await t.add(2, { after: [parent] });
      const stored = await f.get(child);
      expect(stored.status).to.equal('waiting');
      expect(stored.waitingFor).to.equal('parents');
      expect(stored.after).to.deep.equal({ rule: 'each', parents: [{ job: parent, when: 'succeeded' }] });
      const claimed = await f.claimAll();
      expect(claimed.map((j) => j.id)).to.deep.equal([parent]);
      expect((await f.get(parent)).waitingFor).to.equal(null);
    });

    it('a parent that succeeds releases its child: new, claimable, waitingFor null', async function () {
      const parent = await t.add(1);
      const child = await t.add(2, { after: [parent] });
      await f.finish(parent, 'done');
      const released = await f.get(child);
      expect([released.status, released.waitingFor]).to.deep.equal(['new', null]);
      expect((await f.claimAll()).map((j) => j.id)).to.deep.equal([child]);
    });

    it('a parent that fails cancels a child waiting for success, naming the parent', async function () {
      const parent = await t.add(1);
      const child = await t.add(2, { after: [parent] });
      await f.finish(parent, 'failed');
      const decided = await f.get(child);
      expect(decided.status).to.equal('cancelled');
      expect(decided.waitingFor).to.equal(null);
      expect(decided.finishedAt).to.be.instanceOf(Date);
      expect(decided.lastError).to.deep.equal({
        name: DEPENDENCY_ERROR_NAME,
        message: `parent ${parent} ended failed, not succeeded`,
      });
      expect((await t.h.admin.waitForJob(child, { timeoutMs: 5000 })).status).to.equal('cancelled');
    });

    it("'failed' runs only after a failure, 'finished' after any end", async function () {
      const ok = await t.add(1);
      const bad = await t.add(2);
      const onFailOfOk = await t.add(3, { after: [{ job: ok, when: 'failed' }] });
      const onFailOfBad = await t.add(4, { after: [{ job: bad, when: 'failed' }] });
      const always = await t.add(5, { after: [{ job: bad, when: 'finished' }] });
      await f.finish(ok, 'done');
      await f.finish(bad, 'failed');
      expect(await f.statuses(onFailOfOk, onFailOfBad, always)).to.deep.equal(['cancelled', 'new', 'new']);
      expect((await f.get(onFailOfOk)).lastError!.message).to.equal(`parent ${ok} ended done, not failed`);
    });

    it('a retry or a release at shutdown is not an end: the child keeps waiting', async function () {
      const parent = await t.add(1);
      const child = await t.add(2, { after: [{ job: parent, when: 'finished' }] });
      await f.finish(parent, 'retry');
      expect(await f.status(child)).to.equal('waiting');
      t.clock.advance(60_000);
      const [job] = await t.claim();
      await t.record({ kind: 'released', lease: t.leaseOf(job) });
      expect(await f.status(child)).to.equal('waiting');
    });

    it('fan-in: a child of two parents waits for both, then is decided by the first that broke its rule', async function () {
      const a = await t.add(1);
      const b = await t.add(2);
      const c = await t.add(3);
      const both = await t.add(4, { after: [a, b] });
      const failing = await t.add(5, { after: [a, c] });
      await f.finish(a, 'done');
      expect(await f.statuses(both, failing)).to.deep.equal(['waiting', 'waiting']);
      await f.finish(b, 'done');
      expect(await f.status(both)).to.equal('new');
      await f.finish(c, 'failed');
      const decided = await f.get(failing);
      expect(decided.status).to.equal('cancelled');
      expect(decided.lastError!.message).to.equal(`parent ${c} ended failed, not succeeded`);
    });

    it('a failure does not decide a fan-in child before its other parents end', async function () {
      const a = await t.add(1);
      const b = await t.add(2);
      const child = await t.add(3, { after: [a, b] });
      await f.finish(a, 'failed');
      expect(await f.status(child)).to.equal('waiting');
      await f.finish(b, 'done');
      expect((await f.get(child)).lastError!.message).to.equal(`parent ${a} ended failed, not succeeded`);
    });

    it("'mixed' runs when some parents succeeded and some did not, and is cancelled otherwise", async function () {
      const [a, b, c, d] = [await t.add(1), await t.add(2), await t.add(3), await t.add(4)];
      const mixed = await t.add(5, { after: [a, b], afterRule: 'mixed' });
      const allDone = await t.add(6, { after: [c, d], afterRule: 'mixed' });
      await f.finish(a, 'done');
      await f.finish(b, 'failed');
      await f.finish(c, 'done');
      await f.finish(d, 'done');
      expect(await f.statuses(mixed, allDone)).to.deep.equal(['new', 'cancelled']);
      expect((await f.get(allDone)).lastError!.message).to.equal('every parent ended done, not a mixed outcome');
      expect((await f.get(mixed)).after!.rule).to.equal('mixed');
    });

    it('fan-out: every child of a parent is released by its one outcome', async function () {
      const parent = await t.add(1);
      const children = [];
      for (let i = 0; i < 5; i++) children.push(await t.add(10 + i, { after: [parent] }));
      await f.finish(parent, 'done');
      expect(await f.statuses(...children)).to.deep.equal(children.map(() => 'new'));
    });

    it('a cancelled child decides its own children in turn (a chain ends at once)', async function () {
      const a = await t.add(1);
      const b = await t.add(2, { after: [a] });
      const c = await t.add(3, { after: [b] });
      const cleanup = await t.add(4, { after: [{ job: b, when: 'finished' }] });
      await f.finish(a, 'failed');
      expect(await f.statuses(b, c, cleanup)).to.deep.equal(['cancelled', 'cancelled', 'new']);
      expect((await f.get(c)).lastError!.message).to.equal(`parent ${b} ended cancelled, not succeeded`);
    });

    it('cancelling a parent decides its children; cancelling a waiting child decides its own', async function () {
      const parent = await t.add(1);
      const child = await t.add(2, { after: [parent] });
      const grandchild = await t.add(3, { after: [{ job: child, when: 'finished' }] });
      const other = await t.add(4);
      const otherChild = await t.add(5, { after: [other] });
      expect(await t.h.admin.cancelJob(parent)).to.equal(true);
      expect(await f.statuses(child, grandchild)).to.deep.equal(['cancelled', 'new']);
      expect(await t.h.admin.cancelJob(otherChild)).to.equal(true);
      expect(await f.status(otherChild)).to.equal('cancelled');
      expect(await t.h.admin.cancelJob(otherChild)).to.equal(false);
    });

    it('a parent already final when the child is added decides it in the insert', async function () {
      const done = await t.add(1);
      const failed = await t.add(2);
      await f.finish(done, 'done');
      await f.finish(failed, 'failed');
      const runs = await t.add(3, { after: [done] });
      const never = await t.add(4, { after: [failed] });
      const half = await t.add(5, { after: [done, await t.add(6)] });
      expect(await f.statuses(runs, never, half)).to.deep.equal(['new', 'cancelled', 'waiting']);
    });

    it('refuses unknown parents, writing nothing of the batch', async function () {
      const missing = newJobId();
      const known = await t.add(1);
      const e = await rejection(
        t.adder.addJobs([{ call: call(2) }, { call: call(3), options: { after: [known, missing] } }]),
      );
      expect(e).to.be.instanceOf(UnknownParentError);
      expect((e as UnknownParentError).parentIds).to.deep.equal([missing]);
      expect((e as Error).message).to.contain(missing);
      expect((await t.h.admin.listJobs()).map((j) => j.id)).to.deep.equal([known]);
      expect(await rejection(t.add(4, { after: [missing] }))).to.be.instanceOf(UnknownParentError);
    });

    it('links a batch by index, in any order, and refuses a cycle before writing', async function () {
      const ids = await t.adder.addJobs([
        { call: call(1), options: { after: [1] } },
        { call: call(2) },
        { call: call(3), options: { after: [{ job: 0, when: 'finished' }, 1] } },
      ]);
      expect(await f.statuses(...ids)).to.deep.equal(['waiting', 'new', 'waiting']);
      expect((await f.get(ids[2])).after!.parents).to.deep.equal([
        { job: ids[0], when: 'finished' },
        { job: ids[1], when: 'succeeded' },
      ]);
      await f.finish(ids[1], 'done');
      await f.finish(ids[0], 'done');
      expect(await f.status(ids[2])).to.equal('new');
      const before = (await t.h.admin.listJobs()).length;
      const e = await rejection(
        t.adder.addJobs([
          { call: call(4), options: { after: [1] } },
          { call: call(5), options: { after: [0] } },
        ]),
      );
      expect(e).to.be.instanceOf(InvalidOptionError);
      expect((e as Error).message).to.contain('cycle');
      expect(await t.h.admin.listJobs()).to.have.length(before);
    });

    it('a batch parent answered by a held unique key stands for the holder: its child waits on that job', async function () {
      const holder = await t.add(1, { uniqueKey: 'u-dep' });
      const ids = await t.adder.addJobs([
        { call: call(2), options: { uniqueKey: 'u-dep' } },
        { call: call(3), options: { after: [0] } },
      ]);
      expect(ids[0]).to.equal(holder);
      const child = await f.get(ids[1]);
      expect([child.status, child.waitingFor]).to.deep.equal(['waiting', 'parents']);
      expect(child.after!.parents).to.deep.equal([{ job: holder, when: 'succeeded' }]);
      await f.finish(holder, 'done');
      expect(await f.status(ids[1])).to.equal('new');
    });

    it("a batch parent answered by 'skip' stands for the busy key's job: its child waits on that job", async function () {
      const busy = await t.add(1, { concurrencyKey: 'k-dep', alreadyRunning: 'skip' });
      const ids = await t.adder.addJobs([
        { call: call(2), options: { concurrencyKey: 'k-dep', alreadyRunning: 'skip' } },
        { call: call(3), options: { after: [{ job: 0, when: 'failed' }] } },
      ]);
      expect(ids[0]).to.equal(busy);
      expect((await f.get(ids[1])).after!.parents).to.deep.equal([{ job: busy, when: 'failed' }]);
      await f.finish(busy, 'failed');
      expect(await f.status(ids[1])).to.equal('new');
    });

    it('remembers a purged parent: a child waiting on others is decided by what the parent ended as', async function () {
      const a = await t.add(1);
      const b = await t.add(2);
      const child = await t.add(3, { after: [a, b] });
      await f.finish(a, 'done');
      expect(await t.h.admin.purgeJobs({ statuses: ['done'] })).to.equal(1);
      expect(await t.h.admin.getJob(a)).to.equal(null);
      await f.finish(b, 'done');
      expect(await f.status(child)).to.equal('new');
    });

    it('a parent failed by the claim (its last lease expired) decides its children', async function () {
      const parent = await t.add(1, { retry: { maxAttempts: 1, backoff: { kind: 'fixed', delayMs: 0 } } });
      const child = await t.add(2, { after: [parent] });
      await t.claim(1, 'doomed', ['default'], 1000);
      t.clock.advance(1001);
      expect(await t.claim()).to.have.length(0);
      expect(await f.status(parent)).to.equal('failed');
      expect(await f.status(child)).to.equal('cancelled');
    });

    it('a released child keeps its own runAt and priority', async function () {
      const parent = await t.add(1);
      const late = await t.add(2, { after: [parent], delayMs: 60_000 });
      const urgent = await t.add(3, { after: [parent], priority: 5 });
      const plain = await t.add(4, { after: [parent] });
      await f.finish(parent, 'done');
      const first = await f.claimAll();
      expect(first.map((j) => j.id)).to.deep.equal([urgent, plain]);
      await t.record(...first.map((j) => ({ kind: 'done' as const, lease: t.leaseOf(j) })));
      t.clock.advance(60_000);
      expect((await f.claimAll()).map((j) => j.id)).to.deep.equal([late]);
    });

    it('lists and counts waiting jobs by status', async function () {
      const parent = await t.add(1);
      const child = await t.add(2, { after: [parent] });
      expect((await t.h.admin.listJobs({ status: 'waiting' })).map((j) => j.id)).to.deep.equal([child]);
      const counts = await t.h.admin.countJobs();
      expect(counts.find((c) => c.status === 'waiting')?.count).to.equal(1);
    });

    it('a requeued child decided by its parents runs again, without waiting', async function () {
      const parent = await t.add(1);
      const child = await t.add(2, { after: [parent] });
      await f.finish(parent, 'failed');
      expect(await t.h.admin.requeueJob(child)).to.equal(true);
      expect(await f.status(child)).to.equal('new');
      await f.finish(child, 'done');
    });

    it('a job cannot run at once and wait for parents (insertAttempted refuses after)', async function () {
      const parent = await t.add(1);
      const job = {
        ...t.adder['prepare']({ call: call(2) }),
        after: { rule: 'each' as const, parents: [{ job: parent, when: 'succeeded' as const }] },
      };
      const now = t.clock.now();
      const e = await rejection(
        t.h.writer.insertAttempted([{ job, owner: 'o', startedAt: now, finishedAt: now, outcome: { kind: 'done' } }]),
      );
      expect(e).to.be.instanceOf(InvalidOptionError);
      expect(await t.h.admin.getJob(job.id)).to.equal(null);
    });

    it('leases of released children work like any other', async function () {
      const parent = await t.add(1);
      const child = await t.add(2, { after: [parent] });
      await f.finish(parent, 'done');
      const [job] = await t.claim(1, 'x', ['default'], LEASE);
      expect(job.id).to.equal(child);
      expect(await t.h.manager.extendLeases([t.leaseOf(job)], LEASE)).to.deep.equal(['ok']);
    });
  });
}
