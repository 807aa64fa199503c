import { InvalidOptionError } from '@oddjob/core';
import { expect } from 'chai';
import type sql from 'mssql';
import { TestClock } from '@oddjob/core/testing';
import { schemaNames } from '../src/index.js';
import {
  dependencyErrorJson,
  leaseErrorJson,
  MAX_LINES_PER_ENTRY,
  MAX_LINES_WITH_OUTCOME,
  takeoverErrorJson,
} from '../src/manager.js';
import { bindStatement, NOW_DECLARATION } from '../src/runner.js';
import * as S from '../src/statements.js';
import { corruptJobArgs } from '../src/testing-statements.js';
import { JOBS_PER_STATEMENT } from '../src/writer.js';

const n = schemaNames('sanity');
const DEP = dependencyErrorJson();
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
  pinnedHost: i % 3 ? null : `${MARK}pin`,
  status: i % 2 ? 'new' : 'waiting',
  waitingFor: i % 2 ? null : 'slot',
  lastError: null,
  priority: i,
  uniqueScope: 'stored',
  uniqueHeld: true,
  after: i % 2 ? null : `${MARK}after`,
  concurrencyKey: i % 2 ? null : `${MARK}key`,
  concurrencyLimit: i % 2 ? null : 2,
  alreadyRunning: i % 2 ? null : 'queue',
  sequenceName: null,
  sequenceRun: null,
  sequenceStep: `${MARK}step`,
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
  priority: 3,
  concurrency: `${MARK}conc`,
};

const claimOf = (host: string | null) =>
  S.claimJobs(
    n,
    { queues: ['a', `${MARK}b`], limit: 5, owner: `${MARK}owner`, leaseMs: 1000, host, takeoverAfterMs: 1_800_000 },
    leaseErrorJson(),
    takeoverErrorJson(),
    DEP,
  );
const outcome = (kind: S.OutcomeRow['kind'], over: Partial<S.OutcomeRow> = {}): S.OutcomeRow => ({
  jobId: ID,
  token: TOKEN,
  kind,
  error: kind === 'retry' || kind === 'failed' ? MARK : null,
  runAt: kind === 'retry' ? when : null,
  result: kind === 'done' ? `${MARK}result` : null,
  ...over,
});
const logLine = (i: number) => ({ at: when, level: 'info', message: `${MARK}line ${i}` });
const attemptedRow = (kind: S.AttemptedRowInput['kind'], i = 0): S.AttemptedRowInput => ({
  id: `${ID.slice(0, 30)}${String(i).padStart(6, '0')}`,
  kind,
  startedAt: when,
  finishedAt: when,
  owner: `${MARK}owner`,
  host: i % 2 ? null : `${MARK}host`,
  error: kind === 'done' ? null : `${MARK}error`,
  runAt: when,
  result: kind === 'done' ? `${MARK}result` : null,
});
const executor: S.ExecutorRowInput = {
  id: `${MARK}exec`,
  host: `${MARK}host`,
  pid: 42,
  version: '1.0.0',
  queues: MARK,
  startedAt: when,
  state: 'running',
};

