import { expect } from 'chai';
import { Retry } from '@oddjob/core';
import { schemaNames, SqlServerJobQueueAdmin, type SqlServerContext } from '../src/index.js';
import type { JobRow, RunRow } from '../src/row-mapping.js';
import type { BuiltStatement } from '../src/statements.js';

const ID = '01890a5d-ac96-774b-bcce-b302099a8057';
const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 12, 0, s));

function jobRow(over: Partial<JobRow> = {}): JobRow {
  return {
    id: ID,
    queue: 'q',
    target: 't',
    method: 'm',
    args: '{"json":[]}',
    status: 'processing',
    run_at: t(0),
    attempts: 3,
    max_attempts: 5,
    retry: JSON.stringify(Retry.fixed(5, 0)),
    last_error: null,
    lease_owner: 'exec-3',
    lease_token: '6f9619ff-8b86-d011-b42d-00c04fc964ff',
    lease_expires_at: t(90),
    progress: null,
    metadata: '{}',
    unique_key: null,
    created_at: t(0),
    updated_at: t(30),
    finished_at: null,
    started_at: t(30),
    executor_id: 'exec-3',
    host: null,
    result: null,
    progress_message: null,
    pinned_host: null,
    priority: 0,
    unique_scope: 'stored',
    unique_held: true,
    after_json: null,
    waiting_for: null,
    concurrency_key: null,
    concurrency_limit: null,
    already_running: null,
    sequence_name: null,
    sequence_run: null,
    sequence_step: null,
    ...over,
  };
}
const runRow = (attempt: number, over: Partial<RunRow> = {}): RunRow => ({
  job_id: ID,
  seq: String(attempt),
  attempt,
  executor_id: `exec-${attempt}`,
  host: null,
  state: 'retry',
  started_at: t(attempt * 10),
  finished_at: t(attempt * 10 + 1),
  error: '{"name":"Error","message":"x"}',
  progress: null,
  progress_message: null,
  ...over,
});

/** Answers listRuns like the server: the job row, the stored count, then the page (OFFSET/FETCH) of `stored`. */
function fakeAdmin(job: JobRow | null, stored: RunRow[]) {
  const statements: BuiltStatement[] = [];
  const run = (s: BuiltStatement) => {
    statements.push(s);
    const v = (name: string) => s.params.find((p) => p.name === name)!.value as number;
    const page = stored.slice(v('offset'), v('offset') + v('limit'));
    return Promise.resolve({
      recordsets: [job ? [job] : [], [{ n: job ? stored.length : 0 }], job ? page : []],
      rowsAffected: [],
    });
  };
  const ctx = { names: schemaNames('a'), runner: { run } as unknown as SqlServerContext['runner'] };
  return { admin: new SqlServerJobQueueAdmin(ctx), statements };
}

describe('sqlserver: run paging', function () {
  it('appends the run derived from a running row after the stored ones, only on the page it falls on', async function () {
    const { admin, statements } = fakeAdmin(jobRow(), [runRow(1), runRow(2)]);
    const all = await admin.listRuns(ID);
    expect(all.map((r) => [r.attempt, r.state])).to.deep.equal([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'running'],
    ]);
    expect((await admin.listRuns(ID, { limit: 2 })).map((r) => r.attempt)).to.deep.equal([1, 2]);
    expect((await admin.listRuns(ID, { offset: 2, limit: 2 })).map((r) => r.state)).to.deep.equal(['running']);
    expect(await admin.listRuns(ID, { offset: 3 })).to.deep.equal([]);
    expect(statements.map((s) => s.name)).to.deep.equal(['listRuns', 'listRuns', 'listRuns', 'listRuns']);
  });

  it('derives nothing from a row that is waiting, and answers [] for an unknown job without a round trip for a non-id', async function () {
    expect(
      (await fakeAdmin(jobRow({ status: 'retry', lease_token: null }), [runRow(1)]).admin.listRuns(ID)).map(
        (r) => r.state,
      ),
    ).to.deep.equal(['retry']);
    const unknown = fakeAdmin(null, []);
    expect(await unknown.admin.listRuns(ID)).to.deep.equal([]);
    expect(await unknown.admin.listRuns('not-an-id')).to.deep.equal([]);
    expect(await unknown.admin.listRuns(ID, { limit: 0 })).to.deep.equal([]);
    expect(unknown.statements).to.have.length(1);
  });

  it('keeps a corrupt run in the list with its error saying so, and gives getJob(id, { runs: true }) the same runs', async function () {
    const { admin } = fakeAdmin(jobRow({ status: 'done', lease_token: null, finished_at: t(40) }), [
      runRow(1, { error: '{bad' }),
      runRow(2),
    ]);
    const runs = await admin.listRuns(ID);
    expect(runs.map((r) => r.state)).to.deep.equal(['retry', 'retry', 'done']);
    expect(runs[0].error!.name).to.equal('CorruptJobError');
    const job = await admin.getJob(ID, { runs: true });
    expect(job!.runs).to.deep.equal(runs);
    expect(job!.runs![2]).to.include({ attempt: 3, executorId: 'exec-3', durationMs: 10_000 });
  });
});

describe('sqlserver: listJobs after an id', function () {
  function fakeList() {
    const statements: BuiltStatement[] = [];
    const run = (s: BuiltStatement) => {
      statements.push(s);
      return Promise.resolve({ recordset: [], recordsets: [[]], rowsAffected: [] });
    };
    const ctx = { names: schemaNames('a'), runner: { run } as unknown as SqlServerContext['runner'] };
    return { admin: new SqlServerJobQueueAdmin(ctx), statements };
  }
  const fromId = (s: BuiltStatement) => s.params.find((p) => p.name === 'fromId')?.value;

  it("sends core's UUID bound for afterId (an id's successor, a prefix's completion), none without one", async function () {
    const { admin, statements } = fakeList();
    await admin.listJobs({ afterId: ID, limit: 5 });
    await admin.listJobs({ afterId: '0189', status: 'failed' });
    await admin.listJobs({ afterId: ID.toUpperCase() });
    await admin.listJobs({});
    expect(statements.map(fromId)).to.deep.equal([
      '01890a5d-ac96-774b-bcce-b302099a8058',
      '01890000-0000-0000-0000-000000000000',
      '01890a00-0000-0000-0000-000000000000', // '01890A…' < '01890a…' as strings
      undefined,
    ]);
  });

  it('answers [] without a round trip when no UUID sorts after afterId', async function () {
    const { admin, statements } = fakeList();
    expect(await admin.listJobs({ afterId: 'g' })).to.deep.equal([]);
    expect(await admin.listJobs({ afterId: 'ffffffff-ffff-ffff-ffff-ffffffffffff' })).to.deep.equal([]);
    expect(statements).to.have.length(0);
  });
});
