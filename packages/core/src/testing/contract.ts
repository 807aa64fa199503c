import { expect } from 'chai';
import type { IJobQueueAdmin } from '../admin.js';
import { JobQueueAdder, type IJobWriter } from '../adder.js';
import { CorruptJobError, InvalidOptionError } from '../errors.js';
import type { ClaimedJob, JobCall, JobOptions } from '../job.js';
import type { IJobQueueManager, JobOutcome } from '../manager.js';
import { Retry } from '../retry.js';
import type { IScheduleStore } from '../schedule-store.js';
import { deserializeArgs } from '../serializer.js';
import { TestClock } from './test-clock.js';

/** What a provider hands the contract suite: one fresh, empty, isolated store per test. */
export interface ContractHarness {
  writer: IJobWriter<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  manager: IJobQueueManager;
  admin: IJobQueueAdmin;
  schedules: IScheduleStore;
  /**
   * Makes the stored arguments of a job unreadable, the way a bad write or a hand edit would (e.g.
   * `UPDATE ... SET args = '{not json'`). The suite checks the job can still be claimed and failed.
   */
  corruptJobArgs(jobId: string): Promise<void>;
  /** Closes connections and removes what the test created (schema, directory). */
  close(): Promise<void>;
}

/** Builds a store whose every notion of "now" comes from `clock`. */
export type HarnessFactory = (clock: TestClock) => Promise<ContractHarness>;

const LEASE = 30_000;
const call = (n: number | string = 0, target = 't'): JobCall => ({ target, method: 'run', args: [n] });
const err = (message: string) => ({ name: 'Error', message });

/**
 * The storage contract: every provider (memory, fs, postgres, sqlserver) runs this against itself,
 * and so can a user's own provider. Each test gets a fresh store from `create`, and every notion of
 * "now" comes from the TestClock it is given, so nothing here sleeps.
 */
