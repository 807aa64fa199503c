import { expect } from 'chai';
import { JobRegistry } from '../src/registry.js';
import { CronSchedule } from '../src/schedule/cron.js';
import { scheduleFixture } from './schedule-fixture.js';

class Tick {
  async run(): Promise<void> {}
}
const registry = new JobRegistry().register('tick', Tick);
const utc = (s: string) => new Date(`${s}Z`);
const MINUTE = 60_000;

/**
 * Creates the schedule at `from`, ticks a scheduler once a minute until `until`, and answers the
 * fire times of the jobs made (from their runAt, which is the fire time), in UTC ISO.
 */
async function fireTimes(
  cron: string,
  timeZone: string,
  from: string,
  until: string,
  misfire?: { kind: 'catchUp'; maxRuns: number },
) {
  const { clock, store, manager, scheduler } = scheduleFixture(registry, utc(from));
  await manager.create(
    'dst',
    { target: 'tick', method: 'run', args: [] },
    { cron, timeZone, ...(misfire ? { misfire } : {}) },
  );
  while (clock.now() < utc(until)) {
    clock.advance(MINUTE);
    await scheduler.tick();
  }
  const jobs = await store.listJobs({ limit: 10_000 });
  await store.close();
  return jobs.map((j) => j.runAt.toISOString()).sort();
}