/** Every statement builder, with inputs that exercise its optional parts. */
const built: S.BuiltStatement[] = [
  S.insertJobs(n, [job(0, null), job(1, `${MARK}k`), job(2, null)]),
  S.insertJobs(n, [job(0, null)]),
  S.recordAttempted(n, [attemptedRow('retry', 0), attemptedRow('failed', 1), attemptedRow('done', 2)]),
  S.attemptedLogs(
    n,
    [ID, `${ID.slice(0, 30)}000001`],
    [
      { job: 0, ...logLine(0) },
      { job: 1, ...logLine(1) },
      { job: 0, ...logLine(2) },
    ],
  ),
  claimOf(`${MARK}host`),
  S.recordOutcomes(n, [outcome('done'), outcome('done', { result: null })], DEP),
  S.recordOutcomesWithHistory(n, [outcome('done'), outcome('retry'), outcome('failed'), outcome('released')], [], DEP),
  S.recordOutcomesWithHistory(
    n,
    [outcome('done'), outcome('released')],
    [
      { outcome: 0, ...logLine(0) },
      { outcome: 1, ...logLine(1) },
      { outcome: 1, ...logLine(2) },
    ],
    DEP,
  ),
  S.extendLeases(
    n,
    [
      { jobId: ID, token: TOKEN },
      { jobId: ID, token: `${MARK}` },
    ],
    1000,
  ),
  S.reportProgress(n, { jobId: ID, token: TOKEN }, MARK, MARK),
  S.reportProgress(n, { jobId: ID, token: TOKEN }, MARK, null),
  S.appendLogs(n, [
    { jobId: ID, token: TOKEN, lines: [logLine(0), logLine(1)] },
    { jobId: ID, token: TOKEN, lines: [] },
  ]),
  S.appendLogs(n, [{ jobId: ID, token: TOKEN, lines: [logLine(0)] }]),
  S.appendLogs(n, [{ jobId: ID, token: TOKEN, lines: [] }]),
  S.listLogs(n, ID, { afterSeq: 0, limit: 10 }),
  S.listLogs(n, ID, { attempt: 2, afterSeq: 7, limit: 10 }),
  S.listRuns(n, ID, { offset: 0, limit: 10 }),
  S.heartbeatExecutor(n, executor, 3_600_000),
  S.removeExecutor(n, MARK),
  S.listExecutors(n, 30_000, 3_600_000),
  S.getJob(n, ID),
  S.listJobs(n, { limit: 10, offset: 0 }),
  S.listJobs(n, { statuses: ['new', 'done'], queue: MARK, target: MARK, limit: 10, offset: 5 }),
  S.listJobs(n, { statuses: ['new', 'done'], queue: MARK, target: MARK, fromId: ID, limit: 10, offset: 5 }),
  S.countJobs(n),
  S.countJobs(n, MARK),
  S.cancelJob(n, ID, DEP),
  S.requeueJob(n, ID, null),
  S.requeueJob(n, ID, when),
  S.purgeJobs(n, { statuses: ['done'] }),
  S.purgeJobs(n, { statuses: ['done', 'failed'], queue: MARK, finishedBefore: when }),
  corruptJobArgs(n, ID),
  S.insertSchedule(n, schedule),
  S.getSchedule(n, MARK),
  S.listSchedules(n),
  S.updateSchedule(n, schedule, 4),
  S.deleteSchedule(n, MARK),
  S.listDueSchedules(n, when, 10),
  S.schemaVersion(n),
  S.dropSchema(n),
  S.flowInsertState(n, { resources: [`${MARK}r0`, `${MARK}r1`], parents: [ID], keys: [MARK], uniqueKeys: [MARK] }),
  S.flowInsertState(n, { resources: [], parents: [ID], keys: [], uniqueKeys: [] }),
  S.insertDependencies(n, [
    { child: ID, ord: 0, parent: TOKEN, awaited: 'succeeded', outcome: null },
    { child: ID, ord: 1, parent: TOKEN, awaited: 'finished', outcome: 'done' },
  ]),
  S.listJobs(n, { sequenceRun: MARK, sequence: MARK, limit: 10, offset: 0 }),
];

/** The @names a statement text uses: not @@functions, not variables it DECLAREs itself. */
function referenced(text: string): Set<string> {
  const declared = new Set([...text.matchAll(/DECLARE\s+@(\w+)/gi)].map((m) => m[1].toLowerCase()));
  const names = [...text.matchAll(/(?<![@\w])@(\w+)/g)].map((m) => m[1].toLowerCase());
  return new Set(names.filter((x) => !declared.has(x)));
}

