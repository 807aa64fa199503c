import { expect } from 'chai';
import {
  byRunAtThenId,
  CorruptJobError,
  leaseExpiredError,
  leaseTakeoverError,
  Retry,
  type ScheduleRecord,
} from '@oddjob/core';
import { newJobFixture } from '@oddjob/core/testing';
import { leaseErrorJson, ownerErrorJson, takeoverErrorJson } from '../src/manager.js';
import {
  executorToRow,
  jobToRow,
  rowToExecutor,
  rowToJob,
  rowToLogLine,
  rowToRun,
  rowToSchedule,
  scheduleToRow,
  type ExecutorRow,
  type JobRow,
  type LogRow,
  type RunRow,
  type ScheduleRow,
} from '../src/row-mapping.js';

const t = (iso: string) => new Date(iso);

function row(over: Partial<JobRow> = {}): JobRow {
  return {
    id: '01890a5d-ac96-774b-bcce-b302099a8057',
    queue: 'mail',
    target: 'email',
    method: 'send',
    args: '{"json":[1]}',
    status: 'processing',
    run_at: t('2030-01-01T12:00:00.000Z'),
    attempts: 2,
    max_attempts: 3,
    retry: JSON.stringify(Retry.fixed(3, 500)),
    last_error: null,
    lease_owner: 'exec-1',
    lease_token: '6f9619ff-8b86-d011-b42d-00c04fc964ff',
    lease_expires_at: t('2030-01-01T12:00:30.000Z'),
    progress: null,
    metadata: '{"tenant":"acme"}',
    unique_key: null,
    created_at: t('2030-01-01T11:59:00.123Z'),
    updated_at: t('2030-01-01T12:00:00.000Z'),
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

const JOB = '01890a5d-ac96-774b-bcce-b302099a8057';

function runRow(over: Partial<RunRow> = {}): RunRow {
  return {
    job_id: JOB,
    seq: '9007199254740',
    attempt: 2,
    executor_id: 'exec-1',
    host: 'box-a',
    state: 'retry',
    started_at: t('2030-01-01T12:00:00.000Z'),
    finished_at: t('2030-01-01T12:00:01.250Z'),
    error: '{"name":"TypeError","message":"down"}',
    progress: '{"done":3}',
    progress_message: 'three',
    ...over,
  };
}

/** What SQL Server's STRING_ESCAPE(text, 'json') produces: JSON string escaping, plus "/" as "\/". */
function stringEscapeJson(text: string): string {
  return JSON.stringify(text).slice(1, -1).replace(/\//g, '\\/');
}

describe('sqlserver: row <-> job mapping', function () {
  it('maps the history columns of a job row, null where absent (a job written before migration 2 has none)', function () {
    const before = rowToJob(row({ status: 'new' }));
    expect(before).to.include({ startedAt: null, executorId: null, host: null, result: null, progressMessage: null });
    const {
      started_at: _s,
      executor_id: _e,
      host: _h,
      result: _r,
      progress_message: _p,
      ...v1
    } = row({ status: 'new' });
    expect(rowToJob(v1 as JobRow)).to.include({
      startedAt: null,
      executorId: null,
      host: null,
      result: null,
      progressMessage: null,
    });
    const done = rowToJob(
      row({
        status: 'done',
        started_at: t('2030-01-01T12:00:00.007Z'),
        executor_id: 'exec-1',
        host: 'box-a',
        result: '{"json":"ok"}',
        progress: '100',
        progress_message: 'all copied',
        finished_at: t('2030-01-01T12:00:02.000Z'),
      }),
    );
    expect(done.startedAt!.toISOString()).to.equal('2030-01-01T12:00:00.007Z');
    expect(done).to.include({
      executorId: 'exec-1',
      host: 'box-a',
      result: '{"json":"ok"}',
      progress: 100,
      progressMessage: 'all copied',
    });
    expect(() => rowToJob(row({ started_at: new Date(Number.NaN) }))).to.throw(CorruptJobError, /started_at/);
  });

  it('maps a claimed row: UTC dates kept to the millisecond, JSON columns parsed, lease present', function () {
    const job = rowToJob(row());
    expect(job.runAt.toISOString()).to.equal('2030-01-01T12:00:00.000Z');
    expect(job.createdAt.getTime()).to.equal(Date.UTC(2030, 0, 1, 11, 59, 0, 123));
    expect(job.retry).to.deep.equal(Retry.fixed(3, 500));
    expect(job.metadata).to.deep.equal({ tenant: 'acme' });
    expect(job.lease).to.deep.equal({
      owner: 'exec-1',
      token: '6f9619ff-8b86-d011-b42d-00c04fc964ff',
      expiresAt: t('2030-01-01T12:00:30.000Z'),
    });
    expect(job.args).to.equal('{"json":[1]}'); // left as stored: deserializeArgs reads it at run time
    expect(job.lastError).to.equal(null);
    expect(job.progress).to.equal(null);
    expect(job.finishedAt).to.equal(null);
    expect(job.uniqueKey).to.equal(null);
  });

  it('shows no lease on a job that is not processing', function () {
    expect(rowToJob(row({ status: 'retry' })).lease).to.equal(null);
    expect(rowToJob(row({ status: 'processing', lease_token: null })).lease).to.equal(null);
  });

  it('parses errors, numeric and structured progress, and keeps nulls as null', function () {
    const job = rowToJob(
      row({
        status: 'failed',
        last_error: '{"name":"TypeError","message":"ünï \\"q\\"\\n","stack":"at x"}',
        progress: '{"done":3,"of":9}',
        unique_key: 'k1',
        finished_at: t('2030-01-01T12:01:00.000Z'),
      }),
    );
    expect(job.lastError).to.deep.equal({ name: 'TypeError', message: 'ünï "q"\n', stack: 'at x' });
    expect(job.progress).to.deep.equal({ done: 3, of: 9 });
    expect(job.uniqueKey).to.equal('k1');
    expect(job.finishedAt!.toISOString()).to.equal('2030-01-01T12:01:00.000Z');
    expect(rowToJob(row({ progress: '40' })).progress).to.equal(40);
  });

  it('names the job when a JSON column or the status is unreadable', function () {
    for (const bad of [{ retry: '{nope' }, { metadata: '' }, { last_error: '[' }, { status: 'running' }]) {
      let thrown: unknown;
      try {
        rowToJob(row(bad));
      } catch (e) {
        thrown = e;
      }
      expect(thrown, JSON.stringify(bad)).to.be.instanceOf(CorruptJobError);
      expect((thrown as Error).message).to.contain('01890a5d-ac96-774b-bcce-b302099a8057');
    }
  });

  it('writes a new job with its policy as JSON and max_attempts beside it', function () {
    const job = newJobFixture('x'.repeat(36), {
      queue: 'q',
      retry: Retry.list([1000, 2000]),
      metadata: { a: [1, { b: null }] },
      uniqueKey: 'u',
    });
    const r = jobToRow(job);
    expect(r.maxAttempts).to.equal(3);
    expect(JSON.parse(r.retry)).to.deep.equal(Retry.list([1000, 2000]));
    expect(JSON.parse(r.metadata)).to.deep.equal({ a: [1, { b: null }] });
    expect(r.runAt).to.equal(null);
    expect(r.uniqueKey).to.equal('u');
  });

  it('round-trips a schedule', function () {
    const s: ScheduleRecord = {
      name: 'nightly',
      cron: '0 3 * * *',
      timeZone: 'Europe/Warsaw',
      target: 't',
      method: 'm',
      args: '{"json":[]}',
      queue: 'default',
      retry: Retry.none(),
      metadata: { x: 1 },
      misfire: { kind: 'catchUp', maxRuns: 3 },
      paused: false,
      nextFireAt: t('2030-01-02T02:00:00.000Z'),
      lastFireAt: null,
      version: 7,
      createdAt: t('2030-01-01T00:00:00.000Z'),
      updatedAt: t('2030-01-01T00:00:00.000Z'),
      priority: -3,
      concurrency: { key: 'nightly-lock', limit: 2, alreadyRunning: 'skip' },
    };
    const r = scheduleToRow(s);
    const back = rowToSchedule({
      name: r.name,
      cron: r.cron,
      time_zone: r.timeZone,
      target: r.target,
      method: r.method,
      args: r.args,
      queue: r.queue,
      retry: r.retry,
      metadata: r.metadata,
      misfire: r.misfire,
      paused: r.paused,
      next_fire_at: r.nextFireAt,
      last_fire_at: r.lastFireAt,
      version: r.version,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
      priority: r.priority,
      concurrency: r.concurrency,
    } satisfies ScheduleRow);
    expect(back).to.deep.equal(s);
  });

  it('orders claimed jobs by runAt, then id', function () {
    const a = rowToJob(row({ id: 'b'.repeat(36), run_at: t('2030-01-01T00:00:01Z') }));
    const b = rowToJob(row({ id: 'a'.repeat(36), run_at: t('2030-01-01T00:00:02Z') }));
    const c = rowToJob(row({ id: 'c'.repeat(36), run_at: t('2030-01-01T00:00:01Z') }));
    expect([b, c, a].sort(byRunAtThenId).map((j) => j.id[0])).to.deep.equal(['b', 'c', 'a']);
  });

  it("builds core's LeaseExpiredError around any owner name, as the claim statement will", function () {
    const { head, tail } = leaseErrorJson();
    for (const owner of ['died', 'host/pid:12 "quoted" \\ back', 'tab\there', 'żółw 🐢', '\u0001ctl']) {
      const stored = `${head}${stringEscapeJson(owner)}${tail}`; // CONCAT(@errHead, STRING_ESCAPE(owner, 'json'), @errTail)
      expect(JSON.parse(stored)).to.deep.equal(leaseExpiredError(owner));
    }
  });

  it("builds core's takeover error around any owner name, as the expiry statement will", function () {
    const { head, tail } = takeoverErrorJson();
    for (const owner of ['died', 'host/pid:12 "quoted" \\ back', 'żółw 🐢', '\u0001ctl']) {
      expect(JSON.parse(`${head}${stringEscapeJson(owner)}${tail}`)).to.deep.equal(leaseTakeoverError(owner));
    }
    expect(() => ownerErrorJson(() => ({ name: 'E', message: 'names nobody' }))).to.throw(/exactly once/);
  });
});

describe('sqlserver: history row mapping', function () {
  it('maps a run: state, times, duration, parsed error and progress, bigint seq left aside', function () {
    const run = rowToRun(runRow())!;
    expect(run).to.deep.equal({
      jobId: JOB,
      attempt: 2,
      executorId: 'exec-1',
      host: 'box-a',
      startedAt: t('2030-01-01T12:00:00.000Z'),
      finishedAt: t('2030-01-01T12:00:01.250Z'),
      state: 'retry',
      error: { name: 'TypeError', message: 'down' },
      durationMs: 1250,
      progress: { done: 3 },
      progressMessage: 'three',
      takeover: null,
    });
    expect(rowToRun(runRow({ state: 'released', error: null, progress: null, host: null }))).to.include({
      error: null,
      progress: null,
      host: null,
    });
    expect(rowToRun(runRow({ progress: '40' }))!.progress).to.equal(40);
  });

  it('keeps a run whose JSON is unreadable, its error naming the job, the run and the column', function () {
    for (const [bad, column] of [
      [{ error: '{nope' }, 'error'],
      [{ progress: '[' }, 'progress'],
    ] as const) {
      const run = rowToRun(runRow(bad))!;
      expect(run.state).to.equal('retry');
      expect(run.error!.name).to.equal('CorruptJobError');
      expect(run.error!.message).to.contain(JOB).and.contain(`column ${column}`).and.contain('attempt 2');
      if (column === 'progress') expect(run.progress).to.equal(null);
    }
  });

  it('leaves out a row that cannot be a run (a state or time the table does not allow)', function () {
    expect(rowToRun(runRow({ state: 'running' }))).to.equal(null);
    expect(rowToRun(runRow({ state: 'exploded' }))).to.equal(null);
    expect(rowToRun(runRow({ finished_at: new Date(Number.NaN) }))).to.equal(null);
  });

  it('maps a log line, reading the bigint seq tedious returns as a string', function () {
    const r: LogRow = {
      job_id: JOB,
      seq: '12345678901',
      attempt: 1,
      logged_at: t('2030-01-01T00:00:00.001Z'),
      level: 'warn',
      message: 'ünï',
    };
    expect(rowToLogLine(r)).to.deep.equal({
      jobId: JOB,
      attempt: 1,
      seq: 12345678901,
      at: t('2030-01-01T00:00:00.001Z'),
      level: 'warn',
      message: 'ünï',
    });
    expect(rowToLogLine({ ...r, seq: 7 })!.seq).to.equal(7);
    expect(rowToLogLine({ ...r, level: 'loud' })).to.equal(null);
    expect(rowToLogLine({ ...r, seq: '99999999999999999999' })).to.equal(null);
  });

  it('round-trips an executor, with stale as the statement computed it; unreadable queues read as none', function () {
    const info = {
      id: 'exec-1',
      host: 'box-a',
      pid: 4242,
      version: '1.2.3',
      queues: [{ name: 'mail', workers: 4 }],
      startedAt: t('2030-01-01T00:00:00.000Z'),
      state: 'stopping' as const,
    };
    const r = executorToRow(info);
    expect(JSON.parse(r.queues)).to.deep.equal(info.queues);
    const back: ExecutorRow = {
      id: r.id,
      host: r.host,
      pid: r.pid,
      version: r.version,
      queues: r.queues,
      started_at: r.startedAt,
      state: r.state,
      heartbeat_at: t('2030-01-01T00:01:00.000Z'),
      stale: 1,
    };
    expect(rowToExecutor(back)).to.deep.equal({ ...info, heartbeatAt: t('2030-01-01T00:01:00.000Z'), stale: true });
    expect(rowToExecutor({ ...back, stale: 0 })!.stale).to.equal(false);
    expect(rowToExecutor({ ...back, queues: '{oops' })!.queues).to.deep.equal([]);
    expect(rowToExecutor({ ...back, state: 'gone' })).to.equal(null);
  });
});
