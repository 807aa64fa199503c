import { expect } from 'chai';
import type { IJobWriter } from '../src/adder.js';
import type { JobLogger } from '../src/context.js';
import { InvalidOptionError, UnknownJobTargetError } from '../src/errors.js';
import type { NewJob } from '../src/job.js';
import { MemoryJobStore } from '../src/memory/memory-store.js';
import { JobRegistry } from '../src/registry.js';
import { DEFAULT_RETRY_POLICY, Retry } from '../src/retry.js';
import type { IScheduleStore, ScheduleRecord } from '../src/schedule-store.js';
import { serializeArgs } from '../src/serializer.js';
import { CronSchedule } from '../src/schedule/cron.js';
import { scheduleJobKey } from '../src/schedule/firing.js';
import { ScheduleManager } from '../src/schedule/schedule-manager.js';
import { Scheduler } from '../src/schedule/scheduler.js';
import { TestClock } from '../src/testing/test-clock.js';
import { scheduleFixture } from './schedule-fixture.js';

class Work {
  async run(_n: number): Promise<void> {}
}
const registry = new JobRegistry().register('work', Work);
const SECOND = 1000;
const MINUTE = 60_000;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

/** A small seeded PRNG (mulberry32), so that an interleaving that fails can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The store as a slow, remote database looks to concurrent schedulers: every call waits 0-3
 * macrotask turns before and after it runs, so reads, inserts and compare-and-sets of different
 * schedulers interleave in varied orders.
 */
function jittery(store: MemoryJobStore, random: () => number): IScheduleStore & IJobWriter & { lostRaces(): number } {
  let lost = 0;
  const pause = async () => {
    for (let i = Math.floor(random() * 4); i > 0; i--) await new Promise<void>((r) => setImmediate(r));
  };
  const via =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      await pause();
      const r = await f(...a);
      await pause();
      return r;
    };
  return {
    insertSchedule: via((s: ScheduleRecord) => store.insertSchedule(s)),
    getSchedule: via((n: string) => store.getSchedule(n)),
    listSchedules: via(() => store.listSchedules()),
    updateSchedule: via(async (s: ScheduleRecord, v: number) => {
      const ok = await store.updateSchedule(s, v);
      if (!ok) lost++;
      return ok;
    }),
    deleteSchedule: via((n: string) => store.deleteSchedule(n)),
    listDueSchedules: via((now: Date, limit: number) => store.listDueSchedules(now, limit)),
    insertJobs: via((jobs: readonly NewJob[]) => store.insertJobs(jobs)),
    lostRaces: () => lost,
  };
}

function recordingLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const log = (level: string) => (obj: object, msg?: string) =>
    void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const logger: JobLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return { logger, lines };
}

const SCHEDULES: { name: string; cron: string; timeZone: string }[] = [
  { name: 'every-10s', cron: '*/10 * * * * *', timeZone: 'UTC' },
  { name: 'every-7s', cron: '*/7 * * * * *', timeZone: 'Asia/Kolkata' },
  { name: 'minutely', cron: '* * * * *', timeZone: 'Europe/Berlin' },
  { name: 'every-3m', cron: '*/3 * * * *', timeZone: 'America/New_York' },
  { name: 'hourly', cron: '@hourly', timeZone: 'Australia/Adelaide' },
  { name: 'odd-minutes', cron: '1-59/2 12,13 * * *', timeZone: 'UTC' },
];

/** Every fire time of each schedule in (created, until], computed independently of the scheduler. */
function expectedKeys(created: Date, until: Date): string[] {
  const keys: string[] = [];
  for (const s of SCHEDULES) {
    const cron = CronSchedule.of(s.cron, s.timeZone, s.name);
    for (let t = cron.nextAfter(created); t <= until; t = cron.nextAfter(t)) keys.push(scheduleJobKey(s.name, t));
  }
  return keys.sort();
}

