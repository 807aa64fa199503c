import { expect } from 'chai';
import { InvalidOptionError, type JobLogLine, type JobOutcome } from '@oddjob/core';
import { schemaNames, SqlServerJobQueueManager, type SqlServerContext } from '../src/index.js';
import { MAX_LINES_PER_ENTRY, MAX_LINES_WITH_OUTCOME } from '../src/manager.js';
import { MAX_PARAMS, type BuiltStatement } from '../src/statements.js';

const id = (i: number) => `01890a5d-ac96-774b-bcce-${String(i).padStart(12, '0')}`;
const TOKEN = '6f9619ff-8b86-d011-b42d-00c04fc964ff';
const lease = (i: number) => ({ jobId: id(i), token: TOKEN });
const lines = (count: number, from = 0): JobLogLine[] =>
  Array.from({ length: count }, (_, k) => ({
    at: new Date(Date.UTC(2030, 0, 1)),
    level: 'info',
    message: `line ${from + k}`,
  }));

/**
 * The manager's batching (which statement shape, how outcomes and log lines are split under the
 * 2100-parameter limit, how answers are read back) against a stand-in runner that answers every
 * fenced write as applied unless its job id is in `lost`.
 */
class FakeRunner {
  statements: BuiltStatement[] = [];
  lost = new Set<string>();

  ctx(): SqlServerContext {
    const runner = { run: async (s: BuiltStatement) => this.run(s) };
    return { names: schemaNames('m'), runner: runner as unknown as SqlServerContext['runner'] };
  }

  private run(s: BuiltStatement) {
    this.statements.push(s);
    const value = (name: string) => s.params.find((p) => p.name === name)?.value as string | undefined;
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; value(`i${i}`) !== undefined; i++) {
      const jobId = value(`i${i}`)!;
      if (!this.lost.has(jobId)) rows.push({ id: jobId, token: value(`t${i}`) });
    }
    return Promise.resolve({ recordsets: [rows], recordset: rows, rowsAffected: [rows.length] });
  }

  lineCount(s: BuiltStatement): number {
    return s.params.filter((p) => /^lm\d+$/.test(p.name)).length;
  }
}

