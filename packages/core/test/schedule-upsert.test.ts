import { expect } from 'chai';
import { MemoryJobStore } from '../src/memory/memory-store.js';
import { JobRegistry } from '../src/registry.js';
import { ScheduleManager } from '../src/schedule/schedule-manager.js';
import { Scheduler } from '../src/schedule/scheduler.js';
import { TestClock } from '../src/testing/test-clock.js';
import { scheduleFixture } from './schedule-fixture.js';

class BeatJob {
  async beat(_who: string): Promise<void> {}
}
const registry = new JobRegistry().register('beat', BeatJob);
const MINUTE = 60_000;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

describe('schedule: ScheduleManager.upsert (idempotent create-or-replace)', function () {
  let clock: TestClock;
  let store: MemoryJobStore;
  let manager: ScheduleManager;
  let scheduler: Scheduler;

  beforeEach(function () {
    ({ clock, store, manager, scheduler } = scheduleFixture(registry, T0));
  });
  afterEach(() => store.close());

  it('creates when absent, and the same call again (a restart) neither throws nor writes', async function () {
    const first = await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: '*/5 * * * *' });
    clock.advance(MINUTE);
    const again = await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: '*/5 * * * *' });
    expect(again.version).to.equal(first.version);
    expect(again.nextFireAt!.toISOString()).to.equal(first.nextFireAt!.toISOString());
    expect((await manager.list()).length).to.equal(1);
  });

  it('same timing: keeps nextFireAt and lastFireAt (no skipped or repeated firing), takes the new payload', async function () {
    await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: '*/5 * * * *' });
    clock.advance(5 * MINUTE);
    await scheduler.tick();
    const fired = (await manager.get('hb'))!;
    expect(fired.lastFireAt).to.not.equal(null);
    const after = await manager.upsert('hb', BeatJob, (j) => j.beat('b'), { cron: '*/5 * * * *', queue: 'other' });
    expect(after.nextFireAt!.toISOString()).to.equal(fired.nextFireAt!.toISOString());
    expect(after.lastFireAt!.toISOString()).to.equal(fired.lastFireAt!.toISOString());
    expect(after.queue).to.equal('other');
    expect(after.args).to.not.equal(fired.args);
  });

  it('new timing: nextFireAt is recomputed from now', async function () {
    await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: '0 * * * *' });
    clock.advance(MINUTE);
    const after = await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: '*/10 * * * *' });
    expect(after.nextFireAt!.toISOString()).to.equal(new Date(T0 + 10 * MINUTE).toISOString());
  });

  it('keeps the paused state unless paused is given; paused: false resumes', async function () {
    await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: '*/5 * * * *' });
    await manager.pause('hb');
    expect((await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: '*/5 * * * *' })).paused).to.equal(true);
    clock.advance(12 * MINUTE);
    const resumed = await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: '*/5 * * * *', paused: false });
    expect(resumed.paused).to.equal(false);
    expect(resumed.nextFireAt!.toISOString()).to.equal(new Date(T0 + 15 * MINUTE).toISOString());
  });

  it('refuses a bad definition with the same errors as create, and leaves the stored one as it was', async function () {
    const first = await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: '*/5 * * * *' });
    let error: unknown;
    try {
      await manager.upsert('hb', BeatJob, (j) => j.beat('a'), { cron: 'not a cron' });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(Error);
    expect((await manager.get('hb'))!.version).to.equal(first.version);
  });
});
