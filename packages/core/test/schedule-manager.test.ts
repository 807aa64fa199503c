import { expect } from 'chai';
import { InvalidOptionError, JobArgumentError, UnknownJobMethodError, UnknownJobTargetError } from '../src/errors.js';
import { MemoryJobStore } from '../src/memory/memory-store.js';
import { JobRegistry } from '../src/registry.js';
import { DEFAULT_RETRY_POLICY, Retry } from '../src/retry.js';
import { deserializeArgs } from '../src/serializer.js';
import { ScheduleConflictError, ScheduleExistsError, ScheduleNotFoundError } from '../src/schedule/errors.js';
import { scheduleJobKey } from '../src/schedule/firing.js';
import { ScheduleManager } from '../src/schedule/schedule-manager.js';
import { Scheduler } from '../src/schedule/scheduler.js';
import { TestClock } from '../src/testing/test-clock.js';
import { scheduleFixture } from './schedule-fixture.js';

class EmailJob {
  async send(_to: string, _subject: string): Promise<void> {}
  async digest(_team: string, _since: Date): Promise<void> {}
}
class Unregistered {
  async run(): Promise<void> {}
}
const registry = new JobRegistry().register('email', EmailJob);
const MINUTE = 60_000;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0); // a Tuesday
const iso = (ds: readonly Date[]) => ds.map((d) => d.toISOString());

async function rejects<E extends Error>(p: Promise<unknown>, type: new (...a: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    expect(err, (err as Error).message).to.be.instanceOf(type);
    return err as E;
  }
  throw new Error(`expected a ${type.name}`);
}