describe('sqlserver: statements', function () {
  it('cover every builder the module exports', function () {
    const builders = Object.entries(S)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
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
        const target = m[1];
        if (['j', 'o', 'picked', 'ranked', 'room', '(VALUES', 'v', 'p'].includes(target) || target.startsWith('@'))
          continue;
        expect(target, `${b.name}: ${m[0]}`).to.match(
          /^\[sanity\]\.\[(jobs|schedules|migrations|job_runs|job_logs|executors|job_dependencies)\]$/,
        );
      }
    }
  });

  const byName = (name: string) => built.filter((b) => b.name === name);
  const claimText = S.claimJobs(
    n,
    { queues: ['a'], limit: 1, owner: 'o', leaseMs: 1, host: null, takeoverAfterMs: 0 },
    leaseErrorJson(),
    takeoverErrorJson(),
    DEP,
  ).text;

  it('claim with the documented queue hints, in priority DESC, run_at, id order, and return the rows with OUTPUT', function () {
    const claim = claimText;
    expect(claim).to.match(
      /SELECT TOP \(@limit\) id\s+FROM \[sanity\]\.\[jobs\] WITH \(ROWLOCK, READPAST, UPDLOCK, READCOMMITTEDLOCK\)/,
    );
    expect(claim).to.match(/ORDER BY priority DESC, run_at, id\s*\)/);
    expect(claim).to.match(/UPDATE j SET[\s\S]*OUTPUT inserted\.id/);
    expect(claim).to.contain("status IN ('new', 'retry')"); // the filtered index's predicate, as a literal
  });

  it('claim pinned jobs only for their host, or once overdue by @takeoverMs, testing the pin in the pick alone', function () {
    const built = claimOf('box');
    const pick = built.text.slice(built.text.indexOf('WITH picked AS ('), built.text.indexOf('UPDATE j SET\n  status'));
    expect(pick).to.contain(
      'AND (pinned_host IS NULL OR pinned_host = @host OR run_at < DATEADD(millisecond, -@takeoverMs, @now))',
    );
    expect(built.params.find((p) => p.name === 'takeoverMs')?.value).to.equal(1_800_000);
    // Never written by the claim: the index that INCLUDEs it is not touched by the claim's UPDATE for it.
    expect(built.text.slice(built.text.indexOf('UPDATE j SET\n  status'))).to.not.contain('pinned_host =');
  });

  it('insert each job with its pin bound as a parameter', function () {
    const insert = S.insertJobs(n, [job(0, null), job(1, null)]);
    expect(insert.text).to.match(/INSERT INTO \[sanity\]\.\[jobs\] \([^)]*, pinned_host, priority, [^)]*\)/);
    expect(insert.text).to.contain("CASE WHEN v.status = 'cancelled' THEN @now END, v.pinned_host,");
    expect(insert.params.filter((p) => p.name.startsWith('ph')).map((p) => p.value)).to.deep.equal([
      `${MARK}pin`,
      null,
    ]);
    expect(insert.params).to.have.length(2 * S.INSERT_PARAMS_PER_JOB);
  });

  it('claim by updating the base table joined to the CTE, re-checking the claimable condition in the UPDATE itself', function () {
    const claim = claimText;
    const update = claim.slice(claim.indexOf("UPDATE j SET\n  status = 'processing'"));
    expect(update, 'the claiming UPDATE').to.not.equal('');
    expect(update).to.match(/FROM \[sanity\]\.\[jobs\] AS j WITH \([^)]*\)\s+JOIN picked AS p ON p\.id = j\.id/);
    // Where hints are ignored (Babelfish), this WHERE is what keeps two claimers from both taking a row.
    const where = update.slice(update.lastIndexOf('WHERE'));
    expect(where).to.match(/^WHERE j\.status IN \('new', 'retry'\) AND j\.run_at <= @now;$/);
  });

  it('claim gains only the run columns (and clears the last progress) on the hot path; run records only behind IF EXISTS', function () {
    const claim = claimText;
    const [expiry, hot] = claim.split('\nEND;\n');
    expect(hot, 'the claim proper follows the expiry block').to.match(/^\s*WITH picked AS \(/);
    const set = hot.slice(hot.indexOf('UPDATE j SET'), hot.indexOf('OUTPUT'));
    expect(set).to.contain(
      'started_at = @now, executor_id = @owner, host = @host, progress = NULL, progress_message = NULL',
    );
    expect(hot, 'no history writes on the hot path').to.not.match(/job_runs|job_logs|BEGIN TRANSACTION|DECLARE/);
    expect(expiry).to.match(
      /^\s*IF EXISTS \(SELECT 1 FROM \[sanity\]\.\[jobs\] WITH \(READPAST, READCOMMITTEDLOCK\) WHERE status = 'processing' AND lease_expires_at <= @now\)\s+BEGIN\s+SET XACT_ABORT ON;/,
    );
    expect(expiry).to.match(/OUTPUT inserted\.id, inserted\.status INTO @lost \(id, status\)/);
    expect(expiry).to.match(/INSERT INTO \[sanity\]\.\[job_runs\][\s\S]*'lease-lost'[\s\S]*COMMIT TRANSACTION;$/);
    expect(expiry).to.contain(
      "CASE WHEN l.status = 'failed' THEN j.last_error ELSE CONCAT(@takeHead, STRING_ESCAPE(j.executor_id, 'json'), @takeTail) END",
    );
    expect(expiry, 'runs only for rows that hold an attempt').to.contain(
      'j.started_at IS NOT NULL AND j.executor_id IS NOT NULL',
    );
  });

  it('record done outcomes without lines in one UPDATE and the settle routine, with the result; history writes only in the other shape', function () {
    const [fast] = byName('recordOutcomes');
    expect(fast.text.match(/\bUPDATE j SET\s+status = CASE v\.kind/g)).to.have.length(1);
    expect(fast.text).to.not.match(/job_runs|job_logs/);
    expect(fast.text).to.contain('OUTPUT inserted.id, v.token, v.kind, v.error INTO @applied (id, token, kind, error)');
    expect(fast.text).to.contain(
      "INSERT INTO @final (id, status) SELECT id, kind FROM @applied WHERE kind IN ('done', 'failed');",
    );
    expect(fast.text.trim().endsWith('SELECT id, token FROM @applied;')).to.equal(true);
    expect(fast.text).to.contain("result = CASE WHEN v.kind = 'done' THEN v.result ELSE j.result END");
    expect(fast.params.filter((p) => /^x\d+$/.test(p.name)).map((p) => p.value)).to.deep.equal([`${MARK}result`, null]);
    for (const b of byName('recordOutcomesWithHistory')) {
      expect(b.text).to.match(/OUTPUT inserted\.id, v\.token, v\.kind, v\.error INTO @applied/);
      expect(b.text).to.match(
        /INSERT INTO \[sanity\]\.\[job_runs\][\s\S]*WHERE j\.id = a\.id AND a\.kind <> 'done' AND j\.started_at IS NOT NULL/,
      );
      // a release gave the attempt back: its run and lines carry the attempt it was claimed for
      expect(b.text).to.contain("CASE WHEN a.kind = 'released' THEN j.attempts + 1 ELSE j.attempts END");
      expect(b.text.trim().endsWith('SELECT id, token FROM @applied;')).to.equal(true);
    }
    const [noLines, withLines] = byName('recordOutcomesWithHistory');
    expect(noLines.text).to.not.contain('job_logs');
    expect(withLines.text).to.match(/INSERT INTO \[sanity\]\.\[job_logs\][\s\S]*ORDER BY l\.ord;/);
    // each line binds three values and names its outcome's own id parameter
    expect(withLines.text).to.contain(
      '(@i0, 0, @la0, @ll0, @lm0), (@i1, 1, @la1, @ll1, @lm1), (@i1, 2, @la2, @ll2, @lm2)',
    );
    // plus the DependencyError's head and tail, which the settle routine binds
    expect(withLines.params.length).to.equal(2 * S.OUTCOME_PARAMS_PER_ROW + 3 * S.LOG_PARAMS_PER_LINE + 2);
  });

  it('append log lines in one fenced INSERT ... SELECT, answering line-less entries from a fenced SELECT in the same batch', function () {
    const [mixed, linesOnly, bareOnly] = byName('appendLogs');
    expect(mixed.text).to.match(
      /INSERT INTO \[sanity\]\.\[job_logs\] \(job_id, attempt, logged_at, level, message\)\s+OUTPUT inserted\.job_id INTO @wrote \(id\)\s+SELECT j\.id, j\.attempts/,
    );
    expect(mixed.text).to.contain('(@i0, @t0, 0, @la0, @ll0, @lm0), (@i0, @t0, 1, @la1, @ll1, @lm1)');
    expect(mixed.text).to.match(
      /INSERT INTO @wrote \(id\)\s+SELECT j\.id FROM \[sanity\]\.\[jobs\] AS j, \(VALUES \(@i1, @t1\)\) AS e/,
    );
    expect(mixed.params.length).to.equal(2 * S.LOG_ENTRY_PARAMS + 2 * S.LOG_LINE_PARAMS);
    expect(linesOnly.text).to.not.contain('AS e (id, token)');
    expect(bareOnly.text).to.not.contain('job_logs');
    for (const b of [mixed, linesOnly, bareOnly])
      expect(b.text.trim().endsWith('SELECT DISTINCT id FROM @wrote;')).to.equal(true);
  });

  it('cancel and requeue write their run record in the same transaction, reading deleted.* only from a primary-key UPDATE', function () {
    const cancel = S.cancelJob(n, ID, DEP).text;
    expect(cancel).to.match(
      /OUTPUT inserted\.id, deleted\.status INTO @c \(id, was\)\s+WHERE id = @id AND status IN \('waiting', 'new', 'retry', 'processing'\);/,
    );
    expect(cancel).to.match(
      /'cancelled', j\.started_at, @now, NULL[\s\S]*WHERE c\.was = 'processing' AND j\.started_at IS NOT NULL/,
    );
    const requeue = S.requeueJob(n, ID, null).text;
    expect(requeue).to.contain('result = NULL');
    expect(requeue).to.match(
      /'done', j\.started_at, COALESCE\(r\.finished_at, @now\)[\s\S]*WHERE r\.was = 'done' AND j\.started_at IS NOT NULL/,
    );
    for (const t of [cancel, requeue]) expect(t.trim()).to.match(/SELECT COUNT\(\*\) AS n FROM @\w+;$/);
  });

  it('upsert executors with UPDATE WITH (UPDLOCK, SERIALIZABLE) then INSERT in one transaction, never MERGE, and prune in the same batch', function () {
    const [hb] = byName('heartbeatExecutor');
    expect(hb.text).to.match(
      /BEGIN TRANSACTION;\s+UPDATE \[sanity\]\.\[executors\] WITH \(UPDLOCK, SERIALIZABLE\)[\s\S]*WHERE id = @id;\s+IF @@ROWCOUNT = 0\s+INSERT INTO \[sanity\]\.\[executors\][\s\S]*COMMIT TRANSACTION;\s+DELETE FROM \[sanity\]\.\[executors\] WHERE heartbeat_at < DATEADD\(millisecond, -@pruneMs, @now\);$/,
    );
    const [list] = byName('listExecutors');
    expect(list.text).to.match(
      /DELETE FROM[\s\S]*SELECT[\s\S]*heartbeat_at < DATEADD\(millisecond, -@staleMs, @now\) THEN 1 ELSE 0 END AS stale[\s\S]*ORDER BY id;$/,
    );
    for (const b of built) expect(b.text, b.name).to.not.match(/\bMERGE\b/i);
  });

  it('page runs in core run order with the job row and the stored count in the same batch; read logs in seq order', function () {
    const [runs] = byName('listRuns');
    const selects = runs.text.trim().split(';\n');
    expect(selects).to.have.length(3);
    expect(selects[0]).to.match(/^SELECT id, .* FROM \[sanity\]\.\[jobs\] WHERE id = @id$/);
    expect(selects[1]).to.equal('SELECT COUNT(*) AS n FROM [sanity].[job_runs] WHERE job_id = @id');
    expect(selects[2]).to.match(/ORDER BY started_at, attempt, seq OFFSET @offset ROWS FETCH NEXT @limit ROWS ONLY;$/);
    const [all, one] = byName('listLogs');
    expect(all.text).to.not.contain('attempt = @attempt');
    expect(one.text).to.contain('AND attempt = @attempt');
    expect(one.text).to.match(/WHERE job_id = @id AND seq > @after[\s\S]*ORDER BY seq;$/);
    expect(all.params.find((p) => p.name === 'after')!.type).to.equal(S.T.seq);
  });

  it('never update through a CTE (Babelfish refuses it)', function () {
    for (const b of built) {
      const ctes = [...b.text.matchAll(/(?:\bWITH|,)\s+(\w+)\s+AS\s*\(/gi)].map((m) => m[1].toLowerCase());
      for (const cte of ctes) {
        expect(b.text, `${b.name} updates CTE ${cte}`).to.not.match(
          new RegExp(`\\b(UPDATE|DELETE(\\s+FROM)?)\\s+${cte}\\b`, 'i'),
        );
      }
    }
    expect(claimText).to.match(/WITH picked AS \(/);
  });

  it('never name in OUTPUT a VALUES list joined with JOIN ... ON (Babelfish cannot see it there)', function () {
    const withOutput = new Set<string>();
    for (const b of built) {
      if (!/\bOUTPUT\b/.test(b.text)) continue;
      withOutput.add(b.name);
      const joined = [...b.text.matchAll(/JOIN\s+\(VALUES[\s\S]*?\)\s+AS\s+(\w+)/gi)].map((m) => m[1]);
      for (const [, output] of b.text.matchAll(/OUTPUT ([^\n]*)/g)) {
        for (const alias of joined)
          expect(output, `${b.name}: OUTPUT names ${alias}`).to.not.match(new RegExp(`\\b${alias}\\.`));
      }
      expect(b.text, b.name).to.not.match(/JOIN\s+\(VALUES/i);
    }
    expect([...withOutput].sort()).to.deep.equal(
      [
        'appendLogs',
        'cancelJob',
        'claimJobs',
        'extendLeases',
        'recordAttempted',
        'recordOutcomes',
        'recordOutcomesWithHistory',
        'requeueJob',
      ].sort(),
    );
    for (const b of [...byName('recordOutcomes'), ...byName('recordOutcomesWithHistory'), ...byName('extendLeases')]) {
      expect(b.text, b.name).to.match(
        /FROM \[sanity\]\.\[jobs\] AS j, \(VALUES [^\n]*\) AS v \([^)]*\)\s+WHERE j\.id = v\.id AND /,
      );
    }
  });

  /** A batch's statements (split at the semicolons that end them). */
  const statementsOf = (text: string) =>
    text
      .split(/;\s*\n/)
      .map((st) => st.trim())
      .filter((st) => st.length > 0);

  it("never read deleted.* in an UPDATE that has a FROM clause (Babelfish returned other rows' old values there)", function () {
    const readers = new Set<string>();
    for (const b of built) {
      for (const st of statementsOf(b.text)) {
        const update = st.slice(st.search(/\bUPDATE\b/));
        if (!/\bUPDATE\b/.test(st) || !/\bdeleted\./.test(update)) continue;
        readers.add(b.name);
        expect(update, `${b.name}: ${update.slice(0, 60)}`).to.not.match(/\bFROM\b/);
      }
    }
    expect([...readers].sort()).to.deep.equal(['cancelJob', 'requeueJob']);
  });

  it('send OUTPUT ... INTO only to table variables (an OUTPUT INTO table may not sit on either side of a FOREIGN KEY)', function () {
    for (const b of built) {
      for (const m of b.text.matchAll(/\bOUTPUT\b[^\n]*?\bINTO\s+(\S+)/g)) expect(m[1], b.name).to.match(/^@\w+$/);
    }
  });

  it('give every table variable key the jobs key collation (a join across collations fails with error 468)', function () {
    for (const b of built) {
      for (const m of b.text.matchAll(/DECLARE @\w+ TABLE \(id char\(36\)( COLLATE \w+)?/g)) {
        expect(m[1], `${b.name}: ${m[0]}`).to.equal(` ${S.BIN2}`);
      }
    }
  });

  it('open a transaction only after SET XACT_ABORT ON, and commit it in the same batch', function () {
    const transactional = new Set<string>();
    for (const b of built) {
      const begins = b.text.match(/BEGIN TRANSACTION;/g)?.length ?? 0;
      if (begins === 0) continue;
      transactional.add(b.name);
      expect(begins, b.name).to.equal(1);
      expect(b.text.match(/COMMIT TRANSACTION;/g)?.length, b.name).to.equal(1);
      const xact = b.text.indexOf('SET XACT_ABORT ON;');
      expect(xact, `${b.name}: XACT_ABORT`).to.be.greaterThan(-1);
      expect(xact, b.name).to.be.lessThan(b.text.indexOf('BEGIN TRANSACTION;'));
      expect(b.text.indexOf('COMMIT TRANSACTION;'), b.name).to.be.greaterThan(b.text.indexOf('BEGIN TRANSACTION;'));
    }
    expect([...transactional].sort()).to.deep.equal([
      'cancelJob',
      'claimJobs',
      'heartbeatExecutor',
      'recordOutcomes',
      'recordOutcomesWithHistory',
      'requeueJob',
    ]);
  });

  it('updateSchedule keeps created_at (it is set once, by insertSchedule) and bumps the version it compares', function () {
    const update = S.updateSchedule(n, schedule, 4);
    expect(update.text).to.not.match(/created_at/);
    expect(update.params.map((p) => p.name)).to.not.include('created');
    expect(update.text).to.match(/version = @expected \+ 1\s+WHERE name = @name AND version = @expected;/);
  });

  it('give inserted jobs attempt 1 only while they are as the insert left them, and write its run from the same VALUES list', function () {
    const text = S.recordAttempted(n, [attemptedRow('retry'), attemptedRow('done', 1)]).text;
    const [update, runs] = statementsOf(text).filter((st) => /^(UPDATE|INSERT)/.test(st));
    expect(update).to.match(/^UPDATE j SET/);
    expect(update).to.match(
      /FROM \[sanity\]\.\[jobs\] AS j, \(VALUES [^\n]*\) AS v \([^)]*\)\s+WHERE j\.id = v\.id AND /,
    );
    expect(update).to.match(/WHERE j\.id = v\.id AND j\.status = 'new' AND j\.attempts = 0 AND j\.started_at IS NULL$/);
    expect(update).to.match(/attempts = 1\b/);
    expect(update).to.match(
      /finished_at = CASE WHEN v\.kind IN \('done', 'failed'\) THEN v\.finished_at ELSE NULL END/,
    );
    expect(update).to.match(/OUTPUT inserted\.id INTO @applied \(id\)/);
    expect(runs).to.match(/^INSERT INTO \[sanity\]\.\[job_runs\]/);
    expect(runs).to.match(
      /FROM @applied AS a, \(VALUES [^\n]*\) AS v \([^)]*\)\s+WHERE v\.id = a\.id AND v\.kind IN \('retry', 'failed'\)$/,
    );
    expect(text.indexOf('SET XACT_ABORT ON;')).to.be.lessThan(text.indexOf('UPDATE j'));
    expect(text).to.not.match(/BEGIN TRANSACTION/); // the writer's transaction holds insert and this together
    expect(text.trim()).to.match(/SELECT id FROM @applied;$/);
  });

  it('write attempt 1 log lines in their order, binding each job id once', function () {
    const logs = S.attemptedLogs(
      n,
      [ID],
      [
        { job: 0, ...logLine(0) },
        { job: 0, ...logLine(1) },
      ],
    );
    expect(logs.text).to.match(
      /SELECT l\.id, 1, l\.logged_at, l\.level, l\.message\s+FROM \(VALUES [^\n]*\) AS l[^\n]*\s+ORDER BY l\.ord;$/,
    );
    expect(logs.params.filter((p) => p.name.startsWith('i'))).to.have.length(1);
  });

  it('insert jobs without the history columns, which start null', function () {
    const insert = S.insertJobs(n, [job(0, null)]).text;
    for (const c of ['started_at', 'executor_id', 'host', 'result', 'progress_message'])
      expect(insert).to.not.match(new RegExp(`\\b${c}\\b`));
    expect(S.JOB_COLUMNS).to.include.members(['started_at', 'executor_id', 'host', 'result', 'progress_message']);
  });

  it('list after an id as an inclusive varchar(36) bound on the clustered key, before OFFSET/FETCH', function () {
    const list = S.listJobs(n, { statuses: ['failed'], queue: MARK, fromId: ID, limit: 50, offset: 0 });
    expect(list.text).to.equal(
      `SELECT ${S.JOB_COLUMNS.join(', ')} FROM [sanity].[jobs] WHERE id >= @fromId AND status IN (@s0) AND queue = @queue
ORDER BY id OFFSET @offset ROWS FETCH NEXT @limit ROWS ONLY;`,
    );
    const from = list.params.find((p) => p.name === 'fromId')!;
    expect(from.value).to.equal(ID);
    const type = (from.type as () => { type: unknown; length: number })();
    expect([type.length, type.type]).to.deep.equal([36, (S.T.id() as unknown as { type: unknown }).type]);
    expect(S.listJobs(n, { limit: 50, offset: 0 }).text).to.not.contain('fromId');
  });

  it('send each status of a list or purge filter at most once', function () {
    const list = S.listJobs(n, { statuses: ['done', 'done', 'failed', 'done', 'failed'], limit: 10, offset: 0 });
    const statusParams = (b: S.BuiltStatement) => b.params.filter((p) => /^s\d+$/.test(p.name)).map((p) => p.value);
    expect(statusParams(list)).to.deep.equal(['done', 'failed']);
    expect(list.text).to.contain('status IN (@s0, @s1)');
    const many = Array.from({ length: 5000 }, () => 'done');
    expect(statusParams(S.purgeJobs(n, { statuses: many }))).to.deep.equal(['done']);
    expect(() => S.listJobs(n, { statuses: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], limit: 1, offset: 0 })).to.throw(
      InvalidOptionError,
      /at most 7/,
    );
  });

  it('pair every READPAST with READCOMMITTEDLOCK, which READ_COMMITTED_SNAPSHOT databases require', function () {
    // Table hints docs: under READ_COMMITTED_SNAPSHOT ON at READ COMMITTED, READPAST is refused
    // (error 650) unless READCOMMITTEDLOCK is also given. Azure SQL Database has RCSI on by default.
    let seen = 0;
    for (const b of built) {
      for (const m of b.text.matchAll(/WITH \(([^)]*)\)/g)) {
        const hints = m[1].split(',').map((h) => h.trim().toUpperCase());
        if (!hints.includes('READPAST')) continue;
        seen++;
        expect(hints, `${b.name}: ${m[0]}`).to.include('READCOMMITTEDLOCK');
        expect(hints, `${b.name}: ${m[0]}`).to.not.include.members([
          'HOLDLOCK',
          'SERIALIZABLE',
          'NOLOCK',
          'READCOMMITTED',
        ]);
      }
    }
    expect(
      seen,
      'the claim batch uses READPAST four times (the expiry check, its UPDATE, the pick and the claim)',
    ).to.equal(4);
  });

  it('fence every write after the claim by lease token and expiry', function () {
    const fenced = [
      'recordOutcomes',
      'recordOutcomesWithHistory',
      'extendLeases',
      'reportProgress',
      'appendLogs',
    ].flatMap(byName);
    expect(fenced).to.have.length(9);
    for (const b of fenced) {
      expect(b.text, b.name).to.match(
        /status = 'processing' AND (j\.)?lease_token = (v\.token|l\.token|e\.token|@token) AND (j\.)?lease_expires_at > @now/,
      );
    }
  });

  it('stay under the 2100-parameter limit at the chunk sizes the store uses', function () {
    const many = Array.from({ length: JOBS_PER_STATEMENT }, (_, i) => job(i, `k${i}`));
    expect(S.insertJobs(n, many).params.length + 1).to.be.at.most(2100);
    const outcomes = Array.from({ length: Math.floor(S.MAX_PARAMS / S.OUTCOME_PARAMS_PER_ROW) }, () => outcome('done'));
    expect(S.recordOutcomes(n, outcomes, DEP).params.length + 1).to.be.at.most(2100);
    // one outcome with as many lines as the manager ever sends beside it
    const lines = Array.from({ length: MAX_LINES_WITH_OUTCOME }, (_, i) => ({ outcome: 0, ...logLine(i) }));
    expect(S.recordOutcomesWithHistory(n, [outcome('done')], lines, DEP).params.length + 1).to.be.at.most(2100);
    expect(
      S.recordOutcomesWithHistory(n, [outcome('done')], [...lines, ...lines.slice(0, 2)], DEP).params.length + 1,
    ).to.be.greaterThan(2000);
    const entryLines = Array.from({ length: MAX_LINES_PER_ENTRY }, (_, i) => logLine(i));
    expect(S.appendLogs(n, [{ jobId: ID, token: TOKEN, lines: entryLines }]).params.length + 1).to.be.at.most(2100);
    const leases = Array.from({ length: Math.floor((S.MAX_PARAMS - 1) / S.LEASE_PARAMS_PER_ROW) }, () => ({
      jobId: ID,
      token: TOKEN,
    }));
    expect(S.extendLeases(n, leases, 1).params.length + 1).to.be.at.most(2100);
    const attempted = Array.from({ length: Math.floor(S.MAX_PARAMS / S.ATTEMPTED_PARAMS_PER_ROW) }, (_, i) =>
      attemptedRow('retry', i),
    );
    expect(S.recordAttempted(n, attempted).params.length + 1).to.be.at.most(2100);
    // the writer's log chunk: each line of a different job, the worst case
    const perChunk = Math.floor(S.MAX_PARAMS / (S.ATTEMPTED_LOG_PARAMS_PER_LINE + 1));
    const ids = Array.from({ length: perChunk }, (_, i) => `${ID.slice(0, 30)}${String(i).padStart(6, '0')}`);
    const spread = ids.map((_, i) => ({ job: i, ...logLine(i) }));
    expect(S.attemptedLogs(n, ids, spread).params.length + 1).to.be.at.most(2100);
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
  const statement = S.cancelJob(n, ID, DEP);

  it("binds @now from the store's clock when it has one", function () {
    const clock = new TestClock(when);
    const req = new FakeRequest();
    const text = bindStatement(req as unknown as sql.Request, statement, clock);
    expect(text).to.equal(statement.text);
    const now = req.inputs.find((i) => i.name === 'now')!;
    expect((now.value as Date).getTime()).to.equal(when.getTime());
    expect(req.inputs.find((i) => i.name === 'id')!.value).to.equal(ID);
  });

  it('declares @now as SYSUTCDATETIME() otherwise', function () {
    const req = new FakeRequest();
    const text = bindStatement(req as unknown as sql.Request, statement, undefined);
    expect(text).to.equal(NOW_DECLARATION + statement.text);
    expect(NOW_DECLARATION).to.contain('SYSUTCDATETIME()');
    expect(req.inputs.map((i) => i.name)).to.deep.equal(statement.params.map((p) => p.name));
  });

  it('binds nothing for a statement that does not use @now', function () {
    const req = new FakeRequest();
    const text = bindStatement(req as unknown as sql.Request, S.getJob(n, ID), new TestClock());
    expect(text).to.not.contain('@now');
    expect(req.inputs.map((i) => i.name)).to.deep.equal(['id']);
  });
});