describe('sqlserver: manager batching', function () {
  it('records a batch of done outcomes without lines in the hot-path statement, one round trip', async function () {
    const fake = new FakeRunner();
    const manager = new SqlServerJobQueueManager(fake.ctx());
    const answers = await manager.recordOutcomes([
      { kind: 'done', lease: lease(1), result: '{"json":1}' },
      { kind: 'done', lease: lease(2) },
    ]);
    expect(answers).to.deep.equal(['ok', 'ok']);
    expect(fake.statements.map((s) => s.name)).to.deep.equal(['recordOutcomes']);
    expect(fake.statements[0].params.filter((p) => /^x\d$/.test(p.name)).map((p) => p.value)).to.deep.equal([
      '{"json":1}',
      null,
    ]);
  });

  it('switches a batch to the history statement when any outcome ends its run with a record or carries lines', async function () {
    for (const extra of [
      { kind: 'retry', lease: lease(2), error: { name: 'E', message: 'm' }, runAt: new Date() },
      { kind: 'released', lease: lease(2) },
      { kind: 'done', lease: lease(2), logs: lines(1) },
    ] as JobOutcome[]) {
      const fake = new FakeRunner();
      await new SqlServerJobQueueManager(fake.ctx()).recordOutcomes([{ kind: 'done', lease: lease(1) }, extra]);
      expect(
        fake.statements.map((s) => s.name),
        extra.kind,
      ).to.deep.equal(['recordOutcomesWithHistory']);
    }
  });

  it('answers lease-lost for outcomes the fence refused, and for leases that cannot match a row', async function () {
    const fake = new FakeRunner();
    fake.lost.add(id(2));
    const answers = await new SqlServerJobQueueManager(fake.ctx()).recordOutcomes([
      { kind: 'done', lease: lease(1) },
      { kind: 'failed', lease: lease(2), error: { name: 'E', message: 'm' } },
      { kind: 'done', lease: { jobId: 'short', token: TOKEN } },
    ]);
    expect(answers).to.deep.equal(['ok', 'lease-lost', 'lease-lost']);
  });

  it('packs outcomes with lines into statements under the parameter limit, in order', async function () {
    const fake = new FakeRunner();
    const outcomes: JobOutcome[] = Array.from({ length: 30 }, (_, i) => ({
      kind: 'done',
      lease: lease(i),
      logs: lines(100),
    }));
    expect(await new SqlServerJobQueueManager(fake.ctx()).recordOutcomes(outcomes)).to.deep.equal(
      outcomes.map(() => 'ok'),
    );
    expect(fake.statements.length).to.be.greaterThan(1);
    for (const s of fake.statements) expect(s.params.length + 1, s.name).to.be.at.most(2100);
    expect(fake.statements.reduce((n, s) => n + fake.lineCount(s), 0)).to.equal(3000);
  });

  it('sends the first lines of an outcome too long for one statement through appendLogs, before the outcome', async function () {
    const fake = new FakeRunner();
    const total = MAX_LINES_WITH_OUTCOME + 700;
    await new SqlServerJobQueueManager(fake.ctx()).recordOutcomes([
      { kind: 'done', lease: lease(1), logs: lines(total) },
    ]);
    const names = fake.statements.map((s) => s.name);
    expect(names[names.length - 1]).to.equal('recordOutcomesWithHistory');
    expect(names.slice(0, -1).every((n) => n === 'appendLogs')).to.equal(true);
    const last = fake.statements[fake.statements.length - 1];
    expect(fake.lineCount(last)).to.equal(MAX_LINES_WITH_OUTCOME);
    // the earliest lines went first, the outcome carries the latest ones
    expect(fake.statements[0].params.find((p) => p.name === 'lm0')!.value).to.equal('line 0');
    expect(last.params.find((p) => p.name === 'lm0')!.value).to.equal('line 700');
    for (const s of fake.statements) expect(s.params.length + 1).to.be.at.most(2100);
  });

  it('splits a long log entry over statements and answers ok only if every part was written', async function () {
    const fake = new FakeRunner();
    const manager = new SqlServerJobQueueManager(fake.ctx());
    const long = MAX_LINES_PER_ENTRY * 2 + 5;
    expect(
      await manager.appendLogs([
        { lease: lease(1), lines: lines(long) },
        { lease: lease(2), lines: [] },
      ]),
    ).to.deep.equal(['ok', 'ok']);
    // a full part fills a statement, so the line-less entry beside it goes in one of its own
    expect(fake.statements.map((s) => fake.lineCount(s))).to.deep.equal([
      MAX_LINES_PER_ENTRY,
      0,
      MAX_LINES_PER_ENTRY,
      5,
    ]);
    for (const s of fake.statements) expect(s.params.length).to.be.at.most(MAX_PARAMS);
    fake.lost.add(id(1));
    expect(
      await manager.appendLogs([
        { lease: lease(1), lines: lines(3) },
        { lease: lease(2), lines: lines(1) },
      ]),
    ).to.deep.equal(['lease-lost', 'ok']);
  });

  it('writes two entries of one job in separate statements, in the order given', async function () {
    const fake = new FakeRunner();
    await new SqlServerJobQueueManager(fake.ctx()).appendLogs([
      { lease: lease(1), lines: lines(1, 0) },
      { lease: lease(2), lines: lines(1, 10) },
      { lease: lease(1), lines: lines(1, 1) },
    ]);
    expect(fake.statements.map((s) => s.params.filter((p) => /^lm/.test(p.name)).map((p) => p.value))).to.deep.equal([
      ['line 0', 'line 10'],
      ['line 1'],
    ]);
  });

  it('passes the claim host (null when not named) and refuses bad log lines before any write', async function () {
    const fake = new FakeRunner();
    const manager = new SqlServerJobQueueManager(fake.ctx());
    await manager.claimJobs({ queues: ['q'], limit: 1, owner: 'o', leaseMs: 1000, host: 'box-a' });
    await manager.claimJobs({ queues: ['q'], limit: 1, owner: 'o', leaseMs: 1000 });
    expect(fake.statements.map((s) => s.params.find((p) => p.name === 'host')!.value)).to.deep.equal(['box-a', null]);
    const bad = [{ lease: lease(1), lines: [{ at: new Date(), level: 'loud', message: 'x' }] }] as never;
    let thrown: unknown;
    await manager.appendLogs(bad).catch((e: unknown) => (thrown = e));
    expect(thrown).to.be.instanceOf(InvalidOptionError);
    expect(fake.statements).to.have.length(2);
  });
});
