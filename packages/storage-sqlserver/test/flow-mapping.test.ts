import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  CorruptJobError,
  decideChild,
  DEFAULT_RETRY_POLICY,
  DEPENDENCY_ERROR_NAME,
  UnknownParentError,
  type ClaimedJob,
  type JobStatus,
  type NewJob,
} from '@oddjob/core';
import { placeBatch, type BatchState } from '../src/flow-placement.js';
import { statePieces, stateRequest } from '../src/flow-writer.js';
import { byClaimOrder } from '@oddjob/core';
import { newJobFixture } from '@oddjob/core/testing';
import { dependencyErrorJson } from '../src/manager.js';
import { holdsUniqueKey, jobToRow, rowToJob, type JobRow } from '../src/row-mapping.js';
import { schemaNames } from '../src/index.js';
import * as S from '../src/statements.js';
import * as F from '../src/statements/flow.js';

const n = schemaNames('Sanity');
const id = (i: number) => `01890a5d-ac96-774b-bcce-${String(i).padStart(12, '0')}`;

const newJob = (i: number, over: Partial<NewJob> = {}): NewJob => newJobFixture(id(i), over);

function row(over: Partial<JobRow> = {}): JobRow {
  const at = new Date(Date.UTC(2030, 0, 1));
  return {
    id: id(1),
    queue: 'q',
    target: 't',
    method: 'm',
    args: '[]',
    status: 'new',
    run_at: at,
    attempts: 0,
    max_attempts: 3,
    retry: JSON.stringify(DEFAULT_RETRY_POLICY),
    last_error: null,
    lease_owner: null,
    lease_token: null,
    lease_expires_at: null,
    progress: null,
    metadata: '{}',
    unique_key: null,
    created_at: at,
    updated_at: at,
    finished_at: null,
    started_at: null,
    executor_id: null,
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

const state = (over: Partial<BatchState> = {}): BatchState => ({
  stored: new Map(),
  keys: new Map(),
  holders: new Map(),
  ...over,
});
const placementsOf = (placed: ReturnType<typeof placeBatch>) =>
  placed.map((p) => (p.kind === 'answer' ? `answer ${p.answer}` : `${p.placement.status}/${p.placement.waitingFor}`));

describe('sqlserver: flow columns <-> records', function () {
  it('writes every flow field of a new job, and reads it back', function () {
    const after = {
      rule: 'mixed' as const,
      parents: [
        { job: id(7), when: 'failed' as const },
        { job: id(8), when: 'finished' as const },
      ],
    };
    const job = newJob(1, {
      priority: -32768,
      uniqueKey: 'u',
      uniqueScope: 'queued',
      after,
      concurrency: { key: 'k', limit: 3, alreadyRunning: 'allow' },
      sequence: { name: 'nightly', run: id(9), step: 'load' },
    });
    const r = jobToRow(job, { status: 'waiting', waitingFor: 'parents', lastError: null });
    expect(r).to.include({
      status: 'waiting',
      waitingFor: 'parents',
      priority: -32768,
      uniqueScope: 'queued',
      uniqueHeld: true,
      concurrencyKey: 'k',
      concurrencyLimit: 3,
      alreadyRunning: 'allow',
      sequenceName: 'nightly',
      sequenceRun: id(9),
      sequenceStep: 'load',
    });
    const back = rowToJob(
      row({
        status: r.status,
        waiting_for: r.waitingFor,
        priority: r.priority,
        unique_key: 'u',
        unique_scope: r.uniqueScope,
        unique_held: false,
        after_json: r.after,
        concurrency_key: r.concurrencyKey,
        concurrency_limit: r.concurrencyLimit,
        already_running: r.alreadyRunning,
        sequence_name: r.sequenceName,
        sequence_run: r.sequenceRun,
        sequence_step: r.sequenceStep,
      }),
    );
    expect(back).to.deep.include({
      status: 'waiting',
      waitingFor: 'parents',
      priority: -32768,
      uniqueKey: 'u', // shown even when the key was let go
      uniqueScope: 'queued',
      after,
      concurrency: { key: 'k', limit: 3, alreadyRunning: 'allow' },
      sequence: { name: 'nightly', run: id(9), step: 'load' },
    });
  });

  it('reads a job written before migration 4 as core defaults: priority 0, stored scope, no flow', function () {
    const job = rowToJob(row());
    expect(job).to.deep.include({
      priority: 0,
      uniqueScope: 'stored',
      after: null,
      waitingFor: null,
      concurrency: null,
      sequence: null,
    });
  });

  it('shows waitingFor only while waiting, and names the job when a flow column is unreadable', function () {
    expect(rowToJob(row({ status: 'new', waiting_for: 'slot' })).waitingFor).to.equal(null);
    for (const bad of [
      { unique_scope: 'forever' },
      { status: 'waiting', waiting_for: null },
      { concurrency_key: 'k', concurrency_limit: null, already_running: 'queue' },
      { concurrency_key: 'k', concurrency_limit: 1, already_running: 'sometimes' },
      { after_json: '{nope' },
    ]) {
      expect(() => rowToJob(row(bad)), JSON.stringify(bad))
        .to.throw(CorruptJobError)
        .with.property('message')
        .that.contains(id(1));
    }
  });

  it('lets go a scoped unique key of a job cancelled at insert, keeps a stored one', function () {
    expect(holdsUniqueKey('queued', 'cancelled')).to.equal(false);
    expect(holdsUniqueKey('unfinished', 'cancelled')).to.equal(false);
    expect(holdsUniqueKey('stored', 'cancelled')).to.equal(true);
    expect(holdsUniqueKey('queued', 'waiting')).to.equal(true);
    expect(jobToRow(newJob(1, { uniqueKey: 'u', uniqueScope: 'unfinished' })).uniqueHeld).to.equal(true);
  });

  it('sorts claimed jobs by priority (descending), then runAt, then id', function () {
    const job = (i: number, priority: number, runAt: number) =>
      ({ ...rowToJob(row({ id: id(i), priority })), runAt: new Date(runAt) }) as ClaimedJob;
    const sorted = [job(1, 0, 5), job(2, 7, 9), job(3, 0, 1), job(4, 7, 9), job(5, -1, 0)].sort(byClaimOrder);
    expect(sorted.map((j) => j.id)).to.deep.equal([id(2), id(4), id(3), id(1), id(5)]);
  });

  it("builds core's DependencyError around decideChild's messages as the settle routine will", function () {
    const { head, tail } = dependencyErrorJson();
    const decision = decideChild({ rule: 'each', parents: [{ job: id(3), when: 'succeeded' }] }, ['failed']);
    expect(decision.kind).to.equal('cancel');
    const message = (decision as { message: string }).message;
    // what CONCAT(N'parent ', parent_id, N' ended ', outcome, N', not ', awaited) builds in T-SQL
    expect(message).to.equal(`parent ${id(3)} ended failed, not succeeded`);
    expect(JSON.parse(`${head}${JSON.stringify(message).slice(1, -1)}${tail}`)).to.deep.equal({
      name: DEPENDENCY_ERROR_NAME,
      message,
    });
    const settle = F.settleText(n);
    for (const text of ['every parent ended done, not a mixed outcome', 'no parent ended done, not a mixed outcome'])
      expect(settle).to.contain(`N'${text}'`);
    expect(settle).to.contain("CONCAT(N'parent ', b.parent_id, N' ended ', b.outcome, N', not ', b.awaited)");
  });
});

describe('sqlserver: concurrency key locks', function () {
  it("hash the key's UTF-16LE bytes with trailing spaces cut, as HASHBYTES('SHA2_256', RTRIM(k)) does", function () {
    const expected = createHash('sha256')
      .update(Buffer.from([0x6b, 0x00, 0xe9, 0x00]))
      .digest('hex')
      .toUpperCase();
    expect(F.keyLockResource(n, 'k\u00e9')).to.equal(`oddjob.key.sanity.${expected}`);
    expect(F.keyLockResource(n, 'k\u00e9  ')).to.equal(F.keyLockResource(n, 'k\u00e9'));
    expect(F.keyLockResource(n, 'K\u00e9')).to.not.equal(F.keyLockResource(n, 'k\u00e9'));
    expect(F.keyLockResource(n, 'x'.repeat(512)).length).to.be.at.most(255);
    expect(F.keyLockExpression(n, 'f.k')).to.equal(
      "CONCAT(N'oddjob.key.sanity.', CONVERT(varchar(64), HASHBYTES('SHA2_256', RTRIM(f.k)), 2))",
    );
  });

  it('lock each distinct key once, in sorted resource order, and read parents, keys and holders after', function () {
    const jobs = [
      newJob(1, { concurrency: { key: 'b', limit: 1, alreadyRunning: 'queue' }, uniqueKey: 'u' }),
      newJob(2, {
        concurrency: { key: 'a', limit: 1, alreadyRunning: 'queue' },
        after: {
          rule: 'each',
          parents: [
            { job: id(9), when: 'succeeded' },
            { job: id(1), when: 'succeeded' },
          ],
        },
      }),
      newJob(3, { concurrency: { key: 'b ', limit: 1, alreadyRunning: 'queue' } }),
    ];
    const req = stateRequest({ names: n }, jobs);
    expect(req.resources).to.deep.equal([F.keyLockResource(n, 'a'), F.keyLockResource(n, 'b')].sort());
    expect(req.parents).to.deep.equal([id(9)]);
    expect(req.keys).to.have.length(2);
    expect(req.uniqueKeys).to.deep.equal(['u']);
    const st = S.flowInsertState(n, req);
    const text = st.text;
    const locks = [...text.matchAll(/sys\.sp_getapplock @lr(\d+), 'Exclusive', 'Transaction', \d+;/g)].map((m) =>
      Number(m[1]),
    );
    expect(locks).to.deep.equal([0, 1]);
    expect(text.indexOf('sp_getapplock')).to.be.lessThan(text.indexOf('UPDLOCK'));
    expect(text).to.match(/WITH \(UPDLOCK, HOLDLOCK, ROWLOCK\) WHERE id IN \(@p0\)/);
    expect(text).to.contain('unique_held = 1');
    expect(st.params.filter((p) => p.name.startsWith('lr')).map((p) => p.value)).to.deep.equal(req.resources);
  });

  it('split a request that names more values than one statement binds, locks first', function () {
    const req = {
      resources: ['r1'],
      parents: Array.from({ length: 2500 }, (_, i) => id(i)),
      keys: ['k'],
      uniqueKeys: [],
    };
    const pieces = statePieces(req);
    expect(pieces.map((p) => [p.resources.length, p.parents.length, p.keys.length])).to.deep.equal([
      [1, 0, 0],
      [0, 2000, 0],
      [0, 500, 0],
      [0, 0, 1],
    ]);
    expect(statePieces({ ...req, parents: [id(1)] })).to.have.length(1);
  });
});

describe('sqlserver: placing a batch (flow-placement)', function () {
  const queue = (key: string, limit = 1) => ({ key, limit, alreadyRunning: 'queue' as const });

  it('refuses parents neither in the batch nor stored, naming each', function () {
    const jobs = [
      newJob(1, {
        after: {
          rule: 'each',
          parents: [
            { job: id(8), when: 'succeeded' },
            { job: id(9), when: 'succeeded' },
            { job: id(2), when: 'succeeded' },
          ],
        },
      }),
      newJob(2),
    ];
    const stored = new Map<string, JobStatus>([[id(8), 'new']]);
    expect(() => placeBatch(jobs, state({ stored })))
      .to.throw(UnknownParentError)
      .with.property('parentIds')
      .that.deep.equals([id(9)]);
  });

  it('decides children of final parents in the insert, cascading through the batch in any order', function () {
    const stored = new Map<string, JobStatus>([
      [id(8), 'failed'],
      [id(9), 'done'],
    ]);
    const jobs = [
      newJob(1, { after: { rule: 'each', parents: [{ job: id(2), when: 'succeeded' }] } }), // its parent is job 2, later
      newJob(2, { after: { rule: 'each', parents: [{ job: id(8), when: 'succeeded' }] } }),
      newJob(3, { after: { rule: 'each', parents: [{ job: id(9), when: 'succeeded' }] } }),
      newJob(4, {
        after: {
          rule: 'each',
          parents: [
            { job: id(9), when: 'succeeded' },
            { job: id(5), when: 'succeeded' },
          ],
        },
      }),
      newJob(5),
    ];
    const placed = placeBatch(jobs, state({ stored }));
    expect(placementsOf(placed)).to.deep.equal([
      'cancelled/null',
      'cancelled/null',
      'new/null',
      'waiting/parents',
      'new/null',
    ]);
    const first = placed[0] as Extract<(typeof placed)[number], { kind: 'write' }>;
    expect(JSON.parse(first.placement.lastError!)).to.deep.equal({
      name: DEPENDENCY_ERROR_NAME,
      message: `parent ${id(2)} ended cancelled, not succeeded`,
    });
    const fourth = placed[3] as Extract<(typeof placed)[number], { kind: 'write' }>;
    expect(fourth.dependencies).to.deep.equal([
      { child: id(4), ord: 0, parent: id(9), awaited: 'succeeded', outcome: 'done' },
      { child: id(4), ord: 1, parent: id(5), awaited: 'succeeded', outcome: null },
    ]);
  });

  it('admits a key in batch order up to its limit, after the jobs already admitted', function () {
    const keys = new Map([['k', { admitted: 1, queued: false, unfinished: id(99) }]]);
    const jobs = [
      newJob(1, { concurrency: queue('k', 3) }),
      newJob(2, { concurrency: queue('k ', 3) }),
      newJob(3, { concurrency: queue('k', 3) }),
      newJob(4, { concurrency: queue('other') }),
    ];
    expect(placementsOf(placeBatch(jobs, state({ keys })))).to.deep.equal([
      'new/null',
      'new/null',
      'waiting/slot',
      'new/null',
    ]);
  });

  it('never admits past a job already waiting for a slot, except allow', function () {
    const keys = new Map([['k', { admitted: 0, queued: true, unfinished: id(99) }]]);
    const jobs = [
      newJob(1, { concurrency: queue('k', 5) }),
      newJob(2, { concurrency: { key: 'k', limit: 1, alreadyRunning: 'allow' } }),
    ];
    expect(placementsOf(placeBatch(jobs, state({ keys })))).to.deep.equal(['waiting/slot', 'new/null']);
  });

  it("'skip' answers the key's unfinished job, stored or earlier in the batch, and a child of a skipped job waits for that one", function () {
    const skip = { key: 'once', limit: 1, alreadyRunning: 'skip' as const };
    const fresh = placeBatch(
      [
        newJob(1, { concurrency: skip }),
        newJob(2, { concurrency: skip }),
        newJob(3, { after: { rule: 'each', parents: [{ job: id(2), when: 'finished' }] } }),
      ],
      state(),
    );
    expect(placementsOf(fresh)).to.deep.equal(['new/null', `answer ${id(1)}`, 'waiting/parents']);
    const child = fresh[2] as Extract<(typeof fresh)[number], { kind: 'write' }>;
    expect(child.job.after!.parents).to.deep.equal([{ job: id(1), when: 'finished' }]);
    const keys = new Map([['once', { admitted: 0, queued: true, unfinished: id(50) }]]);
    expect(placementsOf(placeBatch([newJob(4, { concurrency: skip })], state({ keys })))).to.deep.equal([
      `answer ${id(50)}`,
    ]);
  });

  it("decides who is written before placing anyone, as the memory store does: 'skip' before a held unique key, and a job cancelled at insert still counts for a later 'skip'", function () {
    const skip = { key: 'k', limit: 1, alreadyRunning: 'skip' as const };
    const stored = new Map<string, JobStatus>([
      [id(8), 'failed'],
      [id(70), 'new'],
    ]);
    const holders = new Map([['u', id(70)]]);
    const keys = new Map([['busy', { admitted: 1, queued: false, unfinished: id(60) }]]);
    const jobs = [
      newJob(1, { concurrency: skip, after: { rule: 'each', parents: [{ job: id(8), when: 'succeeded' }] } }),
      newJob(2, { concurrency: skip }),
      newJob(3, { concurrency: { key: 'busy', limit: 1, alreadyRunning: 'skip' }, uniqueKey: 'u' }),
    ];
    expect(placementsOf(placeBatch(jobs, state({ stored, holders, keys })))).to.deep.equal([
      'cancelled/null',
      `answer ${id(1)}`,
      `answer ${id(60)}`,
    ]);
  });

  it('a child waiting for parents takes no slot but counts as unfinished for skip', function () {
    const jobs = [
      newJob(1, { concurrency: queue('k'), after: { rule: 'each', parents: [{ job: id(3), when: 'succeeded' }] } }),
      newJob(2, { concurrency: queue('k') }),
      newJob(3, { concurrency: { key: 'k', limit: 1, alreadyRunning: 'skip' } }),
    ];
    expect(placementsOf(placeBatch(jobs, state()))).to.deep.equal(['waiting/parents', 'new/null', `answer ${id(1)}`]);
  });

  it('answers a job whose unique key a stored job holds with the holder; a child of it waits for the holder', function () {
    const holders = new Map([['u', id(70)]]);
    const stored = new Map<string, JobStatus>([[id(70), 'done']]);
    const jobs = [
      newJob(1, { uniqueKey: 'u  ' }),
      newJob(2, { after: { rule: 'each', parents: [{ job: id(1), when: 'succeeded' }] } }),
    ];
    expect(placementsOf(placeBatch(jobs, state({ holders, stored })))).to.deep.equal([`answer ${id(70)}`, 'new/null']);
  });

  it('a released child with a key goes through the key like any other job', function () {
    const stored = new Map<string, JobStatus>([[id(8), 'done']]);
    const keys = new Map([['k', { admitted: 1, queued: false, unfinished: id(99) }]]);
    const jobs = [
      newJob(1, { concurrency: queue('k'), after: { rule: 'each', parents: [{ job: id(8), when: 'succeeded' }] } }),
    ];
    expect(placementsOf(placeBatch(jobs, state({ stored, keys })))).to.deep.equal(['waiting/slot']);
  });
});