export function describeStorageContract(name: string, create: HarnessFactory): void {
  describe(`storage contract: ${name}`, function () {
    let clock: TestClock;
    let h: ContractHarness;
    let adder: JobQueueAdder<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

    beforeEach(async function () {
      clock = new TestClock();
      h = await create(clock);
      adder = new JobQueueAdder(h.writer, { clock });
    });
    afterEach(async function () {
      await h?.close();
    });

    const add = (n: number | string = 0, options: JobOptions = {}) => adder.addJob(call(n), options);
    const claim = (limit = 10, owner = 'owner-a', queues = ['default'], leaseMs = LEASE) =>
      h.manager.getJobs({ queues, limit, owner, leaseMs });
    const leaseOf = (j: ClaimedJob) => ({ jobId: j.id, token: j.lease.token });
    const record = (...outcomes: JobOutcome[]) => h.manager.recordOutcomes(outcomes);
    const argOf = (j: { args: string; id: string }) => deserializeArgs(j.args, j.id)[0];

    describe('enqueue', function () {
      it('stores a job as new, with its options, due now by default', async function () {
        const id = await add(1, { metadata: { tenant: 'acme', n: 3 }, retry: Retry.fixed(4, 500) });
        const job = await h.admin.getJob(id);
        expect(job).to.not.equal(null);
        expect(job!.id).to.equal(id);
        expect(job!.status).to.equal('new');
        expect(job!.queue).to.equal('default');
        expect(job!.target).to.equal('t');
        expect(job!.method).to.equal('run');
        expect(job!.attempts).to.equal(0);
        expect(job!.runAt.getTime()).to.equal(clock.now().getTime());
        expect(job!.metadata).to.deep.equal({ tenant: 'acme', n: 3 });
        expect(job!.retry).to.deep.equal(Retry.fixed(4, 500));
        expect(job!.lease).to.equal(null);
        expect(job!.lastError).to.equal(null);
        expect(job!.finishedAt).to.equal(null);
        expect(job!.uniqueKey).to.equal(null);
      });

      it('answers null for an unknown id', async function () {
        expect(await h.admin.getJob('01890a5d-ac96-774b-bcce-b302099a8057')).to.equal(null);
      });

      it('adds a batch in order and returns the ids in order', async function () {
        const ids = await adder.addJobs([1, 2, 3].map((n) => ({ call: call(n) })));
        expect(ids).to.have.length(3);
        expect(new Set(ids).size).to.equal(3);
        const jobs = await claim(10);
        expect(jobs.map((j) => j.id)).to.deep.equal(ids);
        expect(jobs.map(argOf)).to.deep.equal([1, 2, 3]);
      });

      it('stores a delayed job with runAt = now + delay', async function () {
        const id = await add(1, { delayMs: 5_000 });
        expect((await h.admin.getJob(id))!.runAt.getTime()).to.equal(clock.now().getTime() + 5_000);
      });
    });

    describe('claim', function () {
      it('claims with a lease for the owner and counts the attempt', async function () {
        const id = await add();
        const [job] = await claim(10, 'exec-1');
        expect(job!.id).to.equal(id);
        expect(job!.status).to.equal('processing');
        expect(job!.attempts).to.equal(1);
        expect(job!.lease.owner).to.equal('exec-1');
        expect(job!.lease.token).to.be.a('string').and.not.empty;
        expect(job!.lease.expiresAt.getTime()).to.equal(clock.now().getTime() + LEASE);
        const stored = await h.admin.getJob(id);
        expect(stored!.status).to.equal('processing');
        expect(stored!.lease!.token).to.equal(job!.lease.token);
        expect(await claim()).to.deep.equal([]);
      });

      it('never gives one job to two concurrent claimers', async function () {
        const ids = await adder.addJobs(Array.from({ length: 60 }, (_, i) => ({ call: call(i) })));
        const batches = await Promise.all(Array.from({ length: 8 }, (_, i) => claim(5, `owner-${i}`)));
        const claimed = batches.flat().map((j) => j.id);
        expect(new Set(claimed).size).to.equal(claimed.length);
        const rest = await claim(100, 'late');
        expect([...claimed, ...rest.map((j) => j.id)].sort()).to.deep.equal([...ids].sort());
        for (const b of batches) expect(b.length).to.be.at.most(5);
      });

      it('returns at most `limit` jobs', async function () {
        await adder.addJobs(Array.from({ length: 7 }, (_, i) => ({ call: call(i) })));
        expect(await claim(3)).to.have.length(3);
        expect(await claim(3)).to.have.length(3);
        expect(await claim(3)).to.have.length(1);
      });

      it('rejects a limit below 1 with a clear error', async function () {
        let thrown: unknown;
        try {
          await claim(0);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).to.be.instanceOf(InvalidOptionError);
      });

      it('does not claim a job before its runAt', async function () {
        const id = await add(1, { runAt: new Date(clock.now().getTime() + 60_000) });
        expect(await claim()).to.have.length(0);
        clock.advance(59_999);
        expect(await claim()).to.have.length(0);
        clock.advance(1);
        const jobs = await claim();
        expect(jobs.map((j) => j.id)).to.deep.equal([id]);
      });

      it('claims only from the queues asked for', async function () {
        const a = await add(1, { queue: 'a' });
        const b = await add(2, { queue: 'b' });
        await add(3, { queue: 'c' });
        expect((await claim(10, 'o', ['a'])).map((j) => j.id)).to.deep.equal([a]);
        expect((await claim(10, 'o', ['b', 'x'])).map((j) => j.id)).to.deep.equal([b]);
        expect(await claim(10, 'o', ['default'])).to.have.length(0);
      });

      it('orders by runAt, then by creation', async function () {
        const t = clock.now().getTime();
        const late = await add('late', { runAt: new Date(t - 1_000) });
        const first = await add('first', { runAt: new Date(t - 5_000) });
        const tie1 = await add('tie1', { runAt: new Date(t - 3_000) });
        const tie2 = await add('tie2', { runAt: new Date(t - 3_000) });
        const now1 = await add('now1');
        const jobs = await claim(10);
        expect(jobs.map((j) => j.id)).to.deep.equal([first, tie1, tie2, late, now1]);
      });

      it('claims across several queues in one global order', async function () {
        const t = clock.now().getTime();
        const b = await add('b', { queue: 'q2', runAt: new Date(t - 2_000) });
        const a = await add('a', { queue: 'q1', runAt: new Date(t - 3_000) });
        const c = await add('c', { queue: 'q1', runAt: new Date(t - 1_000) });
        expect((await claim(2, 'o', ['q1', 'q2'])).map((j) => j.id)).to.deep.equal([a, b]);
        expect((await claim(2, 'o', ['q1', 'q2'])).map((j) => j.id)).to.deep.equal([c]);
      });
    });

    describe('outcomes', function () {
      it('done: final, lease cleared, finishedAt set; a second write is refused', async function () {
        const id = await add();
        const [job] = await claim();
        clock.advance(10);
        expect(await record({ kind: 'done', lease: leaseOf(job!) })).to.deep.equal(['ok']);
        const stored = await h.admin.getJob(id);
        expect(stored!.status).to.equal('done');
        expect(stored!.lease).to.equal(null);
        expect(stored!.finishedAt!.getTime()).to.equal(clock.now().getTime());
        expect(await record({ kind: 'failed', lease: leaseOf(job!), error: err('x') })).to.deep.equal(['lease-lost']);
        expect((await h.admin.getJob(id))!.status).to.equal('done');
        expect(await claim()).to.have.length(0);
      });

      it('retry: waits until its runAt, keeps the error, counts attempts', async function () {
        const id = await add(1, { retry: Retry.fixed(3, 1000) });
        const [job] = await claim();
        const runAt = new Date(clock.now().getTime() + 1_000);
        const error = { name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at x' };
        expect(await record({ kind: 'retry', lease: leaseOf(job!), error, runAt })).to.deep.equal(['ok']);
        const stored = await h.admin.getJob(id);
        expect(stored!.status).to.equal('retry');
        expect(stored!.lastError).to.deep.equal(error);
        expect(stored!.runAt.getTime()).to.equal(runAt.getTime());
        expect(stored!.lease).to.equal(null);
        expect(stored!.finishedAt).to.equal(null);
        expect(await claim()).to.have.length(0);
        clock.advance(1_000);
        const [again] = await claim();
        expect(again!.id).to.equal(id);
        expect(again!.attempts).to.equal(2);
        expect(again!.lease.token).to.not.equal(job!.lease.token);
      });

      it('failed: final with its error', async function () {
        const id = await add();
        const [job] = await claim();
        expect(await record({ kind: 'failed', lease: leaseOf(job!), error: err('bad input') })).to.deep.equal(['ok']);
        const stored = await h.admin.getJob(id);
        expect(stored!.status).to.equal('failed');
        expect(stored!.lastError).to.deep.equal(err('bad input'));
        expect(stored!.finishedAt).to.not.equal(null);
        expect(await claim()).to.have.length(0);
      });

      it('released: claimable at once and the attempt is not counted', async function () {
        const id = await add();
        const [job] = await claim(10, 'leaving');
        expect(await record({ kind: 'released', lease: leaseOf(job!) })).to.deep.equal(['ok']);
        const stored = await h.admin.getJob(id);
        expect(stored!.attempts).to.equal(0);
        expect(stored!.lease).to.equal(null);
        const [again] = await claim(10, 'other');
        expect(again!.id).to.equal(id);
        expect(again!.attempts).to.equal(1);
      });

      it('applies a mixed batch, each outcome fenced on its own', async function () {
        const ids = await adder.addJobs([1, 2, 3, 4].map((n) => ({ call: call(n) })));
        const jobs = await claim(10);
        const bogus = { jobId: jobs[3]!.id, token: 'not-the-token' };
        const results = await record(
          { kind: 'done', lease: leaseOf(jobs[0]!) },
          { kind: 'failed', lease: leaseOf(jobs[1]!), error: err('no') },
          { kind: 'retry', lease: leaseOf(jobs[2]!), error: err('again'), runAt: clock.now() },
          { kind: 'done', lease: bogus },
        );
        expect(results).to.deep.equal(['ok', 'ok', 'ok', 'lease-lost']);
        const statuses = await Promise.all(ids.map(async (id) => (await h.admin.getJob(id))!.status));
        expect(statuses).to.deep.equal(['done', 'failed', 'retry', 'processing']);
      });

      it('refuses a write for an unknown job', async function () {
        const results = await record({ kind: 'done', lease: { jobId: '01890a5d-ac96-774b-bcce-b302099a8057', token: 'x' } });
        expect(results).to.deep.equal(['lease-lost']);
      });
    });

    describe('leases', function () {
      it('an expired lease makes the job claimable again, and fences the old owner out', async function () {
        const id = await add(1, { retry: Retry.fixed(5, 0) });
        const [old] = await claim(10, 'crashed', ['default'], 1_000);
        clock.advance(999);
        expect(await claim(10, 'other')).to.have.length(0);
        clock.advance(2);
        const [fresh] = await claim(10, 'other');
        expect(fresh!.id).to.equal(id);
        expect(fresh!.attempts).to.equal(2);
        expect(fresh!.lease.owner).to.equal('other');
        expect(await record({ kind: 'done', lease: leaseOf(old!) })).to.deep.equal(['lease-lost']);
        expect(await h.manager.extendLeases([leaseOf(old!)], 1_000)).to.deep.equal(['lease-lost']);
        expect(await h.manager.reportProgress(leaseOf(old!), 50)).to.equal('lease-lost');
        expect(await record({ kind: 'done', lease: leaseOf(fresh!) })).to.deep.equal(['ok']);
        expect((await h.admin.getJob(id))!.status).to.equal('done');
      });

      it('an expired lease refuses writes even before anyone reclaims the job', async function () {
        await add();
        const [job] = await claim(10, 'slow', ['default'], 1_000);
        clock.advance(1_001);
        expect(await record({ kind: 'done', lease: leaseOf(job!) })).to.deep.equal(['lease-lost']);
      });

      it('extending a lease keeps the job from being reclaimed', async function () {
        const id = await add();
        const [job] = await claim(10, 'runner', ['default'], 1_000);
        clock.advance(800);
        expect(await h.manager.extendLeases([leaseOf(job!)], 1_000)).to.deep.equal(['ok']);
        expect((await h.admin.getJob(id))!.lease!.expiresAt.getTime()).to.equal(clock.now().getTime() + 1_000);
        clock.advance(800);
        expect(await claim(10, 'thief')).to.have.length(0);
        expect(await record({ kind: 'done', lease: leaseOf(job!) })).to.deep.equal(['ok']);
      });

      it('a job whose lease expired on its last attempt fails instead of running again', async function () {
        const id = await add(1, { retry: Retry.none() });
        await claim(10, 'died', ['default'], 1_000);
        clock.advance(1_001);
        expect(await claim(10, 'other')).to.have.length(0);
        const stored = await h.admin.getJob(id);
        expect(stored!.status).to.equal('failed');
        expect(stored!.lastError!.name).to.equal('LeaseExpiredError');
        expect(stored!.lastError!.message).to.contain('died');
      });

      it('a spent job failed by a claim does not take a claimable job\'s place in it', async function () {
        // A short answer tells the executor the queue ran dry, so failing the spent job must not
        // cost the claim the job behind it.
        const spent = await add(1, { retry: Retry.none() });
        await claim(10, 'died', ['default'], 1_000);
        clock.advance(1_001);
        const next = await add(2);
        const got = await claim(1, 'other');
        expect(got.map((j) => j.id)).to.deep.equal([next]);
        expect((await h.admin.getJob(spent))!.status).to.equal('failed');
      });
    });

    describe('cancel and requeue', function () {
      it('cancels a waiting job so it is never claimed', async function () {
        const id = await add();
        expect(await h.admin.cancelJob(id)).to.equal(true);
        const stored = await h.admin.getJob(id);
        expect(stored!.status).to.equal('cancelled');
        expect(stored!.finishedAt).to.not.equal(null);
        expect(await claim()).to.have.length(0);
        expect(await h.admin.cancelJob(id)).to.equal(false);
      });

      it('cancels a job waiting for a retry', async function () {
        const id = await add(1, { retry: Retry.fixed(3, 10) });
        const [job] = await claim();
        await record({ kind: 'retry', lease: leaseOf(job!), error: err('x'), runAt: clock.now() });
        expect(await h.admin.cancelJob(id)).to.equal(true);
        expect(await claim()).to.have.length(0);
      });

      it("cancels a running job: its executor's result is refused", async function () {
        const id = await add();
        const [job] = await claim();
        expect(await h.admin.cancelJob(id)).to.equal(true);
        expect(await record({ kind: 'done', lease: leaseOf(job!) })).to.deep.equal(['lease-lost']);
        expect((await h.admin.getJob(id))!.status).to.equal('cancelled');
      });

      it('does not cancel a finished or unknown job', async function () {
        const id = await add();
        const [job] = await claim();
        await record({ kind: 'done', lease: leaseOf(job!) });
        expect(await h.admin.cancelJob(id)).to.equal(false);
        expect(await h.admin.cancelJob('01890a5d-ac96-774b-bcce-b302099a8057')).to.equal(false);
        expect((await h.admin.getJob(id))!.status).to.equal('done');
      });

      it('requeues a failed job with its attempts reset', async function () {
        const id = await add(1, { retry: Retry.none() });
        const [job] = await claim();
        await record({ kind: 'failed', lease: leaseOf(job!), error: err('x') });
        expect(await h.admin.requeueJob(id)).to.equal(true);
        const stored = await h.admin.getJob(id);
        expect(stored!.status).to.equal('new');
        expect(stored!.attempts).to.equal(0);
        expect(stored!.finishedAt).to.equal(null);
        const [again] = await claim();
        expect(again!.id).to.equal(id);
        expect(again!.attempts).to.equal(1);
      });

      it('requeues for a later time, and refuses a job that is not final', async function () {
        const id = await add();
        expect(await h.admin.requeueJob(id)).to.equal(false);
        await h.admin.cancelJob(id);
        const later = new Date(clock.now().getTime() + 10_000);
        expect(await h.admin.requeueJob(id, { runAt: later })).to.equal(true);
        expect(await claim()).to.have.length(0);
        clock.advance(10_000);
        expect((await claim()).map((j) => j.id)).to.deep.equal([id]);
      });
    });

    describe('unique keys', function () {
      it('a taken key adds nothing and answers the holder', async function () {
        const first = await add(1, { uniqueKey: 'k1' });
        const second = await add(2, { uniqueKey: 'k1' });
        const other = await add(3, { uniqueKey: 'k2' });
        expect(second).to.equal(first);
        expect(other).to.not.equal(first);
        const jobs = await h.admin.listJobs();
        expect(jobs.map((j) => argOf(j)).sort()).to.deep.equal([1, 3]);
        expect((await h.admin.getJob(first))!.uniqueKey).to.equal('k1');
      });

      it('the key stays taken after the job finished, until it is purged', async function () {
        const first = await add(1, { uniqueKey: 'k' });
        const [job] = await claim();
        await record({ kind: 'done', lease: leaseOf(job!) });
        expect(await add(2, { uniqueKey: 'k' })).to.equal(first);
        expect(await h.admin.purgeJobs({ statuses: ['done'] })).to.equal(1);
        const fresh = await add(3, { uniqueKey: 'k' });
        expect(fresh).to.not.equal(first);
        expect(argOf((await h.admin.getJob(fresh))!)).to.equal(3);
      });

      it('dedupes within one batch and against stored jobs', async function () {
        const stored = await add(0, { uniqueKey: 'a' });
        const ids = await adder.addJobs([
          { call: call(1), options: { uniqueKey: 'a' } },
          { call: call(2), options: { uniqueKey: 'b' } },
          { call: call(3), options: { uniqueKey: 'b' } },
          { call: call(4) },
        ]);
        expect(ids[0]).to.equal(stored);
        expect(ids[2]).to.equal(ids[1]);
        expect(new Set(ids).size).to.equal(3);
        expect(await h.admin.listJobs()).to.have.length(3);
      });

      it('concurrent adds of one key store one job', async function () {
        const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => add(i, { uniqueKey: 'race' })));
        expect(new Set(ids).size).to.equal(1);
        expect(await h.admin.listJobs()).to.have.length(1);
      });
    });

    describe('progress', function () {
      it('stores numeric and structured progress under the lease', async function () {
        const id = await add();
        const [job] = await claim();
        expect(await h.manager.reportProgress(leaseOf(job!), 40)).to.equal('ok');
        expect((await h.admin.getJob(id))!.progress).to.equal(40);
        expect(await h.manager.reportProgress(leaseOf(job!), { done: 3, of: 9, stage: 'copy' })).to.equal('ok');
        expect((await h.admin.getJob(id))!.progress).to.deep.equal({ done: 3, of: 9, stage: 'copy' });
        expect(await h.manager.reportProgress({ jobId: id, token: 'wrong' }, 99)).to.equal('lease-lost');
      });
    });

    describe('admin queries', function () {
      it('lists by status, queue and target, in creation order, with limit and offset', async function () {
        const a1 = await adder.addJob(call(1, 'alpha'), { queue: 'q1' });
        const b1 = await adder.addJob(call(2, 'beta'), { queue: 'q1' });
        const a2 = await adder.addJob(call(3, 'alpha'), { queue: 'q2' });
        const a3 = await adder.addJob(call(4, 'alpha'), { queue: 'q1' });
        const [job] = await claim(1, 'o', ['q2']);
        await record({ kind: 'done', lease: leaseOf(job!) });
        const ids = async (f: Parameters<IJobQueueAdmin['listJobs']>[0]) => (await h.admin.listJobs(f)).map((j) => j.id);
        expect(await ids({})).to.deep.equal([a1, b1, a2, a3]);
        expect(await ids({ queue: 'q1' })).to.deep.equal([a1, b1, a3]);
        expect(await ids({ target: 'alpha' })).to.deep.equal([a1, a2, a3]);
        expect(await ids({ status: 'done' })).to.deep.equal([a2]);
        expect(await ids({ status: ['new', 'done'], target: 'alpha' })).to.deep.equal([a1, a2, a3]);
        expect(await ids({ queue: 'q1', target: 'alpha', status: 'new' })).to.deep.equal([a1, a3]);
        expect(await ids({ limit: 2 })).to.deep.equal([a1, b1]);
        expect(await ids({ limit: 2, offset: 2 })).to.deep.equal([a2, a3]);
      });

      it('counts per queue and status', async function () {
        await adder.addJobs([
          { call: call(1), options: { queue: 'q1' } },
          { call: call(2), options: { queue: 'q1' } },
          { call: call(3), options: { queue: 'q2' } },
        ]);
        const [job] = await claim(1, 'o', ['q1']);
        await record({ kind: 'failed', lease: leaseOf(job!), error: err('x') });
        const sort = (c: { queue: string; status: string }[]) =>
          [...c].sort((x, y) => `${x.queue}/${x.status}`.localeCompare(`${y.queue}/${y.status}`));
        expect(sort(await h.admin.countJobs())).to.deep.equal([
          { queue: 'q1', status: 'failed', count: 1 },
          { queue: 'q1', status: 'new', count: 1 },
          { queue: 'q2', status: 'new', count: 1 },
        ]);
        expect(await h.admin.countJobs({ queue: 'q2' })).to.deep.equal([{ queue: 'q2', status: 'new', count: 1 }]);
      });

      it('purges only final jobs matching statuses, queue and age', async function () {
        const ids = await adder.addJobs([1, 2, 3, 4].map((n) => ({ call: call(n) })));
        const jobs = await claim(3, 'o', ['default'], 600_000);
        expect(await record({ kind: 'done', lease: leaseOf(jobs[0]!) })).to.deep.equal(['ok']);
        clock.advance(60_000);
        await record(
          { kind: 'done', lease: leaseOf(jobs[1]!) },
          { kind: 'failed', lease: leaseOf(jobs[2]!), error: err('x') },
        );
        const cutoff = new Date(clock.now().getTime() - 30_000);
        expect(await h.admin.purgeJobs({ statuses: ['done'], finishedBefore: cutoff })).to.equal(1);
        expect(await h.admin.getJob(ids[0]!)).to.equal(null);
        expect(await h.admin.purgeJobs({ statuses: ['done'], queue: 'other' })).to.equal(0);
        expect(await h.admin.purgeJobs({ statuses: ['done', 'failed'] })).to.equal(2);
        expect((await h.admin.listJobs()).map((j) => j.id)).to.deep.equal([ids[3]]);
      });
    });

    describe('data fidelity', function () {
      it('round-trips every serializable type through storage', async function () {
        const value = {
          date: new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 123)),
          big: 12345678901234567890123n,
          buf: Buffer.from([0, 1, 2, 255]),
          bytes: new Uint8Array([9, 8, 7]),
          map: new Map<unknown, unknown>([['a', 1], [2, new Date(0)]]),
          set: new Set(['x', 'y']),
          undef: undefined,
          nested: { list: [1, 'two', null, undefined, { deep: true }], unicode: 'żółw 🐢 "quotes" \\ \u0000' },
          nan: Number.NaN,
          negInf: -Infinity,
        };
        const id = await adder.addJob({ target: 't', method: 'run', args: [value, undefined, 'tail'] });
        const [job] = await claim();
        expect(job!.id).to.equal(id);
        const args = deserializeArgs(job!.args, job!.id);
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
        const id = await add(1, { metadata, retry: Retry.list([120_000, 10_800_000]) });
        const [job] = await claim();
        expect(job!.metadata).to.deep.equal(metadata);
        expect(job!.retry).to.deep.equal(Retry.list([120_000, 10_800_000]));
        const error = { name: 'Error', message: 'ünïcödé \'quoted\' "and" \n newline', stack: 'Error: x\n  at y' };
        await record({ kind: 'failed', lease: leaseOf(job!), error });
        expect((await h.admin.getJob(id))!.lastError).to.deep.equal(error);
      });
    });

    describe('bad stored data', function () {
      it('a job with corrupt arguments can still be claimed, is reported, and can be failed', async function () {
        const bad = await add(1);
        const good = await add(2);
        await h.corruptJobArgs(bad);
        const jobs = await claim();
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
        expect(argOf(goodJob)).to.equal(2);
        expect(await record({ kind: 'failed', lease: leaseOf(badJob), error: { name: 'CorruptJobError', message: (thrown as Error).message } })).to.deep.equal(['ok']);
        expect((await h.admin.getJob(bad))!.status).to.equal('failed');
      });
    });
  });
}
