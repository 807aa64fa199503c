import { expect } from 'chai';
import sql from 'mssql';
import { UnknownParentError, type NewJob } from '@oddjob/core';
import { schemaNames, SqlServerJobWriter, type SqlServerContext } from '../src/index.js';
import type { BuiltStatement } from '../src/statements.js';
import { newJobFixture } from '@oddjob/core/testing';

const id = (i: number) => `01890a5d-ac96-774b-bcce-${String(i).padStart(12, '0')}`;
const job = (i: number, over: Partial<NewJob> = {}): NewJob => newJobFixture(id(i), over);

/**
 * The writer's flow path against a stand-in that answers flowInsertState from a fixed state and
 * applies insertJobs as written (every row goes in): which statements run, in which order, in which
 * transaction, with which placements.
 */
class FakeServer {
  statements: { s: BuiltStatement; tx: unknown }[] = [];
  transactions = 0;
  stored = new Map<string, string>([[id(50), 'done']]);
  admitted = 1;

  ctx(): SqlServerContext {
    const runner = {
      run: async (s: BuiltStatement, tx?: unknown) => this.run(s, tx),
      transaction: async <T>(work: (tx: unknown) => Promise<T>) => {
        this.transactions++;
        return work({ own: true });
      },
    };
    return { names: schemaNames('w'), runner: runner as unknown as SqlServerContext['runner'] };
  }

  private async run(s: BuiltStatement, tx: unknown) {
    this.statements.push({ s, tx });
    const values = (prefix: string) =>
      s.params.filter((p) => new RegExp(`^${prefix}\\d+$`).test(p.name)).map((p) => p.value as string);
    let recordsets: unknown[][] = [];
    if (s.name === 'flowInsertState') {
      const parents = values('p').flatMap((p) => (this.stored.has(p) ? [{ id: p, status: this.stored.get(p) }] : []));
      const keys = values('k').map((k) => ({ k, admitted: this.admitted, queued: 0, unfinished: id(60) }));
      recordsets = [...(values('p').length ? [parents] : []), ...(values('k').length ? [keys] : [])];
    } else if (s.name === 'insertJobs') {
      recordsets = [values('id').map((i) => ({ id: i, unique_key: null }))];
    }
    return { recordsets, recordset: recordsets[0] ?? [], rowsAffected: [0], output: {} };
  }

  named(name: string) {
    return this.statements.filter((x) => x.s.name === name);
  }
}

describe('sqlserver: job writer, jobs that wait', function () {
  it('reads under locks, writes placed rows, then their dependency rows, all in one transaction of its own', async function () {
    const server = new FakeServer();
    const writer = new SqlServerJobWriter(server.ctx());
    const k = { key: 'k', limit: 2, alreadyRunning: 'queue' as const };
    const ids = await writer.insertJobs([
      job(1, { concurrency: k }),
      job(2, { concurrency: k }),
      job(3, {
        after: {
          rule: 'each',
          parents: [
            { job: id(50), when: 'succeeded' },
            { job: id(1), when: 'finished' },
          ],
        },
      }),
    ]);
    expect(ids).to.deep.equal([id(1), id(2), id(3)]);
    expect(server.transactions).to.equal(1);
    expect(server.statements.map((x) => x.s.name)).to.deep.equal([
      'flowInsertState',
      'insertJobs',
      'insertDependencies',
    ]);
    expect(server.statements.every((x) => (x.tx as { own?: boolean }).own === true)).to.equal(true);
    const insert = server.named('insertJobs')[0].s;
    const param = (name: string) => insert.params.find((p) => p.name === name)!.value;
    // one slot left of two: job 1 is admitted, job 2 waits; job 3 waits for job 1
    expect([param('st0'), param('wf0'), param('st1'), param('wf1'), param('st2'), param('wf2')]).to.deep.equal([
      'new',
      null,
      'waiting',
      'slot',
      'waiting',
      'parents',
    ]);
    const deps = server.named('insertDependencies')[0].s;
    expect(deps.params.map((p) => p.value)).to.deep.equal([
      id(3),
      id(50),
      'succeeded',
      'done',
      id(3),
      id(1),
      'finished',
      null,
    ]);
  });

  it('refuses unknown parents before writing anything', async function () {
    const server = new FakeServer();
    const writer = new SqlServerJobWriter(server.ctx());
    let thrown: unknown;
    try {
      await writer.insertJobs([
        job(1),
        job(2, { after: { rule: 'each', parents: [{ job: id(77), when: 'succeeded' }] } }),
      ]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(UnknownParentError);
    expect((thrown as UnknownParentError).parentIds).to.deep.equal([id(77)]);
    expect(server.statements.map((x) => x.s.name)).to.deep.equal(['flowInsertState']);
  });

  it("writes inside the caller's transaction when given one, opening none of its own", async function () {
    const server = new FakeServer();
    const writer = new SqlServerJobWriter(server.ctx());
    const tx = Object.create(sql.Transaction.prototype) as sql.Transaction;
    await writer.insertJobs([job(1, { concurrency: { key: 'k', limit: 1, alreadyRunning: 'skip' } })], tx);
    expect(server.transactions).to.equal(0);
    expect(server.statements.every((x) => x.tx === tx)).to.equal(true);
    // the fake's key has an unfinished job: 'skip' writes nothing and answers it
    expect(server.named('insertJobs')).to.have.length(0);
  });

  it('keeps the plain path for jobs that cannot wait: one INSERT, no locks, no transaction', async function () {
    const server = new FakeServer();
    const writer = new SqlServerJobWriter(server.ctx());
    await writer.insertJobs([job(1, { priority: 3, uniqueKey: 'u', uniqueScope: 'queued' })]);
    expect(server.statements.map((x) => x.s.name)).to.deep.equal(['insertJobs']);
    expect(server.transactions).to.equal(0);
  });
});