describe('schedule: Scheduler', function () {
  let clock: TestClock;
  let store: MemoryJobStore;
  let manager: ScheduleManager;

  beforeEach(function () {
    ({ clock, store, manager } = scheduleFixture(registry, T0));
  });
  afterEach(() => store.close());

  const createAll = async () => {
    for (const [i, s] of SCHEDULES.entries()) {
      await manager.create(s.name, Work, (j) => j.run(i), {
        cron: s.cron,
        timeZone: s.timeZone,
        misfire: { kind: 'catchUp', maxRuns: 1000 },
      });
    }
  };
  const storedKeys = async () => (await store.listJobs({ limit: 100_000 })).map((j) => j.uniqueKey!).sort();

  describe('no double firing', function () {
    it('several schedulers, many simultaneous ticks each step: every fire time exactly once', async function () {
      await createAll();
      const schedulers = Array.from({ length: 6 }, () => new Scheduler({ store, writer: store, registry, clock }));
      let created = 0;
      for (let step = 0; step < 300; step++) {
        clock.advance(3 * SECOND + 100);
        const counts = await Promise.all(schedulers.flatMap((s) => [s.tick(), s.tick(), s.tick()]));
        created += counts.reduce((a, b) => a + b, 0);
      }
      const keys = await storedKeys();
      expect(new Set(keys).size).to.equal(keys.length);
      expect(keys).to.deep.equal(expectedKeys(new Date(T0), clock.now()));
      expect(created).to.equal(keys.length);
    });

    it('interleaved: schedulers on a jittery store, with time moving while their ticks are in flight', async function () {
      await createAll();
      let lostRaces = 0;
      for (const seed of [1, 2, 3]) {
        const before = (await storedKeys()).length;
        const random = prng(seed);
        const slow = jittery(store, random);
        const schedulers = Array.from(
          { length: 5 },
          () => new Scheduler({ store: slow, writer: slow, registry, clock }),
        );
        const inFlight: Promise<number>[] = [];
        for (let step = 0; step < 120; step++) {
          // Each tick reads "now" when it starts; others are still at an older now, with older reads.
          inFlight.push(schedulers[Math.floor(random() * schedulers.length)].tick());
          if (random() < 0.5) inFlight.push(schedulers[Math.floor(random() * schedulers.length)].tick());
          clock.advance(Math.floor(random() * 4 * SECOND));
          for (let i = Math.floor(random() * 3); i > 0; i--) await new Promise<void>((r) => setImmediate(r));
        }
        const counts = await Promise.all(inFlight);
        // A final quiet tick brings every schedule up to now.
        counts.push(await schedulers[0].tick());
        const keys = await storedKeys();
        expect(new Set(keys).size, `seed ${seed}: duplicates`).to.equal(keys.length);
        expect(keys, `seed ${seed}`).to.deep.equal(expectedKeys(new Date(T0), clock.now()));
        expect(
          counts.reduce((a, b) => a + b, 0),
          `seed ${seed}`,
        ).to.equal(keys.length - before);
        lostRaces += slow.lostRaces();
      }
      // The interleaving really raced: schedulers lost compare-and-sets to each other.
      expect(lostRaces).to.be.greaterThan(0);
    });
  });

  it('a restarted scheduler fires nothing already fired', async function () {
    await createAll();
    const first = new Scheduler({ store, writer: store, registry, clock });
    for (let i = 0; i < 40; i++) {
      clock.advance(5 * SECOND);
      await first.tick();
    }
    const before = await storedKeys();
    const restarted = new Scheduler({ store, writer: store, registry, clock });
    expect(await restarted.tick()).to.equal(0);
    expect(await storedKeys()).to.deep.equal(before);
  });

  it('a tick called while the same instance is still ticking does nothing and answers 0', async function () {
    await createAll();
    clock.advance(10 * SECOND);
    const s = new Scheduler({ store, writer: store, registry, clock });
    const [a, b] = await Promise.all([s.tick(), s.tick()]);
    expect(b).to.equal(0);
    expect(a).to.be.greaterThan(0);
  });

  it('makes jobs carrying the schedule queue, retry, arguments, metadata and origin, with runAt = fire time', async function () {
    const retry = Retry.fixed(5, 2000);
    await manager.create('nightly', Work, (j) => j.run(42), {
      cron: '0 3 * * *',
      timeZone: 'Europe/Berlin',
      queue: 'batch',
      retry,
      metadata: { tenant: 'acme' },
    });
    clock.set(new Date('2030-01-02T02:00:30Z'));
    expect(await new Scheduler({ store, writer: store, registry, clock }).tick()).to.equal(1);
    const [job] = await store.listJobs();
    expect(job).to.include({ queue: 'batch', target: 'work', method: 'run', status: 'new' });
    expect(job.args).to.equal(serializeArgs([42]));
    expect(job.retry).to.deep.equal(retry);
    expect(job.runAt.toISOString()).to.equal('2030-01-02T02:00:00.000Z');
    expect(job.uniqueKey).to.equal('schedule:nightly:2030-01-02T02:00:00.000Z');
    expect(job.metadata).to.deep.equal({
      tenant: 'acme',
      'oddjob.schedule': { name: 'nightly', fireAt: '2030-01-02T02:00:00.000Z', manual: false },
    });
  });

  describe('one bad schedule never stops the others', function () {
    const bad = (name: string, cron: string, overrides: Partial<ScheduleRecord> = {}): ScheduleRecord => ({
      name,
      cron,
      timeZone: 'UTC',
      target: 'work',
      method: 'run',
      args: serializeArgs([0]),
      queue: 'default',
      retry: DEFAULT_RETRY_POLICY,
      metadata: {},
      misfire: { kind: 'skip' },
      priority: 0,
      concurrency: null,
      paused: false,
      nextFireAt: new Date(T0 - 60 * MINUTE),
      lastFireAt: null,
      version: 1,
      createdAt: new Date(T0),
      updatedAt: new Date(T0),
      ...overrides,
    });

    it('skips a stored schedule it cannot read, logs it once per version, and fires the rest', async function () {
      // Written behind the manager's back (by hand, or by a newer version of the library).
      await store.insertSchedule(bad('broken-cron', 'every 5 minutes please'));
      await store.insertSchedule(bad('broken-zone', '* * * * *', { timeZone: 'Mars/Olympus' }));
      await store.insertSchedule(bad('broken-misfire', '* * * * *', { misfire: { kind: 'sometimes' } as never }));
      await manager.create('good', Work, (j) => j.run(1), { cron: '* * * * *' });
      const { logger, lines } = recordingLogger();
      const scheduler = new Scheduler({ store, writer: store, registry, clock, logger });
      for (let i = 0; i < 5; i++) {
        clock.advance(MINUTE);
        expect(await scheduler.tick()).to.equal(1);
      }
      const errors = lines.filter((l) => l.level === 'error');
      expect(errors.map((l) => l.obj.schedule).sort()).to.deep.equal(['broken-cron', 'broken-misfire', 'broken-zone']);
      expect(errors.find((l) => l.obj.schedule === 'broken-zone')!.msg).to.contain('timeZone');
      // Repaired (a compare-and-set on its version), it fires again at the next tick.
      const broken = (await store.getSchedule('broken-cron'))!;
      await store.updateSchedule({ ...broken, cron: '*/5 * * * *' }, broken.version);
      clock.advance(MINUTE);
      expect(await scheduler.tick()).to.equal(2); // "good" at 12:06, and the repaired one for 12:05 (skip)
      expect(lines.filter((l) => l.level === 'error')).to.have.length(3);
    });

    it('unreadable schedules cannot crowd readable ones out of a small batch', async function () {
      for (let i = 0; i < 7; i++)
        await store.insertSchedule(bad(`broken-${i}`, 'nonsense', { nextFireAt: new Date(T0 - (100 + i) * MINUTE) }));
      for (let i = 0; i < 3; i++) await manager.create(`good-${i}`, Work, (j) => j.run(i), { cron: '* * * * *' });
      clock.advance(MINUTE);
      expect(await new Scheduler({ store, writer: store, registry, clock, batchSize: 2 }).tick()).to.equal(3);
    });

    it('still fires a schedule whose target is not registered here, and logs it: the job records the failure', async function () {
      await manager.create('orphan', Work, (j) => j.run(7), { cron: '* * * * *' });
      const { logger, lines } = recordingLogger();
      const elsewhere = new JobRegistry(); // this process no longer knows "work"
      clock.advance(MINUTE);
      expect(await new Scheduler({ store, writer: store, registry: elsewhere, clock, logger }).tick()).to.equal(1);
      const warn = lines.find((l) => l.level === 'warn');
      expect(warn?.obj).to.deep.include({ schedule: 'orphan', target: 'work' });
      const [job] = await store.listJobs();
      // What an executor with that registry does with it: an unknown target, which it fails unretried.
      expect(() => elsewhere.resolveMethod(job.target, job.method)).to.throw(UnknownJobTargetError);
      expect((await store.getSchedule('orphan'))!.nextFireAt!.getTime()).to.equal(T0 + 2 * MINUTE);
    });

    it('logs a failed job write and fires that time at a later tick', async function () {
      await manager.create('flaky', Work, (j) => j.run(1), { cron: '* * * * *' });
      let failures = 1;
      const writer: IJobWriter = {
        insertJobs: async (jobs) => {
          if (failures-- > 0) throw new Error('connection reset');
          return store.insertJobs(jobs);
        },
      };
      const { logger, lines } = recordingLogger();
      const scheduler = new Scheduler({ store, writer, registry, clock, logger });
      clock.advance(MINUTE);
      expect(await scheduler.tick()).to.equal(0);
      const error = lines.find((l) => l.level === 'error');
      expect(error?.obj.schedule).to.equal('flaky');
      expect((error?.obj.err as Error).message).to.equal('connection reset');
      clock.advance(SECOND);
      expect(await scheduler.tick()).to.equal(1);
      expect(await storedKeys()).to.deep.equal([scheduleJobKey('flaky', new Date(T0 + MINUTE))]);
    });
  });

  it('refuses bad options, naming them', function () {
    for (const [option, value] of [
      ['batchSize', 0],
      ['maxPerTick', 1.5],
    ] as const) {
      expect(() => new Scheduler({ store, writer: store, [option]: value }))
        .to.throw(InvalidOptionError)
        .with.property('option', option);
    }
  });
});
