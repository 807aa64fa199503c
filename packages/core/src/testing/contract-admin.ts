import { expect } from 'chai';
import type { IJobQueueAdmin } from '../admin.js';
import { Retry } from '../retry.js';
import type { JobStatus } from '../status.js';
import { call, err } from './contract-context.js';
import type { ContractContext } from './contract-context.js';

/** The storage contract's part on admin operations, unique keys and progress. */
export function describeAdminContract(t: ContractContext): void {
  describe('cancel and requeue', function () {
    it('cancels a waiting job so it is never claimed', async function () {
      const id = await t.add();
      expect(await t.h.admin.cancelJob(id)).to.equal(true);
      const stored = await t.h.admin.getJob(id);
      expect(stored!.status).to.equal('cancelled');
      expect(stored!.finishedAt).to.not.equal(null);
      expect(await t.claim()).to.have.length(0);
      expect(await t.h.admin.cancelJob(id)).to.equal(false);
    });

    it('cancels a job waiting for a retry', async function () {
      const id = await t.add(1, { retry: Retry.fixed(3, 10) });
      const [job] = await t.claim();
      await t.record({ kind: 'retry', lease: t.leaseOf(job), error: err('x'), runAt: t.clock.now() });
      expect(await t.h.admin.cancelJob(id)).to.equal(true);
      expect(await t.claim()).to.have.length(0);
    });

    it("cancels a running job: its executor's result is refused", async function () {
      const id = await t.add();
      const [job] = await t.claim();
      expect(await t.h.admin.cancelJob(id)).to.equal(true);
      expect(await t.record({ kind: 'done', lease: t.leaseOf(job) })).to.deep.equal(['lease-lost']);
      expect((await t.h.admin.getJob(id))!.status).to.equal('cancelled');
    });

    it('does not cancel a finished or unknown job', async function () {
      const id = await t.add();
      const [job] = await t.claim();
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      expect(await t.h.admin.cancelJob(id)).to.equal(false);
      expect(await t.h.admin.cancelJob('01890a5d-ac96-774b-bcce-b302099a8057')).to.equal(false);
      expect((await t.h.admin.getJob(id))!.status).to.equal('done');
    });

    it('requeues a failed job with its attempts reset', async function () {
      const id = await t.add(1, { retry: Retry.none() });
      const [job] = await t.claim();
      await t.record({ kind: 'failed', lease: t.leaseOf(job), error: err('x') });
      expect(await t.h.admin.requeueJob(id)).to.equal(true);
      const stored = await t.h.admin.getJob(id);
      expect(stored!.status).to.equal('new');
      expect(stored!.attempts).to.equal(0);
      expect(stored!.finishedAt).to.equal(null);
      const [again] = await t.claim();
      expect(again.id).to.equal(id);
      expect(again.attempts).to.equal(1);
    });

    it('requeues for a later time, and refuses a job that is not final', async function () {
      const id = await t.add();
      expect(await t.h.admin.requeueJob(id)).to.equal(false);
      await t.h.admin.cancelJob(id);
      const later = new Date(t.clock.now().getTime() + 10_000);
      expect(await t.h.admin.requeueJob(id, { runAt: later })).to.equal(true);
      expect(await t.claim()).to.have.length(0);
      t.clock.advance(10_000);
      expect((await t.claim()).map((j) => j.id)).to.deep.equal([id]);
    });
  });

  describe('unique keys', function () {
    it('a taken key adds nothing and answers the holder', async function () {
      const first = await t.add(1, { uniqueKey: 'k1' });
      const second = await t.add(2, { uniqueKey: 'k1' });
      const other = await t.add(3, { uniqueKey: 'k2' });
      expect(second).to.equal(first);
      expect(other).to.not.equal(first);
      const jobs = await t.h.admin.listJobs();
      expect(jobs.map((j) => t.argOf(j)).sort()).to.deep.equal([1, 3]);
      expect((await t.h.admin.getJob(first))!.uniqueKey).to.equal('k1');
    });

    it('the key stays taken after the job finished, until it is purged', async function () {
      const first = await t.add(1, { uniqueKey: 'k' });
      const [job] = await t.claim();
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      expect(await t.add(2, { uniqueKey: 'k' })).to.equal(first);
      expect(await t.h.admin.purgeJobs({ statuses: ['done'] })).to.equal(1);
      const fresh = await t.add(3, { uniqueKey: 'k' });
      expect(fresh).to.not.equal(first);
      expect(t.argOf((await t.h.admin.getJob(fresh))!)).to.equal(3);
    });

    it('dedupes within one batch and against stored jobs', async function () {
      const stored = await t.add(0, { uniqueKey: 'a' });
      const ids = await t.adder.addJobs([
        { call: call(1), options: { uniqueKey: 'a' } },
        { call: call(2), options: { uniqueKey: 'b' } },
        { call: call(3), options: { uniqueKey: 'b' } },
        { call: call(4) },
      ]);
      expect(ids[0]).to.equal(stored);
      expect(ids[2]).to.equal(ids[1]);
      expect(new Set(ids).size).to.equal(3);
      expect(await t.h.admin.listJobs()).to.have.length(3);
    });

    it('concurrent adds of one key store one job', async function () {
      const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => t.add(i, { uniqueKey: 'race' })));
      expect(new Set(ids).size).to.equal(1);
      expect(await t.h.admin.listJobs()).to.have.length(1);
    });
  });

  describe('progress', function () {
    it('stores numeric and structured progress under the lease', async function () {
      const id = await t.add();
      const [job] = await t.claim();
      expect(await t.h.manager.reportProgress(t.leaseOf(job), 40)).to.equal('ok');
      expect((await t.h.admin.getJob(id))!.progress).to.equal(40);
      expect(await t.h.manager.reportProgress(t.leaseOf(job), { done: 3, of: 9, stage: 'copy' })).to.equal('ok');
      expect((await t.h.admin.getJob(id))!.progress).to.deep.equal({ done: 3, of: 9, stage: 'copy' });
      expect(await t.h.manager.reportProgress({ jobId: id, token: 'wrong' }, 99)).to.equal('lease-lost');
    });
  });

  describe('admin queries', function () {
    it('lists by status, queue and target, in creation order, with limit and offset', async function () {
      const a1 = await t.adder.addJob(call(1, 'alpha'), { queue: 'q1' });
      const b1 = await t.adder.addJob(call(2, 'beta'), { queue: 'q1' });
      const a2 = await t.adder.addJob(call(3, 'alpha'), { queue: 'q2' });
      const a3 = await t.adder.addJob(call(4, 'alpha'), { queue: 'q1' });
      const [job] = await t.claim(1, 'o', ['q2']);
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      const ids = async (f: Parameters<IJobQueueAdmin['listJobs']>[0]) =>
        (await t.h.admin.listJobs(f)).map((j) => j.id);
      expect(await ids({})).to.deep.equal([a1, b1, a2, a3]);
      expect(await ids({ queue: 'q1' })).to.deep.equal([a1, b1, a3]);
      expect(await ids({ target: 'alpha' })).to.deep.equal([a1, a2, a3]);
      expect(await ids({ status: 'done' })).to.deep.equal([a2]);
      expect(await ids({ status: ['new', 'done'], target: 'alpha' })).to.deep.equal([a1, a2, a3]);
      expect(await ids({ queue: 'q1', target: 'alpha', status: 'new' })).to.deep.equal([a1, a3]);
      expect(await ids({ limit: 2 })).to.deep.equal([a1, b1]);
      expect(await ids({ limit: 2, offset: 2 })).to.deep.equal([a2, a3]);
    });

    it('lists after an id, with filters, limit and offset, in the order ids compare as strings', async function () {
      const a1 = await t.adder.addJob(call(1, 'alpha'), { queue: 'q1' });
      const b1 = await t.adder.addJob(call(2, 'beta'), { queue: 'q1' });
      const a2 = await t.adder.addJob(call(3, 'alpha'), { queue: 'q2' });
      const a3 = await t.adder.addJob(call(4, 'alpha'), { queue: 'q1' });
      const b2 = await t.adder.addJob(call(5, 'beta'), { queue: 'q2' });
      const [job] = await t.claim(1, 'o', ['q2']);
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      const ids = async (f: Parameters<IJobQueueAdmin['listJobs']>[0]) =>
        (await t.h.admin.listJobs(f)).map((j) => j.id);
      const all = [a1, b1, a2, a3, b2];
      // Creation order is string order for the ids stores make (lowercase UUIDv7, the PostgreSQL
      // store's uuid type included), so "after" agrees across stores.
      expect([...all].sort()).to.deep.equal(all);
      expect(await ids({ afterId: a1 })).to.deep.equal([b1, a2, a3, b2]);
      expect(await ids({ afterId: b2 })).to.deep.equal([]);
      expect(await ids({ afterId: a1, queue: 'q1' })).to.deep.equal([b1, a3]);
      expect(await ids({ afterId: b1, target: 'alpha', limit: 1 })).to.deep.equal([a2]);
      expect(await ids({ afterId: a1, target: 'alpha', offset: 1 })).to.deep.equal([a3]);
      expect(await ids({ afterId: a1, status: 'new', queue: 'q2' })).to.deep.equal([b2]);
      expect(await ids({ afterId: a2, status: ['new', 'done'], offset: 1, limit: 1 })).to.deep.equal([b2]);
      // Paging one at a time by the last id seen reads every job once.
      const paged: string[] = [];
      for (let page = await ids({ limit: 1 }); page.length > 0; page = await ids({ afterId: paged.at(-1), limit: 1 }))
        paged.push(...page);
      expect(paged).to.deep.equal(all);
      // afterId need not be an id: upper case, prefixes, longer strings, non-hex, non-ASCII all
      // compare as strings (a store with uuid-typed ids must not refuse or reorder them).
      const odd = [
        '',
        a2.toUpperCase(),
        a2.slice(0, 30),
        a2.slice(0, 9),
        `${a2}0`,
        `${a2.slice(0, 35)}g`,
        `${a2.slice(0, 20)}~`,
        `${a2.slice(0, 14)}\u00e9`,
        a2.replace(/-/g, '.'),
        'zzz',
        '~',
        '0',
      ];
      for (const afterId of odd) {
        expect(await ids({ afterId }), JSON.stringify(afterId)).to.deep.equal(all.filter((id) => id > afterId));
      }
    });

    it('answers every mix of status, queue, target, afterId and paging as a filter over the whole list', async function () {
      // A store may read unfinished statuses from another index than finished ones (PostgreSQL does):
      // every status in two queues and two targets, each mix compared with the plain list filtered here.
      const made: Array<[string, string, JobStatus]> = [];
      const settle = async (queue: string, target: string, status: JobStatus): Promise<void> => {
        const id = await t.adder.addJob(call(made.length, target), { queue, retry: Retry.fixed(3, 10) });
        made.push([queue, target, status]);
        if (status === 'new') return;
        if (status === 'cancelled') return void (await t.h.admin.cancelJob(id));
        const [job] = await t.claim(1, 'o', [queue]);
        expect(job.id).to.equal(id);
        if (status === 'processing') return;
        const lease = t.leaseOf(job);
        const later = new Date(t.clock.now().getTime() + 3_600_000); // not claimable again in this test
        if (status === 'retry') await t.record({ kind: 'retry', lease, error: err('x'), runAt: later });
        else if (status === 'failed') await t.record({ kind: 'failed', lease, error: err('x') });
        else await t.record({ kind: 'done', lease });
      };
      // Claimed ones first, so each claim takes the job just added; waiting ones last.
      const order: JobStatus[] = ['processing', 'retry', 'done', 'failed', 'cancelled', 'new'];
      for (const status of order)
        for (const queue of ['q1', 'q2']) for (const target of ['alpha', 'beta']) await settle(queue, target, status);
      const all = await t.h.admin.listJobs({ limit: 1000 });
      expect(all).to.have.length(made.length);
      const statusSets: JobStatus[][] = [
        ['new'],
        ['processing'],
        ['retry'],
        ['new', 'retry'],
        ['new', 'processing', 'retry'],
        ['processing', 'done'],
        ['failed', 'cancelled'],
      ];
      const pages = [{}, { limit: 1 }, { offset: 1, limit: 2 }];
      for (const status of statusSets)
        for (const queue of [undefined, 'q1', 'q2'])
          for (const target of [undefined, 'alpha'])
            for (const afterId of [undefined, all[5].id])
              for (const page of pages) {
                const f = { status, queue, target, afterId, ...page };
                const want = all
                  .filter((j) => status.includes(j.status) && (queue === undefined || j.queue === queue))
                  .filter(
                    (j) => (target === undefined || j.target === target) && (afterId === undefined || j.id > afterId),
                  )
                  .slice(page.offset ?? 0, (page.offset ?? 0) + (page.limit ?? 1000))
                  .map((j) => j.id);
                const got = (await t.h.admin.listJobs(f)).map((j) => j.id);
                expect(got, JSON.stringify(f)).to.deep.equal(want);
              }
    });

    it('counts per queue and status', async function () {
      await t.adder.addJobs([
        { call: call(1), options: { queue: 'q1' } },
        { call: call(2), options: { queue: 'q1' } },
        { call: call(3), options: { queue: 'q2' } },
      ]);
      const [job] = await t.claim(1, 'o', ['q1']);
      await t.record({ kind: 'failed', lease: t.leaseOf(job), error: err('x') });
      const sort = (c: { queue: string; status: string }[]) =>
        [...c].sort((x, y) => `${x.queue}/${x.status}`.localeCompare(`${y.queue}/${y.status}`));
      expect(sort(await t.h.admin.countJobs())).to.deep.equal([
        { queue: 'q1', status: 'failed', count: 1 },
        { queue: 'q1', status: 'new', count: 1 },
        { queue: 'q2', status: 'new', count: 1 },
      ]);
      expect(await t.h.admin.countJobs({ queue: 'q2' })).to.deep.equal([{ queue: 'q2', status: 'new', count: 1 }]);
    });

    it('purges only final jobs matching statuses, queue and age', async function () {
      const ids = await t.adder.addJobs([1, 2, 3, 4].map((n) => ({ call: call(n) })));
      const jobs = await t.claim(3, 'o', ['default'], 600_000);
      expect(await t.record({ kind: 'done', lease: t.leaseOf(jobs[0]) })).to.deep.equal(['ok']);
      t.clock.advance(60_000);
      await t.record(
        { kind: 'done', lease: t.leaseOf(jobs[1]) },
        { kind: 'failed', lease: t.leaseOf(jobs[2]), error: err('x') },
      );
      const cutoff = new Date(t.clock.now().getTime() - 30_000);
      expect(await t.h.admin.purgeJobs({ statuses: ['done'], finishedBefore: cutoff })).to.equal(1);
      expect(await t.h.admin.getJob(ids[0])).to.equal(null);
      expect(await t.h.admin.purgeJobs({ statuses: ['done'], queue: 'other' })).to.equal(0);
      expect(await t.h.admin.purgeJobs({ statuses: ['done', 'failed'] })).to.equal(2);
      expect((await t.h.admin.listJobs()).map((j) => j.id)).to.deep.equal([ids[3]]);
    });
  });
}