describe('schedule: daylight-saving transitions (cron-parser behaviour, as fired by the Scheduler)', function () {
  describe('Europe/Berlin spring forward (2030-03-31, 02:00 CET → 03:00 CEST at 01:00 UTC)', function () {
    it('moves a daily time inside the missing hour forward by an hour: 02:30 fires once, at 03:30 CEST', async function () {
      expect(
        await fireTimes('30 2 * * *', 'Europe/Berlin', '2030-03-30T00:00:00', '2030-04-01T12:00:00'),
      ).to.deep.equal([
        '2030-03-30T01:30:00.000Z', // 02:30 CET
        '2030-03-31T01:30:00.000Z', // 03:30 CEST (02:30 does not exist)
        '2030-04-01T00:30:00.000Z', // 02:30 CEST
      ]);
    });

    it('fires once when the moved time meets a real one (02:30 and 03:30 → one firing at 03:30)', async function () {
      expect(
        await fireTimes('30 2,3 * * *', 'Europe/Berlin', '2030-03-31T00:00:00', '2030-03-31T12:00:00'),
      ).to.deep.equal(['2030-03-31T01:30:00.000Z']);
    });

    it('skips the missing hour for a wildcard hour: hourly fires at 01:00 CET then 03:00 CEST', async function () {
      expect(await fireTimes('0 * * * *', 'Europe/Berlin', '2030-03-30T23:30:00', '2030-03-31T02:30:00')).to.deep.equal(
        [
          '2030-03-31T00:00:00.000Z', // 01:00 CET
          '2030-03-31T01:00:00.000Z', // 03:00 CEST
          '2030-03-31T02:00:00.000Z', // 04:00 CEST
        ],
      );
    });
  });

  describe('Europe/Berlin fall back (2030-10-27, 03:00 CEST → 02:00 CET at 01:00 UTC)', function () {
    it('fires a daily time inside the repeated hour once, at its first (summer-time) occurrence', async function () {
      expect(
        await fireTimes('30 2 * * *', 'Europe/Berlin', '2030-10-26T00:00:00', '2030-10-28T12:00:00'),
      ).to.deep.equal([
        '2030-10-26T00:30:00.000Z', // 02:30 CEST
        '2030-10-27T00:30:00.000Z', // 02:30 CEST, first pass; the 02:30 CET pass (01:30Z) does not fire
        '2030-10-28T01:30:00.000Z', // 02:30 CET
      ]);
    });

    it('fires a wildcard-hour expression at every real instant: both 02:00s, an hour apart', async function () {
      expect(await fireTimes('0 * * * *', 'Europe/Berlin', '2030-10-26T23:30:00', '2030-10-27T02:30:00')).to.deep.equal(
        [
          '2030-10-27T00:00:00.000Z', // 02:00 CEST
          '2030-10-27T01:00:00.000Z', // 02:00 CET
          '2030-10-27T02:00:00.000Z', // 03:00 CET
        ],
      );
    });

    it('still fires the daily time once when the scheduler was down across the whole repeated hour', async function () {
      // Created before; the scheduler's first tick is long after both 02:30s. catchUp keeps every
      // missed time, and there is exactly one: the chain runs forward from the stored time.
      const { clock, store, manager, scheduler } = scheduleFixture(registry, utc('2030-10-26T12:00:00'));
      await manager.create(
        'dst',
        { target: 'tick', method: 'run', args: [] },
        {
          cron: '30 2 * * *',
          timeZone: 'Europe/Berlin',
          misfire: { kind: 'catchUp', maxRuns: 10 },
        },
      );
      clock.set(utc('2030-10-27T01:45:00')); // 02:45 CET, after the second 02:30
      expect(await scheduler.tick()).to.equal(1);
      const jobs = await store.listJobs();
      expect(jobs.map((j) => j.runAt.toISOString())).to.deep.equal(['2030-10-27T00:30:00.000Z']);
      expect((await store.getSchedule('dst'))!.nextFireAt!.toISOString()).to.equal('2030-10-28T01:30:00.000Z');
      await store.close();
    });
  });

  describe('America/New_York', function () {
    it('spring forward (2030-03-10, 02:00 EST → 03:00 EDT): 02:30 fires once, at 03:30 EDT', async function () {
      expect(
        await fireTimes('30 2 * * *', 'America/New_York', '2030-03-09T00:00:00', '2030-03-11T12:00:00'),
      ).to.deep.equal([
        '2030-03-09T07:30:00.000Z', // 02:30 EST
        '2030-03-10T07:30:00.000Z', // 03:30 EDT
        '2030-03-11T06:30:00.000Z', // 02:30 EDT
      ]);
    });

    it('fall back (2030-11-03, 02:00 EDT → 01:00 EST): 01:30 fires once, at its EDT occurrence', async function () {
      expect(
        await fireTimes('30 1 * * *', 'America/New_York', '2030-11-02T00:00:00', '2030-11-04T12:00:00'),
      ).to.deep.equal([
        '2030-11-02T05:30:00.000Z', // 01:30 EDT
        '2030-11-03T05:30:00.000Z', // 01:30 EDT; the 01:30 EST pass (06:30Z) does not fire
        '2030-11-04T06:30:00.000Z', // 01:30 EST
      ]);
    });

    it('fall back: every-30-minutes keeps a 30-minute rhythm in real time through the repeated hour', async function () {
      expect(
        await fireTimes('*/30 * * * *', 'America/New_York', '2030-11-03T04:50:00', '2030-11-03T07:10:00'),
      ).to.deep.equal([
        '2030-11-03T05:00:00.000Z', // 01:00 EDT
        '2030-11-03T05:30:00.000Z', // 01:30 EDT
        '2030-11-03T06:00:00.000Z', // 01:00 EST
        '2030-11-03T06:30:00.000Z', // 01:30 EST
        '2030-11-03T07:00:00.000Z', // 02:00 EST
      ]);
    });
  });

  it('documents the trap the forward chain avoids: cron-parser started inside the repeated hour answers its second pass', function () {
    const s = CronSchedule.of('30 2 * * *', 'Europe/Berlin', 'dst');
    expect(s.nextAfter(utc('2030-10-27T00:30:00')).toISOString()).to.equal('2030-10-28T01:30:00.000Z');
    expect(s.nextAfter(utc('2030-10-27T01:00:00')).toISOString()).to.equal('2030-10-27T01:30:00.000Z');
  });
});
