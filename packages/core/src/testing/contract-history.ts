import { expect } from 'chai';
import { InvalidOptionError, JobNotFoundError, WaitTimeoutError } from '../errors.js';
import { MAX_LOG_LINE_CHARS, MAX_PROGRESS_MESSAGE_CHARS, MAX_RESULT_CHARS, type JobLogLine } from '../history.js';
import { Retry } from '../retry.js';
import { deserializeResult, serializeResult } from '../serializer.js';
import { err } from './contract-context.js';
import { rejection } from './contract-context.js';
import type { ContractContext } from './contract-context.js';

const line = (t: ContractContext, message: string, level: JobLogLine['level'] = 'info'): JobLogLine => ({
  at: t.clock.now(),
  level,
  message,
});

/** The storage contract's part on run history, logs, results, waiting and the executor registry. */
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

  describe('logs', function () {
    it('lines appended while a job runs are readable outside, per attempt, in order', async function () {
      const id = await t.add(1, { retry: Retry.fixed(3, 0) });
      const [first] = await t.claim();
      expect(
        await t.h.manager.appendLogs([
          { lease: t.leaseOf(first), lines: [line(t, 'starting'), line(t, 'half way', 'debug')] },
        ]),
      ).to.deep.equal(['ok']);
      const running = await t.h.admin.listLogs(id);
      expect(running.map((l) => [l.attempt, l.level, l.message])).to.deep.equal([
        [1, 'info', 'starting'],
        [1, 'debug', 'half way'],
      ]);
      expect(running[0].seq).to.be.lessThan(running[1].seq);
      expect(running[0].at.getTime()).to.equal(t.clock.now().getTime());
      await t.record({
        kind: 'retry',
        lease: t.leaseOf(first),
        error: err('x'),
        runAt: t.clock.now(),
        logs: [line(t, 'giving up', 'error')],
      });
      const [second] = await t.claim();
      await t.record({ kind: 'done', lease: t.leaseOf(second), logs: [line(t, 'worked')] });
      const all = await t.h.admin.listLogs(id);
      expect(all.map((l) => [l.attempt, l.message])).to.deep.equal([
        [1, 'starting'],
        [1, 'half way'],
        [1, 'giving up'],
        [2, 'worked'],
      ]);
      expect((await t.h.admin.listLogs(id, { attempt: 2 })).map((l) => l.message)).to.deep.equal(['worked']);
      const afterSecond = await t.h.admin.listLogs(id, { afterSeq: all[1].seq, limit: 1 });
      expect(afterSecond.map((l) => l.message)).to.deep.equal(['giving up']);
    });

    it('lines under a lost lease are dropped and answered lease-lost, each entry on its own', async function () {
      const a = await t.add(1);
      const b = await t.add(2);
      const [ja, jb] = await t.claim();
      expect(await t.h.admin.cancelJob(a)).to.equal(true);
      const answer = await t.h.manager.appendLogs([
        { lease: t.leaseOf(ja), lines: [line(t, 'late')] },
        { lease: t.leaseOf(jb), lines: [line(t, 'fine')] },
      ]);
      expect(answer).to.deep.equal(['lease-lost', 'ok']);
      expect(await t.h.admin.listLogs(a)).to.deep.equal([]);
      expect((await t.h.admin.listLogs(b)).map((l) => l.message)).to.deep.equal(['fine']);
      expect(await t.h.manager.appendLogs([])).to.deep.equal([]);
    });

    it('refuses a line with an unknown level, an overlong message or a bad time, naming it', async function () {
      await t.add();
      const [job] = await t.claim();
      const bad = async (l: unknown) =>
        rejection(
          t.h.manager.appendLogs([{ lease: t.leaseOf(job), lines: [l as JobLogLine] }]),
        ) as Promise<InvalidOptionError>;
      expect((await bad({ at: t.clock.now(), level: 'loud', message: 'x' })).message).to.contain('level');
      expect(
        (await bad({ at: t.clock.now(), level: 'info', message: 'x'.repeat(MAX_LOG_LINE_CHARS + 1) })).message,
      ).to.contain('message');
      expect((await bad({ at: new Date(Number.NaN), level: 'info', message: 'x' })).message).to.contain('at');
      expect(
        await rejection(t.record({ kind: 'done', lease: t.leaseOf(job), logs: [{ level: 'info' } as never] })),
      ).to.be.instanceOf(InvalidOptionError);
      expect((await t.h.admin.getJob(job.id))!.status).to.equal('processing');
    });

    it('a purge removes the job with its runs and logs', async function () {
      const id = await t.add(1, { retry: Retry.fixed(2, 0) });
      const [first] = await t.claim();
      await t.record({
        kind: 'retry',
        lease: t.leaseOf(first),
        error: err('x'),
        runAt: t.clock.now(),
        logs: [line(t, 'one')],
      });
      const [second] = await t.claim();
      await t.record({ kind: 'failed', lease: t.leaseOf(second), error: err('y'), logs: [line(t, 'two')] });
      expect(await t.h.admin.listRuns(id)).to.have.length(2);
      t.clock.advance(10);
      expect(await t.h.admin.purgeJobs({ statuses: ['failed'] })).to.equal(1);
      expect(await t.h.admin.listRuns(id)).to.deep.equal([]);
      expect(await t.h.admin.listLogs(id)).to.deep.equal([]);
    });
  });

  describe('waiting', function () {
    it('resolves with the final record once the job is done', async function () {
      const id = await t.add();
      const [job] = await t.claim();
      const waiting = t.h.admin.waitForJob(id, { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 30));
      await t.record({ kind: 'done', lease: t.leaseOf(job), result: serializeResult('ok', id) });
      const final = await waiting;
      expect(final.status).to.equal('done');
      expect(deserializeResult(final.result, id)).to.equal('ok');
    });

    it('resolves at once for a job already final, failed and cancelled included', async function () {
      const failed = await t.add(1);
      const [job] = await t.claim();
      await t.record({ kind: 'failed', lease: t.leaseOf(job), error: err('no') });
      const cancelled = await t.add(2);
      await t.h.admin.cancelJob(cancelled);
      expect((await t.h.admin.waitForJob(failed, { timeoutMs: 5_000 })).status).to.equal('failed');
      expect((await t.h.admin.waitForJob(cancelled, { timeoutMs: 5_000 })).status).to.equal('cancelled');
    });

    it('times out, rejects an unknown id and a negative timeout, and stops when aborted', async function () {
      const id = await t.add();
      const timedOut = await rejection(t.h.admin.waitForJob(id, { timeoutMs: 50 }));
      expect(timedOut).to.be.instanceOf(WaitTimeoutError);
      expect((timedOut as WaitTimeoutError).message).to.contain('new');
      expect(
        await rejection(t.h.admin.waitForJob('01890a5d-ac96-774b-bcce-b302099a8057', { timeoutMs: 1_000 })),
      ).to.be.instanceOf(JobNotFoundError);
      expect(await rejection(t.h.admin.waitForJob(id, { timeoutMs: -1 }))).to.be.instanceOf(InvalidOptionError);
      const controller = new AbortController();
      const aborted = rejection(t.h.admin.waitForJob(id, { signal: controller.signal }));
      setTimeout(() => controller.abort(new Error('no longer needed')), 30);
      expect(((await aborted) as Error).message).to.equal('no longer needed');
    });
  });

  describe('executors', function () {
    const info = (id: string, queues = [{ name: 'default', workers: 4 }]) => ({
      id,
      host: 'box-a',
      pid: 4242,
      version: '1.2.3',
      queues,
      startedAt: new Date(Date.UTC(2030, 0, 1)),
      state: 'running' as const,
    });

    it('lists registered executors with their heartbeat; a heartbeat replaces the entry', async function () {
      await t.h.executors.heartbeatExecutor(info('exec-b'));
      await t.h.executors.heartbeatExecutor(info('exec-a'));
      t.clock.advance(1_000);
      await t.h.executors.heartbeatExecutor({ ...info('exec-a', [{ name: 'mail', workers: 2 }]), state: 'stopping' });
      const list = await t.h.executors.listExecutors();
      expect(list.map((e) => e.id)).to.deep.equal(['exec-a', 'exec-b']);
      expect(list[0]).to.deep.include({ host: 'box-a', pid: 4242, version: '1.2.3', state: 'stopping', stale: false });
      expect(list[0].queues).to.deep.equal([{ name: 'mail', workers: 2 }]);
      expect(list[0].startedAt.getTime()).to.equal(Date.UTC(2030, 0, 1));
      expect(list[0].heartbeatAt.getTime()).to.equal(t.clock.now().getTime());
      expect(list[1].heartbeatAt.getTime()).to.equal(t.clock.now().getTime() - 1_000);
    });

    it('flags a silent executor stale, prunes it after an hour, and forgets one that stopped', async function () {
      await t.h.executors.heartbeatExecutor(info('silent'));
      await t.h.executors.heartbeatExecutor(info('leaving'));
      t.clock.advance(31_000);
      await t.h.executors.heartbeatExecutor(info('alive'));
      let list = await t.h.executors.listExecutors();
      expect(list.map((e) => [e.id, e.stale])).to.deep.equal([
        ['alive', false],
        ['leaving', true],
        ['silent', true],
      ]);
      expect((await t.h.executors.listExecutors({ staleAfterMs: 60_000 })).every((e) => !e.stale)).to.equal(true);
      expect(await t.h.executors.removeExecutor('leaving')).to.equal(true);
      expect(await t.h.executors.removeExecutor('leaving')).to.equal(false);
      t.clock.advance(3_600_000);
      await t.h.executors.heartbeatExecutor(info('alive'));
      list = await t.h.executors.listExecutors();
      expect(list.map((e) => e.id)).to.deep.equal(['alive']);
    });

    it('refuses a malformed heartbeat, naming the field', async function () {
      const bad = (await rejection(t.h.executors.heartbeatExecutor({ ...info('x'), pid: -1 }))) as InvalidOptionError;
      expect(bad).to.be.instanceOf(InvalidOptionError);
      expect(bad.message).to.contain('pid');
      expect(
        await rejection(t.h.executors.heartbeatExecutor({ ...info('x'), state: 'gone' as never })),
      ).to.be.instanceOf(InvalidOptionError);
      expect(await t.h.executors.listExecutors()).to.deep.equal([]);
    });
  });
}
