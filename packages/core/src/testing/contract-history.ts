import { expect } from 'chai';
import { InvalidOptionError } from '../errors.js';
import { MAX_PROGRESS_MESSAGE_CHARS, MAX_RESULT_CHARS } from '../history.js';
import { Retry } from '../retry.js';
import { deserializeResult, serializeResult } from '../serializer.js';
import { err } from './contract-context.js';
import { rejection } from './contract-context.js';
import type { ContractContext } from './contract-context.js';

/** The storage contract's part on run history: one run per attempt, results and progress. */
export function describeHistoryContract(t: ContractContext): void {
  const claimOn = (owner: string, host: string | undefined, leaseMs = 30_000) =>
    t.h.manager.claimJobs({ queues: ['default'], limit: 10, owner, leaseMs, ...(host === undefined ? {} : { host }) });

  describe('runs', function () {
    it('a claim starts a run read off the row: executor, host, start time', async function () {
      const id = await t.add();
      const claimedAt = t.clock.now();
      const [job] = await claimOn('exec-1', 'box-a');
      expect(job.startedAt!.getTime()).to.equal(claimedAt.getTime());
      expect(job.executorId).to.equal('exec-1');
      expect(job.host).to.equal('box-a');
      const stored = await t.h.admin.getJob(id, { runs: true });
      expect(stored!.runs).to.have.length(1);
      const [run] = stored!.runs!;
      expect(run).to.include({
        jobId: id,
        attempt: 1,
        executorId: 'exec-1',
        host: 'box-a',
        state: 'running',
        finishedAt: null,
        durationMs: null,
      });
      expect(run.startedAt.getTime()).to.equal(claimedAt.getTime());
      expect((await t.h.admin.getJob(id))!.runs).to.equal(undefined);
    });

    it('done on the first attempt: one run, with its duration, and the result on the row', async function () {
      const id = await t.add();
      const [job] = await claimOn('exec-1', undefined);
      t.clock.advance(250);
      const result = serializeResult({ sent: 3, at: new Date(Date.UTC(2030, 0, 2)), big: 10n }, id);
      expect(await t.record({ kind: 'done', lease: t.leaseOf(job), result })).to.deep.equal(['ok']);
      const stored = await t.h.admin.getJob(id);
      expect(stored!.result).to.equal(result);
      const back = deserializeResult(stored!.result, id) as { sent: number; at: Date; big: bigint };
      expect(back.sent).to.equal(3);
      expect(back.at).to.be.instanceOf(Date);
      expect(back.big).to.equal(10n);
      const runs = await t.h.admin.listRuns(id);
      expect(runs).to.have.length(1);
      expect(runs[0]).to.include({
        attempt: 1,
        state: 'done',
        executorId: 'exec-1',
        host: null,
        durationMs: 250,
        error: null,
      });
      expect(runs[0].finishedAt!.getTime()).to.equal(t.clock.now().getTime());
    });

    it('a done job without a return value stores no result', async function () {
      const id = await t.add();
      const [job] = await t.claim();
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      expect((await t.h.admin.getJob(id))!.result).to.equal(null);
    });

    it('retry then done: one run per attempt, oldest first, each with its own executor and error', async function () {
      const id = await t.add(1, { retry: Retry.fixed(3, 1000) });
      const [first] = await claimOn('exec-1', 'box-a');
      t.clock.advance(100);
      const error = {
        name: 'TypeError',
        message: 'mail service down',
        stack: 'TypeError: mail service down\n    at send',
      };
      await t.record({
        kind: 'retry',
        lease: t.leaseOf(first),
        error,
        runAt: new Date(t.clock.now().getTime() + 1000),
      });
      t.clock.advance(1000);
      const [second] = await claimOn('exec-2', 'box-b');
      expect(second.attempts).to.equal(2);
      t.clock.advance(40);
      await t.record({ kind: 'done', lease: t.leaseOf(second) });
      const runs = await t.h.admin.listRuns(id);
      expect(runs.map((r) => [r.attempt, r.state, r.executorId, r.host, r.durationMs])).to.deep.equal([
        [1, 'retry', 'exec-1', 'box-a', 100],
        [2, 'done', 'exec-2', 'box-b', 40],
      ]);
      expect(runs[0].error).to.deep.equal(error);
      expect(runs[1].error).to.equal(null);
      expect((await t.h.admin.getJob(id, { runs: true }))!.runs).to.deep.equal(runs);
    });

    it('failed: the run keeps the error', async function () {
      const id = await t.add();
      const [job] = await t.claim();
      await t.record({ kind: 'failed', lease: t.leaseOf(job), error: err('bad input') });
      const runs = await t.h.admin.listRuns(id);
      expect(runs).to.have.length(1);
      expect(runs[0]).to.include({ state: 'failed', attempt: 1 });
      expect(runs[0].error).to.deep.equal(err('bad input'));
    });

    it('released: a run that says so, and the next run carries the same attempt number', async function () {
      const id = await t.add();
      const [job] = await claimOn('leaving', undefined);
      await t.record({ kind: 'released', lease: t.leaseOf(job) });
      await claimOn('staying', undefined);
      const runs = await t.h.admin.listRuns(id);
      expect(runs.map((r) => [r.attempt, r.state, r.executorId])).to.deep.equal([
        [1, 'released', 'leaving'],
        [1, 'running', 'staying'],
      ]);
    });

    it('a claim that takes over an expired lease records the lost run', async function () {
      const id = await t.add(1, { retry: Retry.fixed(3, 0) });
      await claimOn('crashed', 'box-a', 1_000);
      t.clock.advance(1_001);
      const [taken] = await claimOn('rescuer', 'box-b');
      expect(taken.id).to.equal(id);
      const runs = await t.h.admin.listRuns(id);
      expect(runs.map((r) => [r.attempt, r.state, r.executorId])).to.deep.equal([
        [1, 'lease-lost', 'crashed'],
        [2, 'running', 'rescuer'],
      ]);
      expect(runs[0].error!.name).to.equal('LeaseExpiredError');
      expect(runs[0].finishedAt).to.not.equal(null);
    });

    it('a lease that expires on the last attempt fails the job and records the lost run', async function () {
      const id = await t.add(1, { retry: Retry.none() });
      await claimOn('died', undefined, 1_000);
      t.clock.advance(1_001);
      expect(await claimOn('other', undefined)).to.have.length(0);
      const runs = await t.h.admin.listRuns(id);
      expect(runs).to.have.length(1);
      expect(runs[0]).to.include({ state: 'lease-lost', executorId: 'died' });
      expect(runs[0].error!.name).to.equal('LeaseExpiredError');
    });

    it('cancelling a running job ends its run as cancelled; cancelling a waiting job adds none', async function () {
      const running = await t.add(1);
      await t.claim(1);
      const waiting = await t.add(2);
      expect(await t.h.admin.cancelJob(running)).to.equal(true);
      expect(await t.h.admin.cancelJob(waiting)).to.equal(true);
      const runs = await t.h.admin.listRuns(running);
      expect(runs).to.have.length(1);
      expect(runs[0].state).to.equal('cancelled');
      expect(await t.h.admin.listRuns(waiting)).to.deep.equal([]);
    });

    it('a requeued done job keeps its earlier run', async function () {
      const id = await t.add();
      const [job] = await claimOn('first', undefined);
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      t.clock.advance(10);
      expect(await t.h.admin.requeueJob(id)).to.equal(true);
      expect((await t.h.admin.getJob(id))!.result).to.equal(null);
      await claimOn('second', undefined);
      const runs = await t.h.admin.listRuns(id);
      expect(runs.map((r) => [r.attempt, r.state, r.executorId])).to.deep.equal([
        [1, 'done', 'first'],
        [1, 'running', 'second'],
      ]);
    });

    it('pages through runs; an unknown job has none', async function () {
      const id = await t.add(1, { retry: Retry.fixed(10, 0) });
      for (let i = 0; i < 4; i++) {
        const [job] = await t.claim();
        t.clock.advance(1);
        await t.record({ kind: 'retry', lease: t.leaseOf(job), error: err(`try ${i + 1}`), runAt: t.clock.now() });
      }
      const page1 = await t.h.admin.listRuns(id, { limit: 2 });
      const page2 = await t.h.admin.listRuns(id, { limit: 2, offset: 2 });
      expect([...page1, ...page2].map((r) => r.error!.message)).to.deep.equal(['try 1', 'try 2', 'try 3', 'try 4']);
      expect(await t.h.admin.listRuns('01890a5d-ac96-774b-bcce-b302099a8057')).to.deep.equal([]);
      expect(await rejection(t.h.admin.listRuns(id, { limit: -1 }))).to.be.instanceOf(InvalidOptionError);
    });

    it('progress with a message is readable outside, and stays on the run', async function () {
      const id = await t.add();
      const [job] = await t.claim();
      expect(await t.h.manager.reportProgress(t.leaseOf(job), 40, 'copied 40 of 100 files')).to.equal('ok');
      let stored = await t.h.admin.getJob(id, { runs: true });
      expect(stored!.progress).to.equal(40);
      expect(stored!.progressMessage).to.equal('copied 40 of 100 files');
      expect(stored!.runs![0]).to.include({ progress: 40, progressMessage: 'copied 40 of 100 files' });
      expect(await t.h.manager.reportProgress(t.leaseOf(job), { done: 2 })).to.equal('ok');
      stored = await t.h.admin.getJob(id);
      expect(stored!.progress).to.deep.equal({ done: 2 });
      expect(stored!.progressMessage).to.equal(null);
      expect(
        await rejection(t.h.manager.reportProgress(t.leaseOf(job), 1, 'x'.repeat(MAX_PROGRESS_MESSAGE_CHARS + 1))),
      ).to.be.instanceOf(InvalidOptionError);
    });

    it('refuses a result over the limit or one that is not text', async function () {
      await t.add();
      const [job] = await t.claim();
      const tooLong = `{"json":"${'x'.repeat(MAX_RESULT_CHARS)}"}`;
      expect(await rejection(t.record({ kind: 'done', lease: t.leaseOf(job), result: tooLong }))).to.be.instanceOf(
        InvalidOptionError,
      );
      expect(await rejection(t.record({ kind: 'done', lease: t.leaseOf(job), result: 42 as never }))).to.be.instanceOf(
        InvalidOptionError,
      );
      expect(await t.record({ kind: 'done', lease: t.leaseOf(job) })).to.deep.equal(['ok']);
    });
  });
}