describe('schedule: ScheduleManager', function () {
  let clock: TestClock;
  let store: MemoryJobStore;
  let manager: ScheduleManager;
  let scheduler: Scheduler;

  beforeEach(function () {
    ({ clock, store, manager, scheduler } = scheduleFixture(registry, T0));
  });
  afterEach(() => store.close());

  describe('create', function () {
    it('typed form: records the call, defaults to UTC, skip, the default queue and retry', async function () {
      const since = new Date(T0 - 86_400_000);
      const rec = await manager.create('digest', EmailJob, (j) => j.digest('ops', since), { cron: '0 8 * * *' });
      expect(rec).to.deep.include({
        name: 'digest',
        cron: '0 8 * * *',
        timeZone: 'UTC',
        target: 'email',
        method: 'digest',
        queue: 'default',
        misfire: { kind: 'skip' },
        paused: false,
        lastFireAt: null,
        version: 1,
      });
      expect(rec.retry).to.deep.equal(DEFAULT_RETRY_POLICY);
      expect(deserializeArgs(rec.args, 'x')).to.deep.equal(['ops', since]);
      expect(rec.nextFireAt!.toISOString()).to.equal('2030-01-02T08:00:00.000Z');
      expect(await store.getSchedule('digest')).to.deep.equal(rec);
    });

    it('plain form, with zone, queue, retry, metadata, misfire and paused', async function () {
      const retry = Retry.exponential(4, 500);
      const rec = await manager.create(
        'mail',
        { target: 'email', method: 'send', args: ['a@b.c', 'hi'] },
        {
          cron: '30 7 * * 1-5',
          timeZone: 'europe/berlin',
          queue: 'mail',
          retry,
          metadata: { tenant: 'acme' },
          misfire: { kind: 'catchUp', maxRuns: 10 },
          paused: true,
        },
      );
      expect(rec).to.deep.include({
        timeZone: 'Europe/Berlin',
        queue: 'mail',
        paused: true,
        misfire: { kind: 'catchUp', maxRuns: 10 },
      });
      expect(rec.retry).to.deep.equal(retry);
      expect(rec.metadata).to.deep.equal({ tenant: 'acme' });
      expect(rec.nextFireAt!.toISOString()).to.equal('2030-01-02T06:30:00.000Z'); // 07:30 CET
    });

    it('defaults to UTC whatever the process time zone is', async function () {
      const before = process.env.TZ;
      try {
        process.env.TZ = 'Pacific/Auckland';
        const rec = await manager.create('utc', EmailJob, (j) => j.send('a', 'b'), { cron: '0 0 * * *' });
        expect(rec.timeZone).to.equal('UTC');
        expect(rec.nextFireAt!.toISOString()).to.equal('2030-01-02T00:00:00.000Z');
      } finally {
        if (before === undefined) delete process.env.TZ;
        else process.env.TZ = before;
      }
    });

    it('refuses a second schedule of the same name', async function () {
      await manager.create('x', EmailJob, (j) => j.send('a', 'b'), { cron: '@daily' });
      const err = await rejects(
        manager.create('x', EmailJob, (j) => j.send('c', 'd'), { cron: '@hourly' }),
        ScheduleExistsError,
      );
      expect(err.message).to.contain('"x"');
      expect((await store.getSchedule('x'))!.cron).to.equal('@daily');
    });

    it('@once needs `at`, and `at` is only for @once', async function () {
      const at = new Date(T0 + 90 * MINUTE);
      const once = await manager.create('once', EmailJob, (j) => j.send('a', 'b'), { cron: '@once', at });
      expect(once.nextFireAt).to.deep.equal(at);
      expect(
        (
          await rejects(
            manager.create('o2', EmailJob, (j) => j.send('a', 'b'), { cron: '@once' }),
            InvalidOptionError,
          )
        ).option,
      ).to.equal('at');
      expect(
        (
          await rejects(
            manager.create('o3', EmailJob, (j) => j.send('a', 'b'), { cron: '@once', at: new Date(NaN) }),
            InvalidOptionError,
          )
        ).option,
      ).to.equal('at');
      expect(
        (
          await rejects(
            manager.create('o4', EmailJob, (j) => j.send('a', 'b'), { cron: '@daily', at }),
            InvalidOptionError,
          )
        ).option,
      ).to.equal('at');
    });
  });

  describe('bad input is refused at creation, naming the field, and nothing is stored', function () {
    const cases: [string, () => Promise<unknown>, new (...a: never[]) => Error, string | undefined][] = [];
    const call = { target: 'email', method: 'send', args: ['a', 'b'] };
    const add = (
      label: string,
      run: (m: ScheduleManager) => Promise<unknown>,
      type: new (...a: never[]) => Error,
      option?: string,
    ) => cases.push([label, () => run(manager), type, option]);
    add('an invalid cron field', (m) => m.create('s', call, { cron: '0 25 * * *' }), InvalidOptionError, 'cron');
    add('a 4-field expression', (m) => m.create('s', call, { cron: '0 8 * *' }), InvalidOptionError, 'cron');
    add('an unknown macro', (m) => m.create('s', call, { cron: '@fortnightly' }), InvalidOptionError, 'cron');
    add('an empty expression', (m) => m.create('s', call, { cron: '' }), InvalidOptionError, 'cron');
    add('a missing expression', (m) => m.create('s', call, {} as never), InvalidOptionError, 'cron');
    add(
      'an unknown time zone',
      (m) => m.create('s', call, { cron: '@daily', timeZone: 'Europe/Atlantis' }),
      InvalidOptionError,
      'timeZone',
    );
    add(
      'an offset instead of a zone',
      (m) => m.create('s', call, { cron: '@daily', timeZone: '+01:00' }),
      InvalidOptionError,
      'timeZone',
    );
    add(
      'an unregistered class',
      (m) => m.create('s', Unregistered, (j) => j.run(), { cron: '@daily' }),
      UnknownJobTargetError,
    );
    add(
      'an unregistered target name',
      (m) => m.create('s', { target: 'sms', method: 'send', args: [] }, { cron: '@daily' }),
      UnknownJobTargetError,
    );
    add(
      'a method the class does not have',
      (m) => m.create('s', { target: 'email', method: 'toString', args: [] }, { cron: '@daily' }),
      UnknownJobMethodError,
    );
    add(
      'an argument that cannot be stored',
      (m) => m.create('s', { target: 'email', method: 'send', args: [() => 1] }, { cron: '@daily' }),
      JobArgumentError,
    );
    add('a bad queue', (m) => m.create('s', call, { cron: '@daily', queue: 'no spaces' }), InvalidOptionError, 'queue');
    add(
      'a bad retry policy',
      (m) => m.create('s', call, { cron: '@daily', retry: { maxAttempts: 0, backoff: { kind: 'fixed', delayMs: 0 } } }),
      InvalidOptionError,
      'retry.maxAttempts',
    );
    add(
      'a bad misfire kind',
      (m) => m.create('s', call, { cron: '@daily', misfire: { kind: 'later' } as never }),
      InvalidOptionError,
      'misfire.kind',
    );
    add(
      'a catchUp without maxRuns',
      (m) => m.create('s', call, { cron: '@daily', misfire: { kind: 'catchUp' } as never }),
      InvalidOptionError,
      'misfire.maxRuns',
    );
    add(
      'a catchUp with too many runs',
      (m) => m.create('s', call, { cron: '@daily', misfire: { kind: 'catchUp', maxRuns: 5000 } }),
      InvalidOptionError,
      'misfire.maxRuns',
    );
    add('a bad name', (m) => m.create('has spaces', call, { cron: '@daily' }), InvalidOptionError, 'name');
    add(
      'an unknown option (a typo)',
      (m) => m.create('s', call, { cron: '@daily', timezone: 'UTC' } as never),
      InvalidOptionError,
      'timezone',
    );
    add(
      'a uniqueKey (schedules make their own)',
      (m) => m.create('s', call, { cron: '@daily', uniqueKey: 'k' } as never),
      InvalidOptionError,
      'uniqueKey',
    );
    add(
      'a non-boolean paused',
      (m) => m.create('s', call, { cron: '@daily', paused: 'yes' } as never),
      InvalidOptionError,
      'paused',
    );

    for (const [label, run, type, option] of cases) {
      it(label, async function () {
        const err = await rejects(run(), type);
        if (option !== undefined) {
          expect((err as InvalidOptionError).option).to.equal(option);
          expect(err.message).to.contain(option);
        }
        expect(await store.listSchedules()).to.deep.equal([]);
      });
    }
  });

  describe('get and list', function () {
    it('answers the next N fire times, starting with nextFireAt', async function () {
      await manager.create('weekday', EmailJob, (j) => j.send('a', 'b'), {
        cron: '0 9 * * 1-5',
        timeZone: 'America/New_York',
      });
      const info = (await manager.get('weekday', { upcoming: 4 }))!;
      expect(iso(info.upcoming)).to.deep.equal([
        '2030-01-01T14:00:00.000Z', // Tue 09:00 EST
        '2030-01-02T14:00:00.000Z',
        '2030-01-03T14:00:00.000Z',
        '2030-01-04T14:00:00.000Z', // Fri; then Monday
      ]);
      expect((await manager.get('weekday'))!.upcoming).to.have.length(5);
      expect(await manager.get('nope')).to.equal(null);
      expect((await rejects(manager.get('weekday', { upcoming: -1 }), InvalidOptionError)).option).to.equal('upcoming');
    });

    it('answers [at] for a pending @once, [] once it fired, [] while paused', async function () {
      const at = new Date(T0 + MINUTE);
      await manager.create('once', EmailJob, (j) => j.send('a', 'b'), { cron: '@once', at });
      expect((await manager.get('once'))!.upcoming).to.deep.equal([at]);
      clock.advance(MINUTE);
      await scheduler.tick();
      expect((await manager.get('once'))!.upcoming).to.deep.equal([]);
      await manager.create('p', EmailJob, (j) => j.send('a', 'b'), { cron: '@daily', paused: true });
      expect((await manager.get('p'))!.upcoming).to.deep.equal([]);
    });

    it('lists every schedule by name', async function () {
      for (const n of ['b', 'c', 'a']) await manager.create(n, EmailJob, (j) => j.send(n, n), { cron: '@daily' });
      expect((await manager.list()).map((s) => s.name)).to.deep.equal(['a', 'b', 'c']);
    });
  });

  describe('update', function () {
    it('a new expression recomputes nextFireAt from now and bumps the version', async function () {
      await manager.create('s', EmailJob, (j) => j.send('a', 'b'), { cron: '@daily' });
      clock.advance(10 * MINUTE);
      const rec = await manager.update('s', { cron: '*/15 * * * *' });
      expect(rec.version).to.equal(2);
      expect(rec.nextFireAt!.toISOString()).to.equal('2030-01-01T12:15:00.000Z');
      expect(rec.updatedAt).to.deep.equal(clock.now());
      expect(await store.getSchedule('s')).to.deep.equal(rec);
    });

    it('a new zone re-reads the same expression in it', async function () {
      await manager.create('s', EmailJob, (j) => j.send('a', 'b'), { cron: '0 18 * * *' });
      expect((await manager.get('s'))!.nextFireAt!.toISOString()).to.equal('2030-01-01T18:00:00.000Z');
      const rec = await manager.update('s', { timeZone: 'Asia/Tokyo' });
      expect(rec).to.deep.include({ timeZone: 'Asia/Tokyo', cron: '0 18 * * *' });
      expect(rec.nextFireAt!.toISOString()).to.equal('2030-01-02T09:00:00.000Z');
    });

    it('a new payload (typed or plain) is what later firings run; the timing is left alone', async function () {
      const created = await manager.create('s', EmailJob, (j) => j.send('a', 'b'), { cron: '*/5 * * * *' });
      const since = new Date(0);
      let rec = await manager.update('s', { job: { target: EmailJob, call: (j: EmailJob) => j.digest('ops', since) } });
      expect(rec).to.deep.include({ method: 'digest', nextFireAt: created.nextFireAt });
      expect(deserializeArgs(rec.args, 'x')).to.deep.equal(['ops', since]);
      rec = await manager.update('s', {
        job: { target: 'email', method: 'send', args: ['z@z.z', 'new'] },
        queue: 'other',
        metadata: { v: 2 },
      });
      expect(rec).to.deep.include({ method: 'send', queue: 'other', metadata: { v: 2 } });
      clock.advance(5 * MINUTE);
      await scheduler.tick();
      const [job] = await store.listJobs();
      expect(job).to.deep.include({ method: 'send', queue: 'other' });
      expect(deserializeArgs(job.args, job.id)).to.deep.equal(['z@z.z', 'new']);
    });

    it('changes queue, retry, metadata or misfire alone, keeping the payload', async function () {
      const created = await manager.create('s', EmailJob, (j) => j.send('a', 'b'), { cron: '@hourly' });
      const rec = await manager.update('s', { retry: Retry.none(), misfire: { kind: 'catchUp', maxRuns: 2 } });
      expect(rec).to.deep.include({
        args: created.args,
        method: 'send',
        queue: 'default',
        misfire: { kind: 'catchUp', maxRuns: 2 },
      });
      expect(rec.retry).to.deep.equal(Retry.none());
    });

    it('moves a one-off, turns a one-off into a recurring schedule and back', async function () {
      await manager.create('s', EmailJob, (j) => j.send('a', 'b'), { cron: '@once', at: new Date(T0 + MINUTE) });
      let rec = await manager.update('s', { at: new Date(T0 + 2 * MINUTE) });
      expect(rec.nextFireAt!.getTime()).to.equal(T0 + 2 * MINUTE);
      rec = await manager.update('s', { timeZone: 'Asia/Tokyo' }); // an instant: unchanged
      expect(rec.nextFireAt!.getTime()).to.equal(T0 + 2 * MINUTE);
      rec = await manager.update('s', { cron: '@hourly' });
      expect(rec.nextFireAt!.toISOString()).to.equal('2030-01-01T13:00:00.000Z');
      await rejects(manager.update('s', { cron: '@once' }), InvalidOptionError);
      rec = await manager.update('s', { cron: '@once', at: new Date(T0 + 5 * MINUTE) });
      expect(rec).to.deep.include({ cron: '@once', nextFireAt: new Date(T0 + 5 * MINUTE) });
    });

    it('refuses bad changes, naming the field, and leaves the schedule as it was', async function () {
      const created = await manager.create('s', EmailJob, (j) => j.send('a', 'b'), { cron: '@daily' });
      expect((await rejects(manager.update('s', { cron: '* * *' }), InvalidOptionError)).option).to.equal('cron');
      expect((await rejects(manager.update('s', { timeZone: 'Moon/Base' }), InvalidOptionError)).option).to.equal(
        'timeZone',
      );
      expect((await rejects(manager.update('s', { paused: true } as never), InvalidOptionError)).option).to.equal(
        'paused',
      );
      await rejects(manager.update('s', { job: { target: 'nope', method: 'x', args: [] } }), UnknownJobTargetError);
      expect(await store.getSchedule('s')).to.deep.equal(created);
      await rejects(manager.update('missing', { cron: '@daily' }), ScheduleNotFoundError);
    });

    it('wins against schedulers advancing the same schedule at the same time (compare-and-set retries)', async function () {
      await manager.create('busy', EmailJob, (j) => j.send('a', 'b'), { cron: '* * * * * *' });
      const schedulers = Array.from({ length: 4 }, () => new Scheduler({ store, writer: store, registry, clock }));
      for (let i = 0; i < 20; i++) {
        clock.advance(1000);
        const [rec] = await Promise.all([
          manager.update('busy', { metadata: { round: i } }),
          ...schedulers.map((s) => s.tick()),
        ]);
        expect((rec as { metadata: unknown }).metadata).to.deep.equal({ round: i });
      }
      expect((await store.getSchedule('busy'))!.metadata).to.deep.equal({ round: 19 });
    });

    it('gives up with ScheduleConflictError, writing nothing, when every compare-and-set loses', async function () {
      await manager.create('s', EmailJob, (j) => j.send('a', 'b'), { cron: '@daily' });
      const losing = new ScheduleManager({
        store: {
          insertSchedule: (s) => store.insertSchedule(s),
          getSchedule: (n) => store.getSchedule(n),
          listSchedules: () => store.listSchedules(),
          updateSchedule: async () => false,
          deleteSchedule: (n) => store.deleteSchedule(n),
          listDueSchedules: (n, l) => store.listDueSchedules(n, l),
        },
        writer: store,
        registry,
        clock,
      });
      await rejects(losing.update('s', { queue: 'x' }), ScheduleConflictError);
      expect((await store.getSchedule('s'))!.queue).to.equal('default');
    });
  });

  describe('pause, resume, delete', function () {
    it('a paused schedule does not fire; resumed, it fires from now on without catching up', async function () {
      await manager.create('s', EmailJob, (j) => j.send('a', 'b'), {
        cron: '*/5 * * * *',
        misfire: { kind: 'catchUp', maxRuns: 100 },
      });
      const paused = await manager.pause('s');
      expect(paused.paused).to.equal(true);
      expect((await manager.pause('s')).version).to.equal(paused.version); // idempotent
      clock.advance(60 * MINUTE);
      expect(await scheduler.tick()).to.equal(0);
      clock.advance(2 * MINUTE); // 13:02
      const resumed = await manager.resume('s');
      expect(resumed.paused).to.equal(false);
      expect(resumed.nextFireAt!.toISOString()).to.equal('2030-01-01T13:05:00.000Z');
      expect((await manager.resume('s')).version).to.equal(resumed.version);
      expect(await scheduler.tick()).to.equal(0);
      clock.advance(3 * MINUTE);
      expect(await scheduler.tick()).to.equal(1);
      expect((await store.listJobs()).map((j) => j.uniqueKey)).to.deep.equal([
        scheduleJobKey('s', new Date(T0 + 65 * MINUTE)),
      ]);
    });

    it('a paused one-off keeps its time and fires on resume if that passed', async function () {
      await manager.create('o', EmailJob, (j) => j.send('a', 'b'), { cron: '@once', at: new Date(T0 + MINUTE) });
      await manager.pause('o');
      clock.advance(10 * MINUTE);
      expect(await scheduler.tick()).to.equal(0);
      await manager.resume('o');
      expect(await scheduler.tick()).to.equal(1);
    });

    it('delete removes it (no more firings) and keeps the jobs it made', async function () {
      await manager.create('s', EmailJob, (j) => j.send('a', 'b'), { cron: '* * * * *' });
      clock.advance(MINUTE);
      expect(await scheduler.tick()).to.equal(1);
      expect(await manager.delete('s')).to.equal(true);
      expect(await manager.delete('s')).to.equal(false);
      clock.advance(10 * MINUTE);
      expect(await scheduler.tick()).to.equal(0);
      expect(await store.listJobs()).to.have.length(1);
      await rejects(manager.pause('s'), ScheduleNotFoundError);
      await rejects(manager.resume('s'), ScheduleNotFoundError);
    });
  });

  describe('triggerNow', function () {
    it('makes one job at once, with a key no firing or other trigger shares, and leaves the timing alone', async function () {
      const created = await manager.create('s', EmailJob, (j) => j.send('a', 'b'), {
        cron: '@daily',
        queue: 'mail',
        metadata: { t: 1 },
      });
      const a = await manager.triggerNow('s');
      const b = await manager.triggerNow('s');
      expect(a).to.not.equal(b);
      const jobs = await store.listJobs();
      expect(jobs.map((j) => j.id)).to.deep.equal([a, b]);
      expect(jobs.map((j) => j.uniqueKey)).to.deep.equal([`schedule:s:manual:${a}`, `schedule:s:manual:${b}`]);
      expect(jobs[0]).to.deep.include({ queue: 'mail', method: 'send', runAt: clock.now() });
      expect(jobs[0].metadata).to.deep.equal({ t: 1, 'oddjob.schedule': { name: 's', fireAt: null, manual: true } });
      const claimed = await store.claimJobs({ queues: ['mail'], limit: 10, owner: 't', leaseMs: MINUTE });
      expect(claimed).to.have.length(2);
      expect(await store.getSchedule('s')).to.deep.equal(created);
      await rejects(manager.triggerNow('missing'), ScheduleNotFoundError);
    });
  });
});
