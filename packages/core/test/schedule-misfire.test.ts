import { expect } from 'chai';
import type { JobLogger } from '../src/context.js';
import { MemoryJobStore } from '../src/memory/memory-store.js';
import { JobRegistry } from '../src/registry.js';
import type { MisfirePolicy } from '../src/schedule-store.js';
import { ScheduleManager } from '../src/schedule/schedule-manager.js';
import { Scheduler } from '../src/schedule/scheduler.js';
import { TestClock } from '../src/testing/test-clock.js';
import { scheduleFixture } from './schedule-fixture.js';

class Sweep {
  async run(_area: string): Promise<void> {}
}
const registry = new JobRegistry().register('sweep', Sweep);
const MINUTE = 60_000;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const at = (min: number) => new Date(T0 + min * MINUTE).toISOString();

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const log = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  const logger: JobLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return { logger, lines };
}

describe('schedule: misfire policies', function () {
  let clock: TestClock;
  let store: MemoryJobStore;
  let manager: ScheduleManager;

  beforeEach(function () {
    ({ clock, store, manager } = scheduleFixture(registry, T0));
  });
  afterEach(() => store.close());

  const every5 = (misfire?: MisfirePolicy) =>
    manager.create('every5', Sweep, (j) => j.run('north'), { cron: '*/5 * * * *', ...(misfire ? { misfire } : {}) });
  const fired = async () => (await store.listJobs({ limit: 1000 })).map((j) => j.runAt.toISOString()).sort();

  it('fires each time once in normal running, whatever the policy', async function () {
    for (const misfire of [{ kind: 'skip' }, { kind: 'catchUp', maxRuns: 5 }] as const) {
      await manager.delete('every5');
      await every5(misfire);
      const scheduler = new Scheduler({ store, writer: store, registry, clock });
      const start = clock.now().getTime();
      for (let s = 0; s < 20 * 60; s += 1) {
        clock.advance(1000);
        await scheduler.tick();
      }
      const times = (await store.listJobs({ limit: 1000 }))
        .filter((j) => j.createdAt.getTime() > start)
        .map((j) => j.runAt.getTime() - start);
      expect(times).to.deep.equal([5, 10, 15, 20].map((m) => m * MINUTE));
    }
  });

  it('skip (the default): after an outage fires once, for the latest missed time, and logs what it dropped', async function () {
    const rec = await every5();
    expect(rec.misfire).to.deep.equal({ kind: 'skip' });
    const { logger, lines } = recordingLogger();
    clock.advance(62 * MINUTE); // down from 12:00 to 13:02: 12 fire times missed
    expect(await new Scheduler({ store, writer: store, registry, clock, logger }).tick()).to.equal(1);
    expect(await fired()).to.deep.equal([at(60)]);
    const s = (await store.getSchedule('every5'))!;
    expect(s.lastFireAt!.toISOString()).to.equal(at(60));
    expect(s.nextFireAt!.toISOString()).to.equal(at(65));
    expect(lines.some((l) => l.level === 'info' && (l.obj as { dropped?: number }).dropped === 11)).to.equal(true);
  });

  it('catchUp: fires every missed time, oldest first, claimable in fire-time order', async function () {
    await every5({ kind: 'catchUp', maxRuns: 100 });
    clock.advance(62 * MINUTE);
    expect(await new Scheduler({ store, writer: store, registry, clock }).tick()).to.equal(12);
    const expected = [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60].map(at);
    expect(await fired()).to.deep.equal(expected);
    const claimed = await store.claimJobs({ queues: ['default'], limit: 100, owner: 't', leaseMs: MINUTE });
    expect(claimed.map((j) => j.runAt.toISOString())).to.deep.equal(expected);
    expect((await store.getSchedule('every5'))!.nextFireAt!.toISOString()).to.equal(at(65));
  });

  it('catchUp: bounded by maxRuns, keeping the newest', async function () {
    await every5({ kind: 'catchUp', maxRuns: 3 });
    clock.advance(62 * MINUTE);
    expect(await new Scheduler({ store, writer: store, registry, clock }).tick()).to.equal(3);
    expect(await fired()).to.deep.equal([at(50), at(55), at(60)]);
    // Nothing left behind to fire later.
    clock.advance(1000);
    expect(await new Scheduler({ store, writer: store, registry, clock }).tick()).to.equal(0);
  });

  it('catchUp over a very long outage of a per-second schedule fires only the newest maxRuns', async function () {
    await manager.create(
      'secs',
      { target: 'sweep', method: 'run', args: ['s'] },
      {
        cron: '* * * * * *',
        misfire: { kind: 'catchUp', maxRuns: 4 },
      },
    );
    clock.advance(2 * 24 * 60 * MINUTE + 500);
    expect(await new Scheduler({ store, writer: store, registry, clock }).tick()).to.equal(4);
    const end = T0 + 2 * 24 * 60 * MINUTE;
    expect(await fired()).to.deep.equal([3, 2, 1, 0].map((s) => new Date(end - s * 1000).toISOString()));
  });

  it('@once fires exactly once, even when its time passed while nothing ran, and never again', async function () {
    await manager.create('once', Sweep, (j) => j.run('once'), { cron: '@once', at: new Date(T0 + 10 * MINUTE) });
    const scheduler = new Scheduler({ store, writer: store, registry, clock });
    clock.advance(9 * MINUTE);
    expect(await scheduler.tick()).to.equal(0);
    clock.advance(300 * MINUTE);
    expect(await scheduler.tick()).to.equal(1);
    clock.advance(300 * MINUTE);
    expect(await scheduler.tick()).to.equal(0);
    expect(await fired()).to.deep.equal([at(10)]);
    const s = (await store.getSchedule('once'))!;
    expect(s.nextFireAt).to.equal(null);
    expect(s.lastFireAt!.toISOString()).to.equal(at(10));
  });
});
