import { expect } from 'chai';
import { InvalidOptionError } from '../src/errors.js';
import { CronSchedule, checkExpressionShape, normalizeTimeZone } from '../src/schedule/cron.js';

const utc = (s: string) => new Date(`${s}Z`);
const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

function optionError(fn: () => unknown, option: string): InvalidOptionError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).to.equal(option);
    expect((err as Error).message).to.contain(option);
    return err as InvalidOptionError;
  }
  throw new Error('expected an InvalidOptionError');
}

describe('schedule: cron arithmetic', function () {
  it('reads a 5-field expression in the given zone', function () {
    // Friday 2030-01-04 18:00 UTC: weekdays at 08:00 Berlin (UTC+1 in winter) → Monday 07:00 UTC.
    const s = CronSchedule.of('0 8 * * 1-5', 'Europe/Berlin', 'n');
    expect(iso(s.after(utc('2030-01-04T18:00:00'), 3))).to.deep.equal([
      '2030-01-07T07:00:00.000Z',
      '2030-01-08T07:00:00.000Z',
      '2030-01-09T07:00:00.000Z',
    ]);
    // Summer: UTC+2.
    expect(s.nextAfter(utc('2030-07-01T00:00:00')).toISOString()).to.equal('2030-07-01T06:00:00.000Z');
  });

  it('reads a 6-field expression with seconds first', function () {
    const s = CronSchedule.of('*/20 * * * * *', 'UTC', 'n');
    expect(iso(s.after(utc('2030-01-01T12:00:00.500'), 4))).to.deep.equal([
      '2030-01-01T12:00:20.000Z',
      '2030-01-01T12:00:40.000Z',
      '2030-01-01T12:01:00.000Z',
      '2030-01-01T12:01:20.000Z',
    ]);
  });

  it('answers times strictly after the given one (a fire time is not repeated)', function () {
    const s = CronSchedule.of('0 * * * *', 'UTC', 'n');
    expect(s.nextAfter(utc('2030-01-01T12:00:00')).toISOString()).to.equal('2030-01-01T13:00:00.000Z');
    expect(s.nextAfter(utc('2030-01-01T11:59:59.999')).toISOString()).to.equal('2030-01-01T12:00:00.000Z');
  });

  it('knows the macros, read in the zone', function () {
    const from = utc('2030-01-15T12:34:00'); // a Tuesday
    const ny = (m: string) => CronSchedule.of(m, 'America/New_York', 'n').nextAfter(from).toISOString();
    expect(ny('@hourly')).to.equal('2030-01-15T13:00:00.000Z');
    expect(ny('@daily')).to.equal('2030-01-16T05:00:00.000Z'); // midnight EST
    expect(ny('@weekly')).to.equal('2030-01-20T05:00:00.000Z'); // Sunday
    expect(ny('@monthly')).to.equal('2030-02-01T05:00:00.000Z');
    expect(ny('@yearly')).to.equal('2031-01-01T05:00:00.000Z');
    expect(ny('@annually')).to.equal('2031-01-01T05:00:00.000Z');
  });

  it('does not depend on the process time zone', function () {
    const before = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Tokyo';
      const tokyo = CronSchedule.of('0 9 * * *', 'UTC', 'n').nextAfter(utc('2030-01-01T00:00:00'));
      process.env.TZ = 'America/Los_Angeles';
      const la = CronSchedule.of('0 9 * * *', 'UTC', 'n').nextAfter(utc('2030-01-01T00:00:00'));
      expect(tokyo.toISOString()).to.equal('2030-01-01T09:00:00.000Z');
      expect(la.toISOString()).to.equal('2030-01-01T09:00:00.000Z');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it('gives hashed (H) fields the same value on every executor for one schedule name', function () {
    const a = CronSchedule.of('H * * * *', 'UTC', 'nightly-report').after(utc('2030-01-01T00:00:00'), 3);
    const b = CronSchedule.of('H * * * *', 'UTC', 'nightly-report').after(utc('2030-01-01T00:00:00'), 3);
    expect(iso(a)).to.deep.equal(iso(b));
    expect(a[1].getTime() - a[0].getTime()).to.equal(3_600_000);
  });

  describe('window (due times for the misfire policies)', function () {
    const s = CronSchedule.of('*/5 * * * *', 'UTC', 'n');

    it('answers nothing and keeps nextFireAt when it is not due', function () {
      const w = s.window(utc('2030-01-01T12:05:00'), utc('2030-01-01T12:04:59'), 10);
      expect(w).to.deep.equal({ times: [], next: utc('2030-01-01T12:05:00'), dropped: 0 });
    });

    it('includes the stored time and every later one up to now inclusive, then the first after', function () {
      const w = s.window(utc('2030-01-01T12:05:00'), utc('2030-01-01T12:20:00'), 10);
      expect(iso(w.times)).to.deep.equal([
        '2030-01-01T12:05:00.000Z',
        '2030-01-01T12:10:00.000Z',
        '2030-01-01T12:15:00.000Z',
        '2030-01-01T12:20:00.000Z',
      ]);
      expect(w.next.toISOString()).to.equal('2030-01-01T12:25:00.000Z');
      expect(w.dropped).to.equal(0);
    });

    it('keeps the newest and counts the rest as dropped', function () {
      const w = s.window(utc('2030-01-01T12:05:00'), utc('2030-01-01T13:02:00'), 2);
      expect(iso(w.times)).to.deep.equal(['2030-01-01T12:55:00.000Z', '2030-01-01T13:00:00.000Z']);
      expect(w.next.toISOString()).to.equal('2030-01-01T13:05:00.000Z');
      expect(w.dropped).to.equal(10);
    });

    it('copes with a backlog far beyond its forward scan (a per-second schedule missed for a day)', function () {
      const every = CronSchedule.of('* * * * * *', 'Europe/Berlin', 'n');
      const w = every.window(utc('2030-01-01T00:00:00'), utc('2030-01-02T00:00:00.250'), 3);
      expect(iso(w.times)).to.deep.equal([
        '2030-01-01T23:59:58.000Z',
        '2030-01-01T23:59:59.000Z',
        '2030-01-02T00:00:00.000Z',
      ]);
      expect(w.next.toISOString()).to.equal('2030-01-02T00:00:01.000Z');
      expect(w.dropped).to.be.greaterThan(9_000); // a lower bound once the walk jumps
    });
  });

  describe('bad input', function () {
    it('refuses expressions by shape, naming the cron field', function () {
      for (const bad of ['', '   ', '* * * *', '0 0 0 * * * 2030', '@every 5m', '@ONCE', '@Hourly', 42, null]) {
        optionError(() => checkExpressionShape(bad), 'cron');
      }
      expect(checkExpressionShape('  0 8 * * 1-5 ')).to.equal('0 8 * * 1-5');
      expect(checkExpressionShape('@once')).to.equal('@once');
    });

    it('refuses fields cron-parser cannot read or that never fire', function () {
      for (const bad of [
        '61 * * * *',
        '0 25 * * *',
        'hello world foo bar baz',
        '0 0 30 2 *',
        '0 0 1W * *',
        '*/0 * * * *',
      ]) {
        const err = optionError(() => CronSchedule.of(bad, 'UTC', 'n'), 'cron');
        expect(err.message).to.contain(bad);
      }
      optionError(() => CronSchedule.of('@once', 'UTC', 'n'), 'cron');
    });

    it('refuses unknown zones and offsets, naming the timeZone field; canonicalises known ones', function () {
      for (const bad of ['Mars/Olympus', 'UTC+2', '+02:00', '', 'Europe/Berlinn', 7]) {
        optionError(() => normalizeTimeZone(bad), 'timeZone');
      }
      optionError(() => CronSchedule.of('0 * * * *', 'Nowhere/City', 'n'), 'timeZone');
      expect(normalizeTimeZone(undefined)).to.equal('UTC');
      expect(normalizeTimeZone('utc')).to.equal('UTC');
      expect(normalizeTimeZone('europe/berlin')).to.equal('Europe/Berlin');
      expect(normalizeTimeZone('America/New_York')).to.equal('America/New_York');
    });
  });
});
