import { expect } from 'chai';
import { CorruptJobError, leaseExpiredError, Retry, type NewJob, type ScheduleRecord } from '@oddjob/core';
import { leaseErrorJson } from '../src/manager.js';
import { jobToRow, rowToJob, rowToSchedule, scheduleToRow, byRunAtThenId, type JobRow, type ScheduleRow } from '../src/row-mapping.js';

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
    ...over,
  };
}

/** What SQL Server's STRING_ESCAPE(text, 'json') produces: JSON string escaping, plus "/" as "\/". */
function stringEscapeJson(text: string): string {
  return JSON.stringify(text).slice(1, -1).replace(/\//g, '\\/');
}

describe('sqlserver: row <-> job mapping', function () {
  it('maps a claimed row: UTC dates kept to the millisecond, JSON columns parsed, lease present', function () {
    const job = rowToJob(row());
    expect(job.runAt.toISOString()).to.equal('2030-01-01T12:00:00.000Z');
    expect(job.createdAt.getTime()).to.equal(Date.UTC(2030, 0, 1, 11, 59, 0, 123));
    expect(job.retry).to.deep.equal(Retry.fixed(3, 500));
    expect(job.metadata).to.deep.equal({ tenant: 'acme' });
    expect(job.lease).to.deep.equal({ owner: 'exec-1', token: '6f9619ff-8b86-d011-b42d-00c04fc964ff', expiresAt: t('2030-01-01T12:00:30.000Z') });
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
    const job: NewJob = {
      id: 'x'.repeat(36),
      queue: 'q',
      target: 't',
      method: 'm',
      args: '[]',
      runAt: null,
      retry: Retry.list([1000, 2000]),
      metadata: { a: [1, { b: null }] },
      uniqueKey: 'u',
    };
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
});
