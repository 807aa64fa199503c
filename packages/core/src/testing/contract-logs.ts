// The storage contract's part on job logs: appended under a lease, read back per attempt, dropped
// with a purged job. Apart from contract-history.ts (runs) because log lines are a table of their
// own in every store, with their own limits and lease-lost answers.
import { expect } from 'chai';
import { InvalidOptionError } from '../errors.js';
import { MAX_LOG_LINE_CHARS, type JobLogLine } from '../history.js';
import { Retry } from '../retry.js';
import { err } from './contract-context.js';
import { rejection } from './contract-context.js';
import type { ContractContext } from './contract-context.js';

const line = (t: ContractContext, message: string, level: JobLogLine['level'] = 'info'): JobLogLine => ({
  at: t.clock.now(),
  level,
  message,
});

/** The storage contract's part on job logs. */
export function describeLogContract(t: ContractContext): void {
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
}
