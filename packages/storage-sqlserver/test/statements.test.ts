import { expect } from 'chai';
import sql from 'mssql';
import { TestClock } from '@oddjob/core/testing';
import { schemaNames } from '../src/index.js';
import { leaseErrorJson } from '../src/manager.js';
import { NOW_DECLARATION, StatementRunner } from '../src/runner.js';
import * as S from '../src/statements.js';
import { DEFAULT_RETRY } from '../src/transient.js';
import { JOBS_PER_STATEMENT } from '../src/writer.js';

const n = schemaNames('sanity');
const when = new Date(Date.UTC(2030, 0, 1));
const ID = '01890a5d-ac96-774b-bcce-b302099a8057';
const TOKEN = '6f9619ff-8b86-d011-b42d-00c04fc964ff';
/** Distinctive values: if any of them shows up in a statement's text, it was concatenated, not bound. */
const MARK = "zz'mark";
const job = (i: number, key: string | null): S.JobRowInput => ({
  id: `${ID.slice(0, 30)}${String(i).padStart(6, '0')}`,
  queue: `${MARK}q`,
  target: `${MARK}t`,
  method: 'run',
  args: `${MARK}args`,
  runAt: i % 2 ? when : null,
  maxAttempts: 3,
  retry: `${MARK}retry`,
  metadata: `${MARK}meta`,
  uniqueKey: key,
});
const schedule: S.ScheduleRowInput = {
  name: `${MARK}name`,
  cron: '* * * * *',
  timeZone: 'UTC',
  target: 't',
  method: 'm',
  args: MARK,
  queue: 'q',
  retry: MARK,
  metadata: MARK,
  misfire: MARK,
  paused: false,
  nextFireAt: when,
  lastFireAt: null,
  version: 1,
  createdAt: when,
  updatedAt: when,
};

/** Every statement builder, with inputs that exercise its optional parts. */
const built: S.BuiltStatement[] = [
  S.insertJobs(n, [job(0, null), job(1, `${MARK}k`), job(2, null)]),
  S.insertJobs(n, [job(0, null)]),
  S.claimJobs(n, { queues: ['a', `${MARK}b`], limit: 5, owner: `${MARK}owner`, leaseMs: 1000 }, leaseErrorJson()),
  S.recordOutcomes(n, [
    { jobId: ID, token: TOKEN, kind: 'done', error: null, runAt: null },
    { jobId: ID, token: TOKEN, kind: 'retry', error: MARK, runAt: when },
  ]),
  S.extendLeases(n, [{ jobId: ID, token: TOKEN }, { jobId: ID, token: `${MARK}` }], 1000),
  S.reportProgress(n, { jobId: ID, token: TOKEN }, MARK),
  S.getJob(n, ID),
  S.listJobs(n, { limit: 10, offset: 0 }),
  S.listJobs(n, { statuses: ['new', 'done'], queue: MARK, target: MARK, limit: 10, offset: 5 }),
  S.countJobs(n),
  S.countJobs(n, MARK),
  S.cancelJob(n, ID),
  S.requeueJob(n, ID, null),
  S.requeueJob(n, ID, when),
  S.purgeJobs(n, { statuses: ['done'] }),
  S.purgeJobs(n, { statuses: ['done', 'failed'], queue: MARK, finishedBefore: when }),
  S.corruptJobArgs(n, ID),
  S.insertSchedule(n, schedule),
  S.getSchedule(n, MARK),
  S.listSchedules(n),
  S.updateSchedule(n, schedule, 4),
  S.deleteSchedule(n, MARK),
  S.listDueSchedules(n, when, 10),
  S.schemaVersion(n),
  S.dropSchema(n),
];

/** The @names a statement text uses: not @@functions, not variables it DECLAREs itself. */
function referenced(text: string): Set<string> {
  const declared = new Set([...text.matchAll(/DECLARE\s+@(\w+)/gi)].map((m) => m[1]!.toLowerCase()));
  const names = [...text.matchAll(/(?<![@\w])@(\w+)/g)].map((m) => m[1]!.toLowerCase());
  return new Set(names.filter((x) => !declared.has(x)));
}

