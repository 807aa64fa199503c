import { expect } from 'chai';
import { prepareJob } from '../adder.js';
import type { AttemptedJob, AttemptOutcome } from '../attempted.js';
import { InvalidOptionError } from '../errors.js';
import type { JobLogLine } from '../history.js';
import type { JobOptions } from '../job.js';
import { Retry } from '../retry.js';
import { deserializeResult, serializeResult } from '../serializer.js';
import { call, err, type ContractContext } from './contract-context.js';
import { rejection } from './contract-context.js';

/**
 * The storage contract's part on insertAttempted: jobs whose attempt 1 ran before they were stored
 * (the immediate runner's "run now, persist only on failure"), stored in the state that attempt
 * left them, with attempt 1 in their history.
 */
export function describeAttemptedContract(t: ContractContext): void {
  /** An entry whose attempt started 300 ms ago and just ended. */
  const attempted = (
    outcome: AttemptOutcome,
    options: JobOptions = {},
    extra: Partial<Omit<AttemptedJob, 'job' | 'outcome'>> = {},
  ): AttemptedJob => ({
    job: prepareJob({ call: call(7), options }, undefined, t.clock),
    startedAt: new Date(t.clock.now().getTime() - 300),
    finishedAt: t.clock.now(),
    owner: 'immediate:42',
    host: 'box-a',
    outcome,
    ...extra,
  });
  const insert = (...entries: AttemptedJob[]) => t.h.writer.insertAttempted(entries);
  const later = (ms: number) => new Date(t.clock.now().getTime() + ms);
  const line = (message: string, level: JobLogLine['level'] = 'info'): JobLogLine => ({
    at: t.clock.now(),
    level,
    message,
  });
  const boom = { name: 'TypeError', message: 'mail service down', stack: 'TypeError: mail service down\n    at send' };

  describe('insertAttempted', function () {
    it('retry: waiting for attempt 2 at its runAt, attempt 1 in its history with the error and its logs', async function () {
      const entry = attempted(
        { kind: 'retry', error: boom, runAt: later(5_000) },
        { retry: Retry.fixed(3, 5_000) },
        {
          logs: [line('connecting'), line('refused', 'warn')],
        },
      );
      const [id] = await insert(entry);
      expect(id).to.equal(entry.job.id);
      const job = (await t.h.admin.getJob(id, { runs: true }))!;
      expect(job).to.include({
        status: 'retry',
        attempts: 1,
        queue: 'default',
        executorId: 'immediate:42',
        host: 'box-a',
      });
      expect(job.runAt.getTime()).to.equal(later(5_000).getTime());
      expect(job.lastError).to.deep.equal(boom);
      expect(job.lease).to.equal(null);
      expect(job.finishedAt).to.equal(null);
      expect(job.startedAt!.getTime()).to.equal(entry.startedAt.getTime());
      expect(job.runs).to.have.length(1);
      expect(job.runs![0]).to.include({
        jobId: id,
        attempt: 1,
        state: 'retry',
        executorId: 'immediate:42',
        host: 'box-a',
        durationMs: 300,
      });
      expect(job.runs![0].error).to.deep.equal(boom);
      expect(job.runs![0].finishedAt!.getTime()).to.equal(entry.finishedAt.getTime());
      const logs = await t.h.admin.listLogs(id);
      expect(logs.map((l) => [l.attempt, l.level, l.message])).to.deep.equal([
        [1, 'info', 'connecting'],
        [1, 'warn', 'refused'],
      ]);
      expect(await t.h.admin.listLogs(id, { attempt: 2 })).to.deep.equal([]);
    });

    it('a stored retry is claimed at its runAt as attempt 2, under its own retry policy', async function () {
      const policy = Retry.fixed(3, 5_000);
      const [id] = await insert(attempted({ kind: 'retry', error: boom, runAt: later(5_000) }, { retry: policy }));
      expect(await t.claim()).to.have.length(0);
      t.clock.advance(5_000);
      const [job] = await t.h.manager.claimJobs({ queues: ['default'], limit: 10, owner: 'exec-2', leaseMs: 30_000 });
      expect(job.id).to.equal(id);
      expect(job.attempts).to.equal(2);
      expect(job.retry).to.deep.equal(policy);
      expect(job.lastError).to.deep.equal(boom);
      t.clock.advance(20);
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      const runs = await t.h.admin.listRuns(id);
      expect(runs.map((r) => [r.attempt, r.state, r.executorId, r.durationMs])).to.deep.equal([
        [1, 'retry', 'immediate:42', 300],
        [2, 'done', 'exec-2', 20],
      ]);
    });

    it('attempt 1 counts toward maxAttempts: a lease lost on attempt 2 of 2 fails the job', async function () {
      const [id] = await insert(
        attempted({ kind: 'retry', error: boom, runAt: t.clock.now() }, { retry: Retry.fixed(2, 0) }),
      );
      const [job] = await t.claim(10, 'owner-a', ['default'], 1_000);
      expect(job.attempts).to.equal(2);
      t.clock.advance(1_001);
      expect(await t.claim()).to.have.length(0);
      const stored = (await t.h.admin.getJob(id))!;
      expect(stored.status).to.equal('failed');
      expect(stored.lastError!.name).to.equal('LeaseExpiredError');
      expect((await t.h.admin.listRuns(id)).map((r) => [r.attempt, r.state])).to.deep.equal([
        [1, 'retry'],
        [2, 'lease-lost'],
      ]);
    });

    it('failed: final at once, with the error, and attempt 1 in its history', async function () {
      const entry = attempted({ kind: 'failed', error: err('bad input') }, { queue: 'mail' }, { host: null });
      const [id] = await insert(entry);
      const job = (await t.h.admin.getJob(id))!;
      expect(job).to.include({ status: 'failed', attempts: 1, queue: 'mail', host: null, executorId: 'immediate:42' });
      expect(job.lastError).to.deep.equal(err('bad input'));
      expect(job.finishedAt!.getTime()).to.equal(entry.finishedAt.getTime());
      expect(await t.claim(10, 'owner-a', ['mail'])).to.have.length(0);
      const runs = await t.h.admin.listRuns(id);
      expect(runs).to.have.length(1);
      expect(runs[0]).to.include({ attempt: 1, state: 'failed', host: null, durationMs: 300 });
      expect(runs[0].error).to.deep.equal(err('bad input'));
      expect((await t.h.admin.waitForJob(id, { timeoutMs: 0 })).status).to.equal('failed');
    });

    it('done: final with its result, attempt 1 read as a done run, its logs kept', async function () {
      const result = serializeResult({ sent: 3, big: 10n }, 'x');
      const entry = attempted({ kind: 'done', result }, {}, { logs: [line('sent')] });
      const [id] = await insert(entry, attempted({ kind: 'done' }));
      const job = (await t.h.admin.getJob(id, { runs: true }))!;
      expect(job).to.include({ status: 'done', attempts: 1, lastError: null });
      expect((deserializeResult(job.result, id) as { big: bigint }).big).to.equal(10n);
      expect(job.finishedAt!.getTime()).to.equal(entry.finishedAt.getTime());
      expect(job.runs!.map((r) => [r.attempt, r.state, r.executorId, r.host, r.durationMs, r.error])).to.deep.equal([
        [1, 'done', 'immediate:42', 'box-a', 300, null],
      ]);
      expect((await t.h.admin.listLogs(id)).map((l) => [l.attempt, l.message])).to.deep.equal([[1, 'sent']]);
      expect(await t.claim()).to.have.length(0);
    });

    it('a done job without a result stores none', async function () {
      const entry = attempted({ kind: 'done' });
      const [id] = await insert(entry);
      expect((await t.h.admin.getJob(id))!.result).to.equal(null);
    });

    it('a taken unique key writes nothing and answers its holder, within a batch too, in input order', async function () {
      const holder = await t.add(1, { uniqueKey: 'k1' });
      const dup = attempted({ kind: 'failed', error: err('x') }, { uniqueKey: 'k1' }, { logs: [line('lost')] });
      const fresh = attempted({ kind: 'retry', error: err('y'), runAt: later(1_000) }, { uniqueKey: 'k2' });
      const sameAsFresh = attempted({ kind: 'done' }, { uniqueKey: 'k2' });
      const plain = attempted({ kind: 'done' });
      expect(await insert(dup, fresh, sameAsFresh, plain)).to.deep.equal([
        holder,
        fresh.job.id,
        fresh.job.id,
        plain.job.id,
      ]);
      expect(await t.h.admin.getJob(dup.job.id)).to.equal(null);
      expect(await t.h.admin.getJob(sameAsFresh.job.id)).to.equal(null);
      expect(await t.h.admin.listLogs(dup.job.id)).to.deep.equal([]);
      expect(await t.h.admin.listRuns(holder)).to.deep.equal([]);
      expect((await t.h.admin.getJob(holder))!).to.include({ status: 'new', attempts: 0 });
      expect((await t.h.admin.getJob(fresh.job.id))!.status).to.equal('retry');
      expect(await insert()).to.deep.equal([]);
    });

    it('refuses bad input with InvalidOptionError naming the field, and writes nothing', async function () {
      const bad: [string, AttemptedJob][] = [
        ['outcome.runAt', attempted({ kind: 'retry', error: boom } as unknown as AttemptOutcome)],
        ['outcome.error', attempted({ kind: 'done', error: boom } as unknown as AttemptOutcome)],
        ['outcome.error', attempted({ kind: 'failed' } as unknown as AttemptOutcome)],
        ['outcome.kind', attempted({ kind: 'released' } as unknown as AttemptOutcome)],
        ['finishedAt', attempted({ kind: 'done' }, {}, { finishedAt: new Date(t.clock.now().getTime() - 1_000) })],
        ['startedAt', attempted({ kind: 'done' }, {}, { startedAt: new Date(NaN) })],
        ['owner', attempted({ kind: 'done' }, {}, { owner: '' })],
        ['host', attempted({ kind: 'done' }, {}, { host: 'h'.repeat(256) })],
        ['logs[0].level', attempted({ kind: 'done' }, {}, { logs: [{ ...line('x'), level: 'loud' as 'info' }] })],
        ['outcome', attempted({ kind: 'retry', error: boom, runAt: later(1) }, { retry: Retry.none() })],
      ];
      for (const [field, entry] of bad) {
        const e = await rejection(insert(attempted({ kind: 'done' }), entry));
        expect(e, field).to.be.instanceOf(InvalidOptionError);
        expect((e as InvalidOptionError).option, field).to.match(
          new RegExp(`^entries\\[1\\]\\.${field.replace(/[[\].]/g, '\\$&')}$`),
        );
      }
      expect(await rejection(t.h.writer.insertAttempted(null as unknown as AttemptedJob[]))).to.be.instanceOf(
        InvalidOptionError,
      );
      expect(await t.h.admin.countJobs()).to.deep.equal([]);
    });
  });
}