describe('sqlserver: statements', function () {
  it('cover every builder the module exports', function () {
    const builders = Object.entries(S).filter(([, v]) => typeof v === 'function').map(([k]) => k);
    const names = new Set(built.map((b) => b.name));
    expect(builders.filter((b) => !names.has(b))).to.deep.equal([]);
  });

  for (const b of built) {
    it(`${b.name}: references exactly the parameters it binds (plus @now when it says so)`, function () {
      const bound = new Set(b.params.map((p) => p.name.toLowerCase()));
      expect(bound.size, 'no parameter bound twice').to.equal(b.params.length);
      if (b.usesNow) bound.add('now');
      expect([...referenced(b.text)].sort()).to.deep.equal([...bound].sort());
      expect(b.usesNow).to.equal(/@now\b/.test(b.text));
    });

    it(`${b.name}: carries values only as parameters, never in its text`, function () {
      expect(b.text).to.not.contain('zz');
      expect(b.text).to.not.contain(ID);
      expect(b.text).to.not.contain(TOKEN);
      for (const p of b.params) expect(p.type, `type of @${p.name}`).to.not.equal(undefined);
    });
  }

  it('qualify every table with the quoted schema', function () {
    for (const b of built) {
      for (const m of b.text.matchAll(/\b(?:FROM|INTO|UPDATE|JOIN|TABLE(?: IF EXISTS)?)\s+([\w[\].]+)/gi)) {
        const target = m[1]!;
        if (['j', 'picked', '(VALUES', 'v'].includes(target) || target.startsWith('@')) continue;
        expect(target, `${b.name}: ${m[0]}`).to.match(/^\[sanity\]\.\[(jobs|schedules|migrations)\]$/);
      }
    }
  });

  it('claim with the documented queue hints, in run_at, id order, and return the rows with OUTPUT', function () {
    const claim = S.claimJobs(n, { queues: ['a'], limit: 1, owner: 'o', leaseMs: 1 }, leaseErrorJson()).text;
    expect(claim).to.match(/SELECT TOP \(@limit\) \*\s+FROM \[sanity\]\.\[jobs\] WITH \(ROWLOCK, READPAST, UPDLOCK, READCOMMITTEDLOCK\)/);
    expect(claim).to.match(/ORDER BY run_at, id\s*\)/);
    expect(claim).to.match(/UPDATE picked SET[\s\S]*OUTPUT inserted\.id/);
    expect(claim).to.contain("status IN ('new', 'retry')"); // the filtered index's predicate, as a literal
  });

  it('pair every READPAST with READCOMMITTEDLOCK, which READ_COMMITTED_SNAPSHOT databases require', function () {
    // Table hints docs: under READ_COMMITTED_SNAPSHOT ON at READ COMMITTED, READPAST is refused
    // (error 650) unless READCOMMITTEDLOCK is also given. Azure SQL Database has RCSI on by default.
    let seen = 0;
    for (const b of built) {
      for (const m of b.text.matchAll(/WITH \(([^)]*)\)/g)) {
        const hints = m[1]!.split(',').map((h) => h.trim().toUpperCase());
        if (!hints.includes('READPAST')) continue;
        seen++;
        expect(hints, `${b.name}: ${m[0]}`).to.include('READCOMMITTEDLOCK');
        expect(hints, `${b.name}: ${m[0]}`).to.not.include.members(['HOLDLOCK', 'SERIALIZABLE', 'NOLOCK', 'READCOMMITTED']);
      }
    }
    expect(seen, 'the claim batch uses READPAST twice').to.equal(2);
  });

  it('fence every write after the claim by lease token and expiry', function () {
    for (const b of [built[3]!, built[4]!, built[5]!]) {
      expect(b.text, b.name).to.match(/status = 'processing' AND (j\.)?lease_token = (v\.token|@token) AND (j\.)?lease_expires_at > @now/);
    }
  });

  it('stay under the 2100-parameter limit at the chunk sizes the store uses', function () {
    const many = Array.from({ length: JOBS_PER_STATEMENT }, (_, i) => job(i, `k${i}`));
    expect(S.insertJobs(n, many).params.length + 1).to.be.at.most(2100);
    const outcomes = Array.from({ length: Math.floor(S.MAX_PARAMS / S.OUTCOME_PARAMS_PER_ROW) }, () => ({
      jobId: ID,
      token: TOKEN,
      kind: 'done' as const,
      error: null,
      runAt: null,
    }));
    expect(S.recordOutcomes(n, outcomes).params.length + 1).to.be.at.most(2100);
    const leases = Array.from({ length: Math.floor((S.MAX_PARAMS - 1) / S.LEASE_PARAMS_PER_ROW) }, () => ({ jobId: ID, token: TOKEN }));
    expect(S.extendLeases(n, leases, 1).params.length + 1).to.be.at.most(2100);
  });
});

describe('sqlserver: statement runner', function () {
  class FakeRequest {
    inputs: { name: string; type: unknown; value: unknown }[] = [];
    input(name: string, type: unknown, value: unknown) {
      this.inputs.push({ name, type, value });
      return this;
    }
  }
  const factory = { getPool: async () => ({}) as sql.ConnectionPool, close: async () => undefined };
  const statement = S.cancelJob(n, ID);

  it("binds @now from the store's clock when it has one", function () {
    const clock = new TestClock(when);
    const req = new FakeRequest();
    const text = new StatementRunner(factory, DEFAULT_RETRY, clock).prepare(req as unknown as sql.Request, statement);
    expect(text).to.equal(statement.text);
    const now = req.inputs.find((i) => i.name === 'now')!;
    expect((now.value as Date).getTime()).to.equal(when.getTime());
    expect(req.inputs.find((i) => i.name === 'id')!.value).to.equal(ID);
  });

  it('declares @now as SYSUTCDATETIME() otherwise', function () {
    const req = new FakeRequest();
    const text = new StatementRunner(factory, DEFAULT_RETRY, undefined).prepare(req as unknown as sql.Request, statement);
    expect(text).to.equal(NOW_DECLARATION + statement.text);
    expect(NOW_DECLARATION).to.contain('SYSUTCDATETIME()');
    expect(req.inputs.map((i) => i.name)).to.deep.equal(['id']);
  });

  it('binds nothing for a statement that does not use @now', function () {
    const req = new FakeRequest();
    const text = new StatementRunner(factory, DEFAULT_RETRY, new TestClock()).prepare(req as unknown as sql.Request, S.getJob(n, ID));
    expect(text).to.not.contain('@now');
    expect(req.inputs.map((i) => i.name)).to.deep.equal(['id']);
  });
});
